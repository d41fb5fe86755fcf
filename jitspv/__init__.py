"""jitspv: run Triton-language kernels as SPIR-V compute shaders on any Vulkan 1.2+ device."""

__version__ = "0.1.0"

from jitspv.errors import (  # noqa: F401
    JitspvError, VulkanError, OutOfResources, OutOfMemoryError, InvalidSpirv, DeviceNotSupported,
)

# Names load on first use: the JIT imports Triton (~0.2 s), the Vulkan runtime numpy and the cffi
# tables; `import jitspv` alone stays free, which matters because `import triton` imports
# jitspv.triton_backend (registered as a Triton backend) in every process.
_RUNTIME_NAMES = ("Array", "asarray", "empty", "empty_like", "full", "full_like", "zeros", "zeros_like",
                  "synchronize", "validation_messages", "memory_stats", "memory_allocated",
                  "max_memory_allocated", "memory_reserved", "reset_peak_memory_stats", "empty_cache")
_LAZY_NAMES = {
    **{name: "jitspv.vk" for name in _RUNTIME_NAMES},
    "kernel": "jitspv.frontend.jit", "jit": "jitspv.frontend.jit", "Kernel": "jitspv.frontend.jit",
    "cdiv": "jitspv.frontend.jit", "next_power_of_2": "jitspv.frontend.jit",
    "CompiledKernel": "jitspv.frontend.compiled", "DeviceLoopLimitError": "jitspv.frontend.compiled",
    "autotune": "jitspv.frontend.autotune", "Config": "jitspv.frontend.autotune",
    "heuristics": "jitspv.frontend.autotune",
}


def __getattr__(name):
    if name in _LAZY_NAMES:
        import importlib
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value   # later uses are plain attribute reads (jitspv.synchronize per launch)
        return value
    raise AttributeError(f"module 'jitspv' has no attribute {name!r}")
