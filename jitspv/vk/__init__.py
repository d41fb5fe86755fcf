"""Vulkan runtime: cffi binding, device choice, memory, arrays, pipelines, command stream, timestamps."""
from jitspv.vk.device import Device, get_device, synchronize, validation_messages  # noqa: F401
from jitspv.vk.pipeline import Pipeline  # noqa: F401
from jitspv.vk.stream import Event  # noqa: F401
from jitspv.vk.array import (  # noqa: F401
    Array, asarray, empty, empty_like, full, full_like, zeros, zeros_like,
)
