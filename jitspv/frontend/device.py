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
    from jitspv.vk.array import Array
    return Array


@functools.cache
def current_target() -> Target:
    """The Target of the device jitspv launches on (computed once per process)."""
    from jitspv.vk.device import get_device
    return target_for_device(get_device())


def target_for_device(device) -> Target:
    props, feats = device.properties, device.features
    return Target(
        subgroup_size=props.subgroup_size,
        max_shared_memory=props.max_compute_shared_memory_size,
        max_push_constants=props.max_push_constants_size,
        max_workgroup_count=tuple(props.max_compute_workgroup_count),
        has_int64=feats.int64,
        has_float16=feats.float16 and feats.storage_buffer_16bit,
        has_float64=feats.float64,
        # 8/16-bit element types are only usable when they can also be loaded and stored.
        has_int8=feats.int8 and feats.storage_buffer_8bit,
        has_int16=feats.int16 and feats.storage_buffer_16bit,
        has_float32_atomic_add=feats.float32_atomic_add,
        has_float32_atomic_minmax=feats.float32_atomic_minmax,
        has_float64_atomic_add=feats.float64_atomic_add,
        has_int64_atomics=feats.int64_atomics,
        vulkan_memory_model=feats.vulkan_memory_model and feats.vulkan_memory_model_device_scope,
        vendor_id=props.vendor_id,
    )


def make_pipeline(lowered):
    from jitspv.vk.pipeline import Pipeline
    return Pipeline(lowered.spirv, lowered.arg_block_size, entry=lowered.entry, args_in_buffer=lowered.args_in_buffer,
                    local_size=lowered.local_size)


def upload_bytes(host: np.ndarray, offset: int = 0):
    """A device array holding a copy of the uint8 host array `host`, starting `offset` (< 256)
    bytes into its allocation (allocations are 256-byte aligned: this sets the address modulo 16)."""
    from jitspv.vk.array import empty
    device = empty(offset + max(host.size, 16), np.uint8)
    device.device.memory.write(device._alloc, offset, host.ctypes.data, host.size, fresh=True)
    return device[offset:offset + host.size] if host.size else device


def download_bytes(device, host: np.ndarray) -> None:
    """Copy device array `device` back into the uint8 host array `host` (waits for the device)."""
    if host.size:
        host[...] = device.numpy()[: host.size]
