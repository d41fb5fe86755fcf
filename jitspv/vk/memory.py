"""Device memory: a caching sub-allocator over large VkDeviceMemory blocks, and host transfers.

Each block is one VkDeviceMemory (allocated with DEVICE_ADDRESS) with one VkBuffer bound over all of
it (STORAGE | TRANSFER_SRC | TRANSFER_DST | SHADER_DEVICE_ADDRESS), so a sub-allocation is
(block, offset) and its device address is the block's address + offset. Free space is a sorted list
of (offset, size) ranges per block, coalesced on release. Memory freed by the user returns to the
allocator at once for stream work, and for the host only after the GPU work recorded before the
free has completed (Block.busy_serial). One array is one range of one block, so no request may exceed
the device's maxMemoryAllocationSize (nor maxBufferSize, where reported); when the device runs out
of memory, the cached empty blocks are given back and the allocation retried once.

Threads: heap calls hold the device lock. An Allocation's __del__ may run on any thread (the
garbage collector's choice), possibly in the middle of a heap call of that thread: it only queues
its range, which the next heap call frees under the lock.

Host transfer mode, from the memory type chosen (DEVICE_LOCAL first):
  "mapped"        device memory is host-visible and cached (lavapipe, integrated GPUs): memcpy both ways
  "write_direct"  host-visible but uncached (NVIDIA resizable BAR): writes memcpy, reads via staging
  "staged"        not host-visible: both directions through a host staging buffer + vkCmdCopyBuffer
JITSPV_HOST_TRANSFER=staged|write_direct forces a slower mode (used by tests to cover those paths).

Host memory in place (VK_EXT_external_memory_host): `import_host` makes a VkDeviceMemory of the
pages holding a host range, with a buffer over it, so that a kernel reads and writes a host array
where it is. Only where the import lands in a DEVICE_LOCAL memory type (lavapipe, integrated GPUs):
on a discrete GPU imported memory is read across PCIe on every access, and a kernel that reads its
inputs many times (a matmul) would run far slower than on a device copy.
"""
from __future__ import annotations

import bisect
import os
from collections import deque

from jitspv.errors import OutOfMemoryError, VulkanError
from jitspv.vk.binding import NULL, check, ffi, lib

ALIGNMENT = 256
BLOCK_SIZE = 64 << 20
STAGING_BLOCK_SIZE = 16 << 20


def _round_up(n: int, k: int) -> int:
    return (n + k - 1) // k * k


def _size_text(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.2f} {unit} ({n} bytes)"
    return f"{n} bytes"


class _Exhausted(Exception):
    """vkAllocateMemory ran out of device or host memory (handled inside the heap)."""


class Block:
    __slots__ = ("memory", "buffer", "size", "address", "host_ptr", "free", "used", "busy_serial")

    def __init__(self, memory, buffer, size, address, host_ptr):
        self.memory, self.buffer, self.size, self.address = memory, buffer, size, address
        self.host_ptr = host_ptr  # int, or None when not mapped
        self.free = [(0, size)]   # sorted, coalesced
        self.used = 0
        # Freed ranges may still be read or written by recorded work up to this stream serial: later
        # stream work may reuse them at once (stream order), the host only after it completed.
        self.busy_serial = 0

    def take(self, size):
        """Offset of a first-fit range of `size` bytes, or None."""
        free = self.free
        for i, (off, length) in enumerate(free):
            if length >= size:
                if length == size:
                    del free[i]
                else:
                    free[i] = (off + size, length - size)
                self.used += size
                return off
        return None

    def give(self, offset, size):
        free = self.free
        i = bisect.bisect_left(free, (offset, 0))
        # Merge with the neighbours on each side when they touch.
        if i > 0 and free[i - 1][0] + free[i - 1][1] == offset:
            i -= 1
            offset, size = free[i][0], free[i][1] + size
            del free[i]
        if i < len(free) and offset + size == free[i][0]:
            size += free[i][1]
            del free[i]
        free.insert(i, (offset, size))


