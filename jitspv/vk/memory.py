"""Device memory: a caching sub-allocator over large VkDeviceMemory blocks, and host transfers.

Each block is one VkDeviceMemory (allocated with DEVICE_ADDRESS) with one VkBuffer bound over all of
it (STORAGE | TRANSFER_SRC | TRANSFER_DST | SHADER_DEVICE_ADDRESS), so a sub-allocation is
(block, offset) and its device address is the block's address + offset. Free space is a sorted list
of (offset, size) ranges per block, coalesced on release. Memory freed by the user returns to the
allocator only after the GPU work recorded before the free has completed (Stream.defer).

Host transfer mode, from the memory type chosen (DEVICE_LOCAL first):
  "mapped"        device memory is host-visible and cached (lavapipe, integrated GPUs): memcpy both ways
  "write_direct"  host-visible but uncached (NVIDIA resizable BAR): writes memcpy, reads via staging
  "staged"        not host-visible: both directions through a host staging buffer + vkCmdCopyBuffer
JITSPV_HOST_TRANSFER=staged|write_direct forces a slower mode (used by tests to cover those paths).
"""
from __future__ import annotations

import bisect
import os

from jitspv.errors import OutOfResources, VulkanError
from jitspv.vk.binding import NULL, check, ffi, lib

ALIGNMENT = 256
BLOCK_SIZE = 64 << 20
STAGING_BLOCK_SIZE = 16 << 20


def _round_up(n: int, k: int) -> int:
    return (n + k - 1) // k * k


class Block:
    __slots__ = ("memory", "buffer", "size", "address", "host_ptr", "free", "used", "dedicated", "busy_serial")

    def __init__(self, memory, buffer, size, address, host_ptr, dedicated):
        self.memory, self.buffer, self.size, self.address = memory, buffer, size, address
        self.host_ptr = host_ptr  # int, or None when not mapped
        self.free = [(0, size)]   # sorted, coalesced
        self.used = 0
        self.dedicated = dedicated
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
        if self.block is not None:
            heap, self.heap = self.heap, None
            heap.release(self)

    def __del__(self):
        if self.block is not None and self.heap is not None:
            try:
                self.free()
            except Exception:  # noqa: BLE001 - interpreter shutdown: the process frees everything
                pass


