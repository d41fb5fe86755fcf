"""jitspv: run Triton-language kernels as SPIR-V compute shaders on any Vulkan 1.2+ device."""

__version__ = "0.1.0"

from jitspv.errors import JitspvError, VulkanError, OutOfResources, InvalidSpirv, DeviceNotSupported  # noqa: F401
