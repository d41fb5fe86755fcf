"""What the frontend needs from the Vulkan runtime (jitspv/vk), in one place.

The device's `Target` (facts that change generated code), pipelines for compiled kernels, the
rate of the device's shader clock, and byte copies between host memory and device arrays for
host-array arguments.
"""
from __future__ import annotations

import functools
import re
import struct
import time

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
        max_workgroup_invocations=min(props.max_compute_workgroup_invocations, props.max_compute_workgroup_size[0]),
        has_float16=feats.float16 and feats.storage_buffer_16bit,
        has_float64=feats.float64,
        # 8/16-bit element types are only usable when they can also be loaded and stored.
        has_int8=feats.int8 and feats.storage_buffer_8bit,
        has_int16=feats.int16 and feats.storage_buffer_16bit,
        has_float32_atomic_add=feats.float32_atomic_add,
        has_float64_atomic_add=feats.float64_atomic_add,
        has_int64_atomics=feats.int64_atomics,
        has_device_clock=feats.device_clock,
        vulkan_memory_model=feats.vulkan_memory_model and feats.vulkan_memory_model_device_scope,
        denorm_preserve_widths=props.denorm_preserve_widths,
        loop_pass_limit=loop_pass_limit(props.driver_name, props.driver_info),
        cooperative_matrix_shapes=props.cooperative_matrix_shapes,
    )


def loop_pass_limit(driver_name: str, driver_info: str) -> int:
    """Gallivm's loop limiter: 65535 passes of all loops of a shader invocation together, then every
    loop exits. Measured on lavapipe of Mesa 22.3.6 (Debian 12); gone in 25.0.7 (bookworm-backports).
    Versions in between are assumed to have it (detecting costs a counter per loop pass)."""
    found = re.match(r"Mesa (\d+)\.(\d+)", driver_info)
    if driver_name != "llvmpipe" or not found:
        return 0
    return 65535 if (int(found.group(1)), int(found.group(2))) < (25, 0) else 0


def make_pipeline(lowered):
    from jitspv.vk.device import get_device
    from jitspv.vk.pipeline import Pipeline
    from jitspv.frontend.compiled import dump_dir
    return Pipeline(get_device(), lowered.spirv, lowered.arg_block_size, entry=lowered.entry, args_in_buffer=lowered.args_in_buffer,
                    local_size=lowered.local_size, validated=bool(lowered.spirv_val),
                    internal_representations=dump_dir() is not None)


@functools.cache
def device_clock_ticks_per_ns() -> float:
    """Ticks per nanosecond of the default device's shader clock at Device scope (tl.atomic_poll's
    timeout_ns): Vulkan leaves its unit to the driver, so it is measured once per process, two
    launches reading it 20 ms of host time apart, each placed at the middle of its launch-to-sync
    interval (off by at most half that interval: ~1% on a GPU, a few % on lavapipe)."""
    from jitspv.lower.spirv.samples import device_clock
    from jitspv.vk.array import empty
    from jitspv.vk.device import get_device
    from jitspv.vk.pipeline import Pipeline
    device = get_device()
    pipe = Pipeline(device, device_clock(), 8, local_size=(1, 1, 1))
    out = empty(1, np.uint64)
    args = struct.pack("<Q", out.data_ptr())

    def sample():
        before = time.perf_counter_ns()
        pipe.launch((1, 1, 1), args)
        device.synchronize()
        after = time.perf_counter_ns()
        return int(out.numpy()[0]), (before + after) / 2
    sample()   # the first launch also creates the pipeline's state: not timed
    ticks0, host0 = sample()
    time.sleep(0.02)
    ticks1, host1 = sample()
    return max(ticks1 - ticks0, 1) / (host1 - host0)


def upload_bytes(host: np.ndarray, offset: int = 0):
    """A device array holding a copy of the uint8 host array `host`, starting `offset` (< 256)
    bytes into its allocation (allocations are 256-byte aligned: this sets the address modulo 16)."""
    from jitspv.vk.array import empty
    device = empty(offset + max(host.size, 16), np.uint8)
    device.device.memory.write(device._alloc, offset, host.ctypes.data, host.size, fresh=True)
    return device[offset:offset + host.size] if host.size else device


def import_host(lo: int, hi: int, owners: list):
    """The host range [lo, hi) imported in place for the device (a vk.memory.HostImport), or None
    where it cannot be (then host arrays are copied)."""
    from jitspv.vk.device import get_device
    return get_device().memory.import_host(lo, hi, owners)


def synchronize() -> None:
    from jitspv.vk.device import get_device
    get_device().synchronize()


def download_bytes(device, host: np.ndarray) -> None:
    """Copy device array `device` back into the uint8 host array `host` (waits for the device)."""
    if host.size:
        host[...] = device.numpy()[: host.size]