class Heap:
    """Sub-allocator over blocks of one memory type."""

    def __init__(self, device, type_index: int, mapped: bool, block_size: int):
        self.device = device
        self.type_index = type_index
        self.mapped = mapped
        limit = device.properties.max_memory_allocation_size
        self.block_size = min(block_size, limit)
        # Empty blocks kept for reuse, in bytes: a wrapper that allocates its output per call (as
        # Triton's tutorials do) must not pay vkAllocateMemory per call (measured on the H100: a
        # 64 MB allocation per call made a 0.07 ms kernel cost 2.3 ms of device time).
        self.empty_cache_bytes = 4 * self.block_size
        self.limit = limit
        self.blocks: list[Block] = []
        # Device address -> requested bytes of every live allocation made with track=True (user
        # arrays, host arrays copied in): the table the bounds debug mode checks accesses against.
        self.live: dict[int, int] = {}

    @property
    def reserved_bytes(self) -> int:
        return sum(b.size for b in self.blocks)

    @property
    def used_bytes(self) -> int:
        return sum(b.used for b in self.blocks)

    def allocate(self, nbytes: int, track: bool = True) -> Allocation:
        """track=False: jitspv's own buffers (debug records, bounds tables), absent from `live`."""
        size = _round_up(max(nbytes, 1), ALIGNMENT)
        for block in self.blocks:
            if not block.dedicated and block.size - block.used >= size:
                off = block.take(size)
                if off is not None:
                    return self._track(Allocation(self, block, off, size), nbytes, track)
        # Empty blocks too small for this request go (once their last users completed) before
        # the heap grows: blocks stay cached only while they can serve.
        for block in [b for b in self.blocks if b.used == 0 and not b.dedicated]:
            self._retire(block)
        if size > self.limit:
            block = self._new_block(size, dedicated=True)
        else:
            grow = self.block_size
            while grow < size:
                grow *= 2
            block = self._new_block(min(grow, self.limit), dedicated=False)
        off = block.take(size)
        return self._track(Allocation(self, block, off, size), nbytes, track)

    def _track(self, allocation: Allocation, nbytes: int, track: bool) -> Allocation:
        if track:
            self.live[allocation.address] = nbytes
        return allocation

    def release(self, allocation: Allocation):
        block = allocation.block
        allocation.block = None
        self.live.pop(allocation.address, None)
        stream = self.device.stream
        block.busy_serial = max(block.busy_serial, stream.pending_serial)
        block.give(allocation.offset, allocation.size)
        block.used -= allocation.size
        if block.used == 0 and (block.dedicated or
                                sum(b.size for b in self.blocks if b.used == 0) > self.empty_cache_bytes):
            self._retire(block)

    def _retire(self, block: Block):
        """Stop handing out `block`; destroy it once the work recorded so far (its last users) completed."""
        self.blocks.remove(block)
        self.device.stream.defer(lambda: self._destroy_block(block))

    def _new_block(self, size: int, dedicated: bool) -> Block:
        L = lib()
        dev = self.device.handle
        buffer_info = ffi.new("VkBufferCreateInfo*", {
            "sType": L.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, "size": size, "usage": buffer_usage(),
            "sharingMode": L.VK_SHARING_MODE_EXCLUSIVE})
        buffer = ffi.new("VkBuffer*")
        check("vkCreateBuffer", L.vkCreateBuffer(dev, buffer_info, NULL, buffer))
        reqs = ffi.new("VkMemoryRequirements*")
        L.vkGetBufferMemoryRequirements(dev, buffer[0], reqs)
        flags = ffi.new("VkMemoryAllocateFlagsInfo*", {
            "sType": L.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO, "flags": L.VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT})
        alloc_info = ffi.new("VkMemoryAllocateInfo*", {
            "sType": L.VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, "pNext": flags, "allocationSize": reqs.size,
            "memoryTypeIndex": self.type_index})
        memory = ffi.new("VkDeviceMemory*")
        result = L.vkAllocateMemory(dev, alloc_info, NULL, memory)
        if result < 0:
            L.vkDestroyBuffer(dev, buffer[0], NULL)
            if size > self.limit:
                raise OutOfResources(size, self.limit, "memory allocation size (maxMemoryAllocationSize)")
            check("vkAllocateMemory", result)
        try:
            check("vkBindBufferMemory", L.vkBindBufferMemory(dev, buffer[0], memory[0], 0))
            address_info = ffi.new("VkBufferDeviceAddressInfo*", {
                "sType": L.VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, "buffer": buffer[0]})
            address = L.vkGetBufferDeviceAddress(dev, address_info)
            host_ptr = None
            if self.mapped:
                ptr = ffi.new("void**")
                check("vkMapMemory", L.vkMapMemory(dev, memory[0], 0, reqs.size, 0, ptr))
                host_ptr = int(ffi.cast("uintptr_t", ptr[0]))
        except VulkanError:
            L.vkDestroyBuffer(dev, buffer[0], NULL)
            L.vkFreeMemory(dev, memory[0], NULL)
            raise
        block = Block(memory[0], buffer[0], size, address, host_ptr, dedicated)
        self.blocks.append(block)
        return block

    def _destroy_block(self, block: Block):
        L = lib()
        L.vkDestroyBuffer(self.device.handle, block.buffer, NULL)
        L.vkFreeMemory(self.device.handle, block.memory, NULL)  # implicitly unmaps


def buffer_usage() -> int:
    L = lib()
    return (L.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | L.VK_BUFFER_USAGE_TRANSFER_SRC_BIT
            | L.VK_BUFFER_USAGE_TRANSFER_DST_BIT | L.VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT)


def _choose_types(device):
    """(device type index, host-visible?, host-cached?), (staging type index or None)."""
    L = lib()
    mp = device.memory_properties
    types = [(i, mp.memoryTypes[i].propertyFlags, mp.memoryHeaps[mp.memoryTypes[i].heapIndex].size)
             for i in range(mp.memoryTypeCount)]
    # Which types a buffer with our usage may live in.
    info = ffi.new("VkBufferCreateInfo*", {"sType": L.VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, "size": 4096,
                                          "usage": buffer_usage(), "sharingMode": L.VK_SHARING_MODE_EXCLUSIVE})
    probe = ffi.new("VkBuffer*")
    check("vkCreateBuffer", L.vkCreateBuffer(device.handle, info, NULL, probe))
    reqs = ffi.new("VkMemoryRequirements*")
    L.vkGetBufferMemoryRequirements(device.handle, probe[0], reqs)
    L.vkDestroyBuffer(device.handle, probe[0], NULL)
    allowed = [t for t in types if reqs.memoryTypeBits & (1 << t[0])]
    DL, HV = L.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, L.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
    HC, HCO = L.VK_MEMORY_PROPERTY_HOST_CACHED_BIT, L.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT

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
        self.device_heap = Heap(device, dev_index, mapped=visible, block_size=BLOCK_SIZE)
        self.staging_heap = (Heap(device, staging_index, mapped=True, block_size=STAGING_BLOCK_SIZE)
                             if mode != "mapped" else None)

    def allocate(self, nbytes: int, track: bool = True) -> Allocation:
        return self.device_heap.allocate(nbytes, track)

    def live_ranges(self) -> list:
        """(device address, bytes) of every live tracked allocation, sorted by address."""
        return sorted(self.device_heap.live.items())

    @property
    def reserved_bytes(self) -> int:
        return self.device_heap.reserved_bytes + (self.staging_heap.reserved_bytes if self.staging_heap else 0)

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