class Allocation:
    """A sub-allocation: `address` is its device address, `host_ptr` its mapped address or None."""

    __slots__ = ("heap", "block", "offset", "size", "address", "host_safe_serial", "__weakref__")

    def __init__(self, heap, block, offset, size):
        self.heap, self.block, self.offset, self.size = heap, block, offset, size
        self.address = block.address + offset
        self.host_safe_serial = block.busy_serial  # the host may touch it once this serial completed

    @property
    def buffer(self):
        return self.block.buffer

    @property
    def host_ptr(self):
        return None if self.block.host_ptr is None else self.block.host_ptr + self.offset

    def free(self):
        """Returns the memory at once: like a CUDA caching allocator on one stream, work recorded
        later runs after the work that used it (every command is followed by a barrier), so only the
        host must wait before touching a reused range (see host_safe_serial)."""
        heap = self.heap
        if heap is not None:
            heap.release(self)

    def __del__(self):
        if self.block is not None and self.heap is not None:
            self.heap.dropped.append((self.block, self.offset, self.size))  # atomic; freed by the heap


class Heap:
    """Sub-allocator over blocks of one memory type."""

    def __init__(self, device, type_index: int, mapped: bool, block_size: int):
        self.device = device
        self.lock = device.lock
        self.type_index = type_index
        self.mapped = mapped
        props = device.properties
        # One array is one range of one VkBuffer bound to one VkDeviceMemory.
        self.limit, self.limit_name = props.max_memory_allocation_size, "maxMemoryAllocationSize"
        if 0 < props.max_buffer_size < self.limit:
            self.limit, self.limit_name = props.max_buffer_size, "maxBufferSize"
        self.block_size = min(block_size, self.limit)
        # Empty blocks kept for reuse, in bytes: a wrapper that allocates its output per call (as
        # Triton's tutorials do) must not pay vkAllocateMemory per call (measured on the H100: a
        # 64 MB allocation per call made a 0.07 ms kernel cost 2.3 ms of device time).
        self.empty_cache_bytes = 4 * self.block_size
        self.blocks: list[Block] = []
        self.dropped = deque()   # (block, offset, size) of allocations collected without free()
        # Statistics (jitspv.memory_stats): bytes in live allocations, their number, peaks, retries.
        self.used_bytes = self.peak_used_bytes = self.peak_reserved_bytes = 0
        self.allocations = self.num_alloc_retries = self.num_ooms = 0
        # Device address -> requested bytes of every live allocation made with track=True (user
        # arrays, host arrays copied in): the table the bounds debug mode checks accesses against.
        self.live: dict[int, int] = {}

    @property
    def reserved_bytes(self) -> int:
        return sum(b.size for b in self.blocks)

    def allocate(self, nbytes: int, track: bool = True) -> Allocation:
        """track=False: jitspv's own buffers (debug records, bounds tables), absent from `live`."""
        size = _round_up(max(nbytes, 1), ALIGNMENT)
        if size > self.limit:
            raise self._too_large(nbytes, self.limit, self.limit_name)
        with self.lock:
            if self.dropped:
                self.free_dropped()
            for block in self.blocks:
                if block.size - block.used >= size:
                    off = block.take(size)
                    if off is not None:
                        return self._allocated(block, off, size, nbytes if track else 0)
            # Empty blocks (too small for this request, or the loop above would have used them)
            # go, once their last users completed, before the heap grows: blocks stay cached only
            # while they can serve.
            self.release_cached()
            block = self._grow(size, nbytes)
            return self._allocated(block, block.take(size), size, nbytes if track else 0)

    def _too_large(self, nbytes, limit, limit_name) -> OutOfMemoryError:
        return OutOfMemoryError(
            f"cannot allocate {_size_text(nbytes)} as one array on {self.device.name}: a single "
            f"allocation there holds at most {_size_text(limit)} ({limit_name})",
            requested=nbytes, limit=limit, allocated=self.used_bytes, reserved=self.reserved_bytes)

    def _allocated(self, block, offset, size, tracked_bytes) -> Allocation:
        if tracked_bytes:
            self.live[block.address + offset] = tracked_bytes
        self.used_bytes += size
        self.allocations += 1
        self.peak_used_bytes = max(self.peak_used_bytes, self.used_bytes)
        return Allocation(self, block, offset, size)

    def _grow(self, size: int, nbytes: int) -> Block:
        """A new block for a request of `size` bytes: the heap's growth size; when the device is out
        of memory, again after every cached empty block was given back, then just `size`."""
        grow = self.block_size
        while grow < size:
            grow *= 2
        grow = min(grow, self.limit)
        try:
            return self._new_block(grow)
        except _Exhausted:
            pass
        self.num_alloc_retries += 1
        self.device.memory.empty_cache()
        for attempt in (grow, size) if grow > size else (grow,):
            try:
                return self._new_block(attempt)
            except _Exhausted:
                pass
        self.num_ooms += 1
        self.free_dropped()
        raise OutOfMemoryError(
            f"out of device memory on {self.device.name}: tried to allocate {_size_text(nbytes)}; live "
            f"arrays hold {_size_text(self.used_bytes)}, jitspv has {_size_text(self.reserved_bytes)} "
            "reserved (its cached free blocks were given back and the allocation retried)",
            requested=nbytes, limit=None, allocated=self.used_bytes, reserved=self.reserved_bytes)

    def release(self, allocation: Allocation):
        with self.lock:
            block, allocation.block, allocation.heap = allocation.block, None, None
            if block is not None:   # not freed already (by another thread)
                self._give_back(block, allocation.offset, allocation.size)

    def free_dropped(self):
        """Frees the ranges of allocations collected without free() (call with the lock held)."""
        dropped = self.dropped
        while dropped:
            self._give_back(*dropped.popleft())

    def _give_back(self, block: Block, offset: int, size: int):
        self.live.pop(block.address + offset, None)
        block.busy_serial = max(block.busy_serial, self.device.stream.pending_serial)
        block.give(offset, size)
        block.used -= size
        self.used_bytes -= size
        self.allocations -= 1
        if block.used == 0 and sum(b.size for b in self.blocks if b.used == 0) > self.empty_cache_bytes:
            self._retire(block)

    def release_cached(self):
        """Retires every empty block (memory goes back to the driver once their last users completed)."""
        with self.lock:
            if self.dropped:
                self.free_dropped()
            for block in [b for b in self.blocks if b.used == 0]:
                self._retire(block)

    def _retire(self, block: Block):
        """Stop handing out `block`; destroy it once the work recorded so far (its last users) completed."""
        self.blocks.remove(block)
        self.device.stream.defer(lambda: self._destroy_block(block))

    def _new_block(self, size: int) -> Block:
        vk = lib()
        dev = self.device.handle
        buffer_info = ffi.new("VkBufferCreateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, "size": size, "usage": buffer_usage(),
            "sharingMode": vk.VK_SHARING_MODE_EXCLUSIVE})
        buffer = ffi.new("VkBuffer*")
        check("vkCreateBuffer", vk.vkCreateBuffer(dev, buffer_info, NULL, buffer))
        reqs = ffi.new("VkMemoryRequirements*")
        vk.vkGetBufferMemoryRequirements(dev, buffer[0], reqs)
        max_allocation = self.device.properties.max_memory_allocation_size
        if reqs.size > max_allocation:   # the driver padded the buffer past the limit
            vk.vkDestroyBuffer(dev, buffer[0], NULL)
            raise self._too_large(reqs.size, max_allocation, "maxMemoryAllocationSize")
        flags = ffi.new("VkMemoryAllocateFlagsInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO, "flags": vk.VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT})
        alloc_info = ffi.new("VkMemoryAllocateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, "pNext": flags, "allocationSize": reqs.size,
            "memoryTypeIndex": self.type_index})
        memory = ffi.new("VkDeviceMemory*")
        result = self.device.fn.vkAllocateMemory(dev, alloc_info, NULL, memory)
        if result < 0:
            vk.vkDestroyBuffer(dev, buffer[0], NULL)
            if result in (vk.VK_ERROR_OUT_OF_DEVICE_MEMORY, vk.VK_ERROR_OUT_OF_HOST_MEMORY):
                raise _Exhausted(result)
            check("vkAllocateMemory", result)
        try:
            check("vkBindBufferMemory", vk.vkBindBufferMemory(dev, buffer[0], memory[0], 0))
            address_info = ffi.new("VkBufferDeviceAddressInfo*", {
                "sType": vk.VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, "buffer": buffer[0]})
            address = vk.vkGetBufferDeviceAddress(dev, address_info)
            host_ptr = None
            if self.mapped:
                ptr = ffi.new("void**")
                check("vkMapMemory", vk.vkMapMemory(dev, memory[0], 0, reqs.size, 0, ptr))
                host_ptr = int(ffi.cast("uintptr_t", ptr[0]))
        except VulkanError:
            vk.vkDestroyBuffer(dev, buffer[0], NULL)
            vk.vkFreeMemory(dev, memory[0], NULL)
            raise
        block = Block(memory[0], buffer[0], size, address, host_ptr)
        self.blocks.append(block)
        self.peak_reserved_bytes = max(self.peak_reserved_bytes, self.reserved_bytes)
        return block

    def _destroy_block(self, block: Block):
        vk = lib()
        vk.vkDestroyBuffer(self.device.handle, block.buffer, NULL)
        vk.vkFreeMemory(self.device.handle, block.memory, NULL)  # implicitly unmaps


