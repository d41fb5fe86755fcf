"""Exceptions shared by every stage.

Kept free of heavy imports: the Vulkan runtime imports this module without importing Triton.
Compile errors that come from kernel source derive from Triton's own exception types (see
jitspv/frontend), so code that catches ``triton.TritonError`` keeps working.
"""


class JitspvError(Exception):
    """Base class of jitspv's own errors."""


class VulkanError(JitspvError):
    """A Vulkan call returned an error code: names the call and the VkResult."""

    def __init__(self, call: str, result: int, result_name: str, detail: str = ""):
        self.call = call
        self.result = result
        self.result_name = result_name
        msg = f"{call} failed with {result_name} ({result})"
        super().__init__(msg + (f": {detail}" if detail else ""))


class DeviceNotSupported(JitspvError):
    """The chosen Vulkan device lacks something jitspv cannot work without."""


class OutOfResources(JitspvError):
    """A kernel needs more of a device resource (shared memory, push constants, ...) than it has.

    Same fields as ``triton.runtime.errors.OutOfResources``: ``required``, ``limit``, ``name``.
    """

    def __init__(self, required: int, limit: int, name: str):
        self.required = required
        self.limit = limit
        self.name = name
        # Exception's own __init__, not super(): the lowering's subclass also derives from Triton's
        # OutOfResources, whose __init__ takes these three fields.
        Exception.__init__(self, f"out of resource: {name}, required: {required}, hardware limit: {limit}")


class OutOfMemoryError(JitspvError, MemoryError):
    """A device allocation failed: larger than one allocation may be (``limit`` is that limit), or
    the device is out of memory (``limit`` is None). ``requested``, ``allocated`` (bytes in live
    arrays) and ``reserved`` (bytes the allocator holds) are in bytes."""

    def __init__(self, message: str, requested: int, limit, allocated: int, reserved: int):
        self.requested, self.limit, self.allocated, self.reserved = requested, limit, allocated, reserved
        super().__init__(message)


class InvalidSpirv(JitspvError):
    """A generated SPIR-V module failed spirv-val or was rejected by the driver."""
