"""Compute pipelines from SPIR-V, the persistent VkPipelineCache, and the launch path.

A pipeline has no descriptor sets: every buffer reaches the shader as a device address, so its
layout is one push-constant range. Arguments too large for push constants go through a small device
buffer written in stream order (vkCmdUpdateBuffer) whose address is then the only push constant.

Grids larger than maxComputeWorkGroupCount are split into several vkCmdDispatchBase calls, so
WorkgroupId stays global; NumWorkgroups is then per piece and must not be relied on (the lowering
passes the grid in the argument block instead).
"""
from __future__ import annotations

import contextlib
import os
import struct
import tempfile

from jitspv.errors import InvalidSpirv, OutOfResources, VulkanError
from jitspv.vk.binding import NULL, check, ffi, lib, result_name

_SPIRV_MAGIC = 0x07230203
_CACHE_MAGIC = b"JSPVPC01"




class PipelineCache:
    """A VkPipelineCache loaded from and saved to $JITSPV_CACHE_DIR, keyed by device UUID + driver version.

    File = magic + sha256(data) + data, replaced atomically; a corrupt or truncated file is ignored.
    The directory is the kernel cache's root, trusted and created as jitspv/frontend/cache.py says;
    where it cannot be used or written, the pipeline cache lives in memory only (one warning).
    """

    def __init__(self, device):
        vk = lib()
        self.device = device
        p = device.properties
        self.file_name = f"vkpipelines-{p.device_uuid.hex()}-{p.driver_version:x}.bin"
        initial = self._load()
        data = ffi.from_buffer(initial) if initial else NULL
        info = ffi.new("VkPipelineCacheCreateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO, "initialDataSize": len(initial),
            "pInitialData": data})
        handle = ffi.new("VkPipelineCache*")
        check("vkCreatePipelineCache", vk.vkCreatePipelineCache(device.handle, info, NULL, handle))
        self.handle = handle[0]
        self.dirty = False

    @property
    def path(self) -> str:
        from jitspv.frontend.cache import cache_dir
        return os.path.join(cache_dir(), self.file_name)

    def _load(self) -> bytes:
        import hashlib  # ~3 ms: only when a pipeline is made
        from jitspv.frontend.cache import trusted_root
        root = trusted_root(create=False)
        if root is None:
            return b""
        try:
            with open(root / self.file_name, "rb") as f:
                blob = f.read()
        except OSError:
            return b""
        magic, digest, data = blob[:8], blob[8:40], blob[40:]
        if magic != _CACHE_MAGIC or hashlib.sha256(data).digest() != digest or len(data) < 32:
            return b""
        # The Vulkan header of the data: length 32, version 1, vendor, device, pipelineCacheUUID.
        length, version, vendor, device_id = struct.unpack_from("<4I", data)
        p = self.device.properties
        if (length, version, vendor, device_id) != (32, 1, p.vendor_id, p.device_id) \
                or data[16:32] != p.pipeline_cache_uuid:
            return b""
        return data

    def save(self):
        if not self.dirty:
            return
        vk = lib()
        size = ffi.new("size_t*")
        check("vkGetPipelineCacheData", vk.vkGetPipelineCacheData(self.device.handle, self.handle, size, NULL))
        buf = ffi.new("char[]", size[0])
        check("vkGetPipelineCacheData", vk.vkGetPipelineCacheData(self.device.handle, self.handle, size, buf))
        data = ffi.buffer(buf, size[0])[:]
        import hashlib
        from jitspv.frontend.cache import trusted_root, warn_once
        self.dirty = False
        root = trusted_root(create=True)
        if root is None:
            return
        try:
            fd, tmp = tempfile.mkstemp(dir=root, prefix=".vkpipelines-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(_CACHE_MAGIC + hashlib.sha256(data).digest() + data)
                os.replace(tmp, root / self.file_name)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as e:   # read-only file system, full disk, the directory removed meanwhile
            warn_once(root, f"writing the pipeline cache failed ({e.strerror or e})")


class Pipeline:
    """A compute pipeline: `launch(grid, args)` records a dispatch with the packed argument bytes.

    device: the Device it runs on. push_constant_size: bytes of the argument block. Above the device's maxPushConstantsSize this raises
    OutOfResources unless args_in_buffer=True, in which case the shader reads its arguments through
    one uint64 push constant: the device address of a buffer holding the argument block.
    """

    def __init__(self, device, spirv: bytes, push_constant_size: int, entry: str = "main", args_in_buffer: bool = False,
                 local_size=None, validated: bool = False, internal_representations: bool = False):
        vk = lib()
        self.device = device
        self.arg_size = push_constant_size
        self.args_in_buffer = args_in_buffer
        limit = device.properties.max_push_constants_size
        range_size = 8 if args_in_buffer else (push_constant_size + 3) // 4 * 4
        if range_size > limit:
            raise OutOfResources(range_size, limit, "push constants")
        self.push_size = range_size
        spirv = bytes(spirv)
        if len(spirv) % 4 or len(spirv) < 20 or struct.unpack_from("<I", spirv)[0] != _SPIRV_MAGIC:
            raise InvalidSpirv(f"not a SPIR-V module ({len(spirv)} bytes; needs a multiple of 4 and the magic number)")
        if not validated:   # JITSPV_SPIRV_VAL=1: every module, also those built by hand
            from jitspv.lower.spirv.tools import spirv_val_mode, validate
            if spirv_val_mode() == "always":
                validate(spirv)
        dev = device.handle
        code = ffi.from_buffer("uint32_t[]", spirv)
        info = ffi.new("VkShaderModuleCreateInfo*", {"sType": vk.VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                                    "codeSize": len(spirv), "pCode": code})
        module = ffi.new("VkShaderModule*")
        try:
            check("vkCreateShaderModule", vk.vkCreateShaderModule(dev, info, NULL, module))
        except VulkanError as e:
            raise InvalidSpirv(f"the driver rejected the SPIR-V module: {e}") from e
        try:
            push_range = ffi.new("VkPushConstantRange*", {"stageFlags": vk.VK_SHADER_STAGE_COMPUTE_BIT, "offset": 0,
                                                         "size": range_size})
            layout_info = ffi.new("VkPipelineLayoutCreateInfo*", {
                "sType": vk.VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                "pushConstantRangeCount": 1 if range_size else 0, "pPushConstantRanges": push_range})
            layout = ffi.new("VkPipelineLayout*")
            check("vkCreatePipelineLayout", vk.vkCreatePipelineLayout(dev, layout_info, NULL, layout))
            self.layout = layout[0]
            entry_name = ffi.new("char[]", entry.encode())
            stage_next, stage_flags = _subgroup_size_control(device, local_size)
            flags = vk.VK_PIPELINE_CREATE_DISPATCH_BASE_BIT
            if device.features.pipeline_statistics:
                flags |= vk.VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR
                if internal_representations:
                    flags |= vk.VK_PIPELINE_CREATE_CAPTURE_INTERNAL_REPRESENTATIONS_BIT_KHR
            self._captured = flags
            create = ffi.new("VkComputePipelineCreateInfo*", {
                "sType": vk.VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
                "flags": flags,
                "stage": {"sType": vk.VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, "pNext": stage_next,
                          "flags": stage_flags, "stage": vk.VK_SHADER_STAGE_COMPUTE_BIT, "module": module[0],
                          "pName": entry_name},
                "layout": self.layout, "basePipelineIndex": -1})
            pipeline = ffi.new("VkPipeline*")
            result = vk.vkCreateComputePipelines(dev, device.pipeline_cache.handle, 1, create, NULL, pipeline)
            if result < 0:
                vk.vkDestroyPipelineLayout(dev, self.layout, NULL)
                self.layout = None
                error = VulkanError("vkCreateComputePipelines", result, result_name(result))
                raise InvalidSpirv(f"the driver rejected the SPIR-V module: {error}")
            self.handle = pipeline[0]
        finally:
            vk.vkDestroyShaderModule(dev, module[0], NULL)
        device.pipeline_cache.dirty = True
        self._stream = device.stream
        self._fn = device.fn
        self._bind_point = vk.VK_PIPELINE_BIND_POINT_COMPUTE
        self._stage = vk.VK_SHADER_STAGE_COMPUTE_BIT
        self._max_groups = device.properties.max_compute_workgroup_count

    def launch(self, grid, args: bytes = b""):
        """Records one dispatch of grid=(gx, gy, gz) workgroups with the packed argument block `args`."""
        if type(grid) is int:
            gx, gy, gz = grid, 1, 1
        else:
            gx, gy, gz = (tuple(grid) + (1, 1))[:3]
        if gx <= 0 or gy <= 0 or gz <= 0:
            return
        stream = self._stream
        fn = self._fn
        if not self.args_in_buffer and len(args) > self.push_size:
            raise ValueError(f"argument block of {len(args)} bytes exceeds the pipeline's {self.push_size}")
        with stream.lock:
            block = self._arguments_in_buffer(args) if self.args_in_buffer else None
            if block is not None:
                args = struct.pack("<Q", block.address)
            cmd = stream.command_buffer()
            if stream.bound_pipeline is not self:
                fn.vkCmdBindPipeline(cmd, self._bind_point, self.handle)
                stream.bound_pipeline = self
            if args:
                if len(args) & 3:
                    args += bytes(4 - (len(args) & 3))
                fn.vkCmdPushConstants(cmd, self.layout, self._stage, 0, len(args), args)
            mx, my, mz = self._max_groups
            if gx <= mx and gy <= my and gz <= mz:
                fn.vkCmdDispatch(cmd, gx, gy, gz)
            else:
                for z in range(0, gz, mz):
                    for y in range(0, gy, my):
                        for x in range(0, gx, mx):
                            fn.vkCmdDispatchBase(cmd, x, y, z, min(mx, gx - x), min(my, gy - y), min(mz, gz - z))
            stream.recorded()
            if block is not None:
                block.free()  # reused only by work recorded after this dispatch (stream order)

    def statistics(self) -> dict:
        """The driver's statistics of the compiled shader, {name: value} (NVIDIA: "Register Count",
        ...; names and units are the driver's), or {} where they were not captured
        (JITSPV_PIPELINE_STATS unset, or the device lacks VK_KHR_pipeline_executable_properties)."""
        if not self._captured & lib().VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR:
            return {}
        out = {}
        for stat in self._executable_query("vkGetPipelineExecutableStatisticsKHR", "VkPipelineExecutableStatisticKHR",
                                           lib().VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR):
            out[ffi.string(stat.name).decode()] = getattr(stat.value, _STATISTIC_MEMBERS[stat.format])
        return out

    def internal_representations(self) -> dict:
        """The driver's text forms of the compiled shader, {name: text} ({} where not captured: see
        statistics; also needs internal_representations=True at creation)."""
        vk = lib()
        if not self._captured & vk.VK_PIPELINE_CREATE_CAPTURE_INTERNAL_REPRESENTATIONS_BIT_KHR:
            return {}
        name = "vkGetPipelineExecutableInternalRepresentationsKHR"
        stype = vk.VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INTERNAL_REPRESENTATION_KHR
        sized = self._executable_query(name, "VkPipelineExecutableInternalRepresentationKHR", stype)
        texts = [ffi.new("char[]", r.dataSize) if r.isText else None for r in sized]
        for r, text in zip(sized, texts):   # second call: the driver fills the buffers
            r.pData = text if text is not None else NULL
            r.dataSize = len(text) if text is not None else 0
        self._executable_query(name, "VkPipelineExecutableInternalRepresentationKHR", stype, sized)
        return {ffi.string(r.name).decode(): ffi.string(text).decode(errors="replace")
                for r, text in zip(sized, texts) if text is not None}

    def _executable_query(self, name, ctype, stype, filled=None):
        """The records `name` returns for the pipeline's one executable (a compute pipeline has one),
        as a cdata array of `ctype`; `filled`: an array of them to pass again."""
        vk = lib()
        get = ffi.cast(f"PFN_{name}", vk.vkGetDeviceProcAddr(self.device.handle, name.encode()))
        info = ffi.new("VkPipelineExecutableInfoKHR*", {"sType": vk.VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR,
                                                         "pipeline": self.handle, "executableIndex": 0})
        count = ffi.new("uint32_t*", len(filled) if filled is not None else 0)
        if filled is None:
            check(name, get(self.device.handle, info, count, NULL))
            filled = ffi.new(f"{ctype}[]", count[0])
            for record in filled:
                record.sType = stype
        check(name, get(self.device.handle, info, count, filled))
        return filled

    def _arguments_in_buffer(self, args: bytes):
        """A device block holding the argument block, written in stream order; the caller frees it."""
        if len(args) > 65536:
            raise OutOfResources(len(args), 65536, "argument block")
        padded = args + bytes(-len(args) % 4)
        block = self.device.memory.allocate(len(padded), track=False)
        self._stream.update_buffer(block.buffer, block.offset, padded)
        return block

    def __repr__(self):
        return f"<jitspv Pipeline push={self.push_size}B args_in_buffer={self.args_in_buffer}>"


# VkPipelineExecutableStatisticFormatKHR -> the member of the value union holding it.
_STATISTIC_MEMBERS = {0: "b32", 1: "i64", 2: "u64", 3: "f64"}


def _subgroup_size_control(device, local_size):
    """Kernels are compiled for the device's default subgroup size (their reductions shuffle within
    it, and invocation indices are numbered subgroup by subgroup): where the device lets a pipeline
    choose (VK_EXT_subgroup_size_control, core in 1.3), require exactly that size and full
    subgroups. Returns (pNext, stage flags); the caller keeps pNext alive while creating."""
    vk = lib()
    props, feats = device.properties, device.features
    if local_size is None or not feats.subgroup_size_control \
            or not props.required_subgroup_size_stages & vk.VK_SHADER_STAGE_COMPUTE_BIT:
        return NULL, 0
    size = props.subgroup_size
    invocations = local_size[0] * local_size[1] * local_size[2]
    if invocations > props.max_compute_workgroup_subgroups * size:
        return NULL, 0
    required = ffi.new("VkPipelineShaderStageRequiredSubgroupSizeCreateInfo*", {
        "sType": vk.VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO,
        "requiredSubgroupSize": size})
    flags = 0
    if feats.compute_full_subgroups and local_size[0] % size == 0:
        flags = vk.VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT
    return required, flags
