"""jitspv: run Triton-language kernels as SPIR-V compute shaders on any Vulkan 1.2+ device."""

__version__ = "0.1.0"

from jitspv.errors import (  # noqa: F401
    JitspvError, VulkanError, OutOfResources, OutOfMemoryError, InvalidSpirv, DeviceNotSupported,
)
from jitspv.vk import (  # noqa: F401  (the Vulkan runtime: numpy + prebuilt cffi tables, no C parsing)
    Array, asarray, empty, empty_like, full, full_like, zeros, zeros_like, synchronize, validation_messages,
    memory_stats, memory_allocated, max_memory_allocated, memory_reserved, reset_peak_memory_stats, empty_cache,
)

# The JIT imports Triton (~0.2 s), so its names load on first use: the runtime alone stays light.
_FRONTEND_NAMES = {
    "kernel": "jitspv.frontend.jit", "jit": "jitspv.frontend.jit", "Kernel": "jitspv.frontend.jit",
    "cdiv": "jitspv.frontend.jit", "next_power_of_2": "jitspv.frontend.jit",
    "CompiledKernel": "jitspv.frontend.compiled", "DeviceLoopLimitError": "jitspv.frontend.compiled",
    "autotune": "jitspv.frontend.autotune", "Config": "jitspv.frontend.autotune",
    "heuristics": "jitspv.frontend.autotune",
}


def __getattr__(name):
    if name in _FRONTEND_NAMES:
        import importlib
        return getattr(importlib.import_module(_FRONTEND_NAMES[name]), name)
    raise AttributeError(f"module 'jitspv' has no attribute {name!r}")