class HostImport:
    """Host memory [lo, hi) imported for the device: `address` is the device address of byte lo,
    `offset` where byte lo is in `buffer`.

    Lives while the work using it is in flight: `release` destroys the Vulkan objects only after
    the work recorded so far completed, and keeps `owners` (the host objects whose memory this is)
    referenced until then, so that memory cannot be freed under a running kernel. A HostImport that
    is collected without release() queues itself for the next import (as Allocation does)."""

    __slots__ = ("manager", "memory", "buffer", "offset", "address", "nbytes", "owners", "__weakref__")

    def __init__(self, manager, memory, buffer, offset, address, nbytes, owners):
        self.manager, self.memory, self.buffer, self.offset = manager, memory, buffer, offset
        self.address, self.nbytes, self.owners = address, nbytes, owners

    def release(self):
        manager, self.manager = self.manager, None
        if manager is not None:
            manager.release_import(self.memory, self.buffer, self.address, self.nbytes, self.owners)

    def __del__(self):
        if self.manager is not None:
            self.manager.dropped_imports.append((self.memory, self.buffer, self.address, self.nbytes, self.owners))


def buffer_usage() -> int:
    vk = lib()
    return (vk.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | vk.VK_BUFFER_USAGE_TRANSFER_SRC_BIT
            | vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT | vk.VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT)


