"""What the frontend needs from the Vulkan runtime (jitspv/vk), in one place.

The device's `Target` (facts that change generated code), pipelines for compiled kernels, and
byte copies between host memory and device arrays for host-array arguments.
"""
from __future__ import annotations

import functools

import numpy as np

from jitspv.lower.kernel import Target


@functools.cache
def device_array_type():
    from jitspv.vk import Array
    return Array


@functools.cache
def current_target() -> Target:
    """The Target of the device jitspv launches on (computed once per process)."""
    from jitspv.vk import get_device
    return target_for_device(get_device())


def target_for_device(device) -> Target:
    props, feats = device.properties, device.features
    return Target(
        subgroup_size=props.subgroup_size,
        max_shared_memory=props.max_shared_memory,
        max_push_constants=props.max_push_constants_size,
        max_workgroup_count=tuple(props.max_workgroup_count),
        has_int64=feats.shader_int64,
        has_float16=feats.shader_float16,
        has_float64=feats.shader_float64,
        has_int8=feats.shader_int8,
        has_int16=feats.shader_int16,
        has_float32_atomic_add=feats.shader_buffer_float32_atomic_add,
        has_float32_atomic_minmax=feats.shader_buffer_float32_atomic_min_max,
        has_float64_atomic_add=feats.shader_buffer_float64_atomic_add,
        has_int64_atomics=feats.shader_buffer_int64_atomics,
        vendor_id=props.vendor_id,
    )


def make_pipeline(lowered):
    from jitspv.vk import Pipeline
    return Pipeline(lowered.spirv, lowered.arg_block_size, local_size=lowered.local_size,
                    args_in_buffer=lowered.args_in_buffer, entry=lowered.entry)


def upload_bytes(host: np.ndarray):
    """A device array holding a copy of the uint8 host array `host`."""
    import jitspv.vk as vk
    return vk.asarray(host if host.size else np.zeros(16, np.uint8))


def download_bytes(device, host: np.ndarray) -> None:
    """Copy device array `device` back into the uint8 host array `host` (waits for the device)."""
    if host.size:
        host[...] = device.numpy()[: host.size]
