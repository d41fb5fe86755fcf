"""The Vulkan library through cffi (ABI mode, prebuilt type tables from `_vkffi`) and result checking.

`lib()` opens libvulkan.so.1 on first use, so importing jitspv on a machine without a Vulkan loader
still works for compile-only use. Device-level functions on the launch path are fetched with
vkGetDeviceProcAddr (`DeviceFunctions`), which skips the loader's dispatch trampoline.
"""
from __future__ import annotations

import os

from jitspv.errors import VulkanError
from jitspv.vk._vkffi import ffi

NULL = ffi.NULL
_lib = None
_result_names: dict[int, str] = {}


def lib():
    global _lib
    if _lib is None:
        name = os.environ.get("JITSPV_VULKAN_LIBRARY", "libvulkan.so.1")
        try:
            _lib = ffi.dlopen(name)
        except OSError as e:
            raise VulkanError("dlopen", -9, "VK_ERROR_INITIALIZATION_FAILED",
                              f"cannot load the Vulkan loader {name!r} ({e}); install libvulkan1") from e
    return _lib


def result_name(result: int) -> str:
    if not _result_names:
        for name in dir(lib()):
            if name.startswith(("VK_ERROR_", "VK_SUCCESS", "VK_NOT_READY", "VK_TIMEOUT", "VK_INCOMPLETE",
                                "VK_PIPELINE_COMPILE_REQUIRED")):
                _result_names.setdefault(getattr(_lib, name), name)
    return _result_names.get(result, f"VkResult({result})")


def check(call: str, result: int) -> int:
    """Raises VulkanError for negative VkResults; returns non-negative ones (VK_TIMEOUT, VK_NOT_READY...)."""
    if result < 0:
        raise VulkanError(call, result, result_name(result))
    return result


def instance_function(instance, name: str):
    """An instance-level extension function (not exported by the loader), typed by its PFN."""
    ptr = lib().vkGetInstanceProcAddr(instance, name.encode())
    if ptr == NULL:
        raise VulkanError("vkGetInstanceProcAddr", -7, "VK_ERROR_EXTENSION_NOT_PRESENT", name)
    return ffi.cast(f"PFN_{name}", ptr)


class DeviceFunctions:
    """Device-level entry points resolved for one VkDevice (attribute per Vulkan function)."""

    NAMES = (
        "vkCmdBindPipeline", "vkCmdPushConstants", "vkCmdDispatch", "vkCmdDispatchBase", "vkCmdPipelineBarrier",
        "vkCmdCopyBuffer", "vkCmdFillBuffer", "vkCmdUpdateBuffer", "vkCmdWriteTimestamp", "vkCmdResetQueryPool",
        "vkBeginCommandBuffer", "vkEndCommandBuffer", "vkQueueSubmit", "vkWaitForFences", "vkResetFences",
        "vkGetFenceStatus", "vkGetQueryPoolResults", "vkAllocateMemory",
    )

    def __init__(self, device):
        get = lib().vkGetDeviceProcAddr
        for name in self.NAMES:
            ptr = get(device, name.encode())
            # Fall back to the loader's export if the driver does not hand out this entry point.
            setattr(self, name, ffi.cast(f"PFN_{name}", ptr) if ptr != NULL else getattr(lib(), name))