def _choose_types(device):
    """(device type index, host-visible?, host-cached?), (staging type index or None)."""
    vk = lib()
    mp = device.memory_properties
    types = [(i, mp.memoryTypes[i].propertyFlags, mp.memoryHeaps[mp.memoryTypes[i].heapIndex].size)
             for i in range(mp.memoryTypeCount)]
    # Which types a buffer with our usage may live in.
    info = ffi.new("VkBufferCreateInfo*", {"sType": vk.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, "size": 4096,
                                          "usage": buffer_usage(), "sharingMode": vk.VK_SHARING_MODE_EXCLUSIVE})
    probe = ffi.new("VkBuffer*")
    check("vkCreateBuffer", vk.vkCreateBuffer(device.handle, info, NULL, probe))
    reqs = ffi.new("VkMemoryRequirements*")
    vk.vkGetBufferMemoryRequirements(device.handle, probe[0], reqs)
    vk.vkDestroyBuffer(device.handle, probe[0], NULL)
    allowed = [t for t in types if reqs.memoryTypeBits & (1 << t[0])]
    DL, HV = vk.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
    HC, HCO = vk.VK_MEMORY_PROPERTY_HOST_CACHED_BIT, vk.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT

    def device_rank(t):
        i, flags, heap = t
        # Device-local first; then the largest heap (a 256 MiB BAR window must not win over VRAM);
        # then host-visible+coherent (direct writes), then cached (direct reads).
        return (not flags & DL, -heap, not (flags & HV and flags & HCO), not flags & HC, i)

    dev_index, dev_flags, _ = min(allowed, key=device_rank)
    staging = [t for t in allowed if t[1] & HV and t[1] & HCO]
    staging_index = min(staging, key=lambda t: (not t[1] & HC, bool(t[1] & DL), t[0]))[0] if staging else None
    visible = bool(dev_flags & HV and dev_flags & HCO)
    return dev_index, visible, visible and bool(dev_flags & HC), staging_index


