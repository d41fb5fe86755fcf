"""Vulkan runtime: cffi binding, device choice, memory, arrays, pipelines, command stream, timestamps."""
from jitspv.vk.device import (  # noqa: F401
    Device, get_device, synchronize, validation_messages, memory_stats, memory_allocated, max_memory_allocated,
    memory_reserved, reset_peak_memory_stats, empty_cache,
)
from jitspv.vk.pipeline import Pipeline  # noqa: F401
from jitspv.vk.stream import Event  # noqa: F401
from jitspv.vk.array import (  # noqa: F401
    Array, asarray, empty, empty_like, full, full_like, zeros, zeros_like,
)