class MemoryManager:
    """Device heap + staging heap of one device, and the host transfer mode between them."""

    def __init__(self, device):
        self.device = device
        dev_index, visible, cached, staging_index = _choose_types(device)
        if cached:
            mode = "mapped"
        elif visible:
            mode = "write_direct"
        else:
            mode = "staged"
        forced = os.environ.get("JITSPV_HOST_TRANSFER", "").strip()
        order = ["mapped", "write_direct", "staged"]
        if forced:
            if forced not in order:
                raise ValueError(f"JITSPV_HOST_TRANSFER={forced!r}: expected one of {order}")
            if order.index(forced) > order.index(mode):
                mode = forced
        if mode != "mapped" and staging_index is None:
            raise RuntimeError(f"{device.name}: no host-visible coherent memory type for transfers")
        self.mode = mode
        self.dropped_imports = deque()   # (memory, buffer, address, nbytes, owners) of HostImports collected unreleased
        # Device address -> bytes of each live import there: the same host memory imported again
        # before an earlier import of it is released has the same address where the device's
        # addresses are the host's (lavapipe); the live range is the largest of them.
        self._import_sizes = {}
        self._host_pointer_properties = (ffi.cast(
            "PFN_vkGetMemoryHostPointerPropertiesEXT",
            lib().vkGetDeviceProcAddr(device.handle, b"vkGetMemoryHostPointerPropertiesEXT"))
            if device.properties.host_import_alignment else None)
        mp = device.memory_properties
        self._device_local_types = sum(1 << i for i in range(mp.memoryTypeCount)
                                       if mp.memoryTypes[i].propertyFlags & lib().VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT)
        self._host_arrays_in_place = None
        self.device_heap = Heap(device, dev_index, mapped=visible, block_size=BLOCK_SIZE)
        self.staging_heap = (Heap(device, staging_index, mapped=True, block_size=STAGING_BLOCK_SIZE)
                             if mode != "mapped" else None)

    def allocate(self, nbytes: int, track: bool = True) -> Allocation:
        return self.device_heap.allocate(nbytes, track)

    # -- host memory in place ----------------------------------------------------------------------

    def host_arrays_in_place(self) -> bool:
        """Whether host arrays are used in place here: one page of host memory imported to find out."""
        if self._host_arrays_in_place is None:
            import numpy as np
            page = np.zeros(max(self.device.properties.host_import_alignment, 8) // 8)
            lo = page.ctypes.data
            imported = self.import_host(lo, lo + page.nbytes, [page])
            if imported is not None:
                imported.release()
            self._host_arrays_in_place = imported is not None
        return self._host_arrays_in_place

    def import_host(self, lo: int, hi: int, owners) -> HostImport | None:
        """The host range [lo, hi) (hi > lo) imported in place, or None where the device cannot
        import it into device-local memory (then the caller copies). Whole pages are imported (the
        pages of a live range are mapped); the range is tracked as a live allocation meanwhile, so
        the bounds debug mode checks accesses against it."""
        align = self.device.properties.host_import_alignment
        if not align:
            return None
        vk = lib()
        dev = self.device.handle
        start = lo - lo % align
        size = _round_up(hi - start, align)
        with self.device.lock:
            self._release_dropped_imports()
            pointer = ffi.cast("void*", start)
            props = ffi.new("VkMemoryHostPointerPropertiesEXT*",
                            {"sType": vk.VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT})
            if self._host_pointer_properties(dev, vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
                                             pointer, props) < 0 or not props.memoryTypeBits & self._device_local_types:
                return None
            external = ffi.new("VkExternalMemoryBufferCreateInfo*", {
                "sType": vk.VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
                "handleTypes": vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT})
            buffer_info = ffi.new("VkBufferCreateInfo*", {
                "sType": vk.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, "pNext": external, "size": size,
                "usage": buffer_usage(), "sharingMode": vk.VK_SHARING_MODE_EXCLUSIVE})
            buffer = ffi.new("VkBuffer*")
            if vk.vkCreateBuffer(dev, buffer_info, NULL, buffer) < 0:
                return None
            reqs = ffi.new("VkMemoryRequirements*")
            vk.vkGetBufferMemoryRequirements(dev, buffer[0], reqs)
            usable = [i for i in range(self.device.memory_properties.memoryTypeCount)
                      if props.memoryTypeBits & reqs.memoryTypeBits & self._device_local_types & (1 << i)]
            memory = ffi.new("VkDeviceMemory*")
            if usable:
                host = ffi.new("VkImportMemoryHostPointerInfoEXT*", {
                    "sType": vk.VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
                    "handleType": vk.VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, "pHostPointer": pointer})
                flags = ffi.new("VkMemoryAllocateFlagsInfo*", {
                    "sType": vk.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO, "pNext": host,
                    "flags": vk.VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT})
                alloc_info = ffi.new("VkMemoryAllocateInfo*", {
                    "sType": vk.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, "pNext": flags, "allocationSize": size,
                    "memoryTypeIndex": usable[0]})
            # Refused imports (read-only pages, a driver's own limits) fall back to copies.
            if (not usable or reqs.size > size or self.device.fn.vkAllocateMemory(dev, alloc_info, NULL, memory) < 0):
                vk.vkDestroyBuffer(dev, buffer[0], NULL)
                return None
            if vk.vkBindBufferMemory(dev, buffer[0], memory[0], 0) < 0:
                vk.vkDestroyBuffer(dev, buffer[0], NULL)
                vk.vkFreeMemory(dev, memory[0], NULL)
                return None
            address_info = ffi.new("VkBufferDeviceAddressInfo*", {
                "sType": vk.VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, "buffer": buffer[0]})
            address = vk.vkGetBufferDeviceAddress(dev, address_info) + (lo - start)
            sizes = self._import_sizes.setdefault(address, [])
            sizes.append(hi - lo)
            self.device_heap.live[address] = max(sizes)
            return HostImport(self, memory[0], buffer[0], lo - start, address, hi - lo, owners)

    def release_import(self, memory, buffer, address, nbytes, owners):
        """Destroys an import once the work recorded so far completed; `owners` stay referenced until then."""
        def destroy():
            vk = lib()
            vk.vkDestroyBuffer(self.device.handle, buffer, NULL)
            vk.vkFreeMemory(self.device.handle, memory, NULL)
            del owners[:]

        with self.device.lock:
            sizes = self._import_sizes[address]
            sizes.remove(nbytes)
            if sizes:
                self.device_heap.live[address] = max(sizes)
            else:
                del self._import_sizes[address]
                self.device_heap.live.pop(address, None)
            self.device.stream.defer(destroy)

    def _release_dropped_imports(self):
        while self.dropped_imports:
            self.release_import(*self.dropped_imports.popleft())

    def live_ranges(self) -> list:
        """(device address, bytes) of every live tracked allocation, sorted by address."""
        heap = self.device_heap
        with self.device.lock:
            if heap.dropped:
                heap.free_dropped()   # arrays and imports the garbage collector took are not live
            self._release_dropped_imports()
            return sorted(heap.live.items())

    @property
    def reserved_bytes(self) -> int:
        return self.device_heap.reserved_bytes + (self.staging_heap.reserved_bytes if self.staging_heap else 0)

    def empty_cache(self):
        """Gives every cached empty block of both heaps back to the driver (after their last users)."""
        with self.device.lock:
            for heap in (self.device_heap, self.staging_heap):
                if heap is not None:
                    heap.release_cached()
            self.device.stream.synchronize()

    def stats(self) -> dict:
        """Device-heap statistics under torch.cuda.memory_stats' names."""
        heap = self.device_heap
        with self.device.lock:
            heap.free_dropped()
            return {"allocated_bytes.all.current": heap.used_bytes, "allocated_bytes.all.peak": heap.peak_used_bytes,
                    "reserved_bytes.all.current": heap.reserved_bytes,
                    "reserved_bytes.all.peak": heap.peak_reserved_bytes,
                    "allocation.all.current": heap.allocations, "segment.all.current": len(heap.blocks),
                    "num_alloc_retries": heap.num_alloc_retries, "num_ooms": heap.num_ooms}

    def reset_peak_stats(self):
        heap = self.device_heap
        with self.device.lock:
            heap.free_dropped()
            heap.peak_used_bytes, heap.peak_reserved_bytes = heap.used_bytes, heap.reserved_bytes

    # -- host transfers (byte ranges of one allocation) ------------------------------------------

    def write(self, allocation: Allocation, offset: int, src_ptr: int, nbytes: int, fresh: bool = False):
        """Copies nbytes from host address src_ptr to the allocation at offset, in stream order.

        fresh: the allocation was just made, so only work recorded before its memory was last
        freed can touch it.
        """
        if nbytes == 0:
            return
        stream = self.device.stream
        if self.mode != "staged":
            if fresh:
                if allocation.host_safe_serial > stream.completed_serial:
                    stream.wait_serial(allocation.host_safe_serial)  # earlier users of reused memory
            elif not stream.idle():
                stream.synchronize()  # recorded launches must see the old contents
            ffi.memmove(ffi.cast("char*", allocation.host_ptr + offset), ffi.cast("char*", src_ptr), nbytes)
            return
        staging = self.staging_heap.allocate(nbytes)
        if staging.host_safe_serial > stream.completed_serial:
            stream.wait_serial(staging.host_safe_serial)  # a recorded copy may still read this range
        ffi.memmove(ffi.cast("char*", staging.host_ptr), ffi.cast("char*", src_ptr), nbytes)
        stream.copy_buffer(staging.buffer, staging.offset, allocation.buffer, allocation.offset + offset, nbytes)
        staging.free()

    def read(self, allocation: Allocation, offset: int, dst_ptr: int, nbytes: int):
        """Copies nbytes at offset of the allocation to host address dst_ptr after all recorded work."""
        if nbytes == 0:
            return
        stream = self.device.stream
        if self.mode == "mapped":
            stream.synchronize()
            ffi.memmove(ffi.cast("char*", dst_ptr), ffi.cast("char*", allocation.host_ptr + offset), nbytes)
            return
        staging = self.staging_heap.allocate(nbytes)
        stream.copy_buffer(allocation.buffer, allocation.offset + offset, staging.buffer, staging.offset, nbytes)
        stream.synchronize()
        ffi.memmove(ffi.cast("char*", dst_ptr), ffi.cast("char*", staging.host_ptr), nbytes)
        staging.free()
