"""Command recording and submission: launches and transfers are recorded, not waited for.

One `Stream` per device records into the current command buffer of a small ring. It submits at sync
points (host reads, `synchronize()`, timing reads) and every `BATCH_LIMIT` commands; it waits for a
fence only when the ring wraps onto a command buffer still in flight. Every submission gets a serial;
`completed_serial` tells which are done, which is what deferred frees (`defer`) and events wait for.

Ordering: a global memory barrier (compute|transfer writes -> compute|transfer reads/writes)
separates every two commands of a command buffer (recorded before the second, so a lone dispatch
has none), and each submission ends with one barrier that orders its writes before the later
submissions' commands and makes them visible to the host, so the host sees results after the
fence. (A barrier's scopes reach across command buffers in submission order.)

Threads: every method takes the device's re-entrant lock (`device.lock`), which also guards the
allocator, so recording and submission from several threads never interleave. A fence wait
releases that lock: other threads keep recording while one waits. One thread at a time waits on a
fence (others wait on a condition it signals), and no fence is reset while a thread waits on it.

Waits last until the work completes, however long, in chunks of `_WAIT_CHUNK_NS` so that device
loss surfaces as an error; `JITSPV_SYNC_TIMEOUT` (seconds) bounds them with a TimeoutError that
leaves everything in flight untouched (a later wait picks it up again).
"""
from __future__ import annotations

import os
import threading
import time
from collections import deque

from jitspv.errors import VulkanError
from jitspv.vk.binding import NULL, check, ffi, lib, result_name

BATCH_LIMIT = 256
RING_SIZE = 4
_WAIT_CHUNK_NS = 10**9     # a fence wait returns at least this often to check for errors and timeouts
# A blocking fence wait on NVIDIA costs ~25 us more than polling (measured on an H100: launch+sync
# 50 -> 26 us), so short waits poll first. Not on CPU devices, whose work needs the CPU we would spin on.
_SPIN_SECONDS = 0.001


def _sync_timeout():
    """JITSPV_SYNC_TIMEOUT in seconds, or None (wait as long as the work runs)."""
    text = os.environ.get("JITSPV_SYNC_TIMEOUT", "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ValueError(f"JITSPV_SYNC_TIMEOUT={text!r}: expected a number of seconds greater than 0")
    return seconds


class Stream:
    def __init__(self, device):
        vk = lib()
        self.device = device
        self.fn = device.fn
        self.lock = device.lock
        self._fence_waited = threading.Condition(self.lock)  # notified whenever a fence wait returns
        self._waiting_slot = None  # the slot whose fence a thread waits on (lock released), or None
        self.sync_timeout = _sync_timeout()
        self._spin = _SPIN_SECONDS if device.properties.device_type != "CPU" else 0.0
        pool_info = ffi.new("VkCommandPoolCreateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
            "flags": vk.VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, "queueFamilyIndex": device.queue_family})
        pool = ffi.new("VkCommandPool*")
        check("vkCreateCommandPool", vk.vkCreateCommandPool(device.handle, pool_info, NULL, pool))
        self.pool = pool[0]
        alloc = ffi.new("VkCommandBufferAllocateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO, "commandPool": self.pool,
            "level": vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY, "commandBufferCount": RING_SIZE})
        self._cmds = ffi.new("VkCommandBuffer[]", RING_SIZE)
        check("vkAllocateCommandBuffers", vk.vkAllocateCommandBuffers(device.handle, alloc, self._cmds))
        self._fences = ffi.new("VkFence[]", RING_SIZE)
        fence_info = ffi.new("VkFenceCreateInfo*", {"sType": vk.VK_STRUCTURE_TYPE_FENCE_CREATE_INFO})
        for i in range(RING_SIZE):
            check("vkCreateFence", vk.vkCreateFence(device.handle, fence_info, NULL, self._fences + i))
        self._slot_serial = [0] * RING_SIZE  # serial submitted from each slot, 0 = never
        self._slot = 0
        self.recording = False
        self.cmd = None            # current VkCommandBuffer while recording
        self.bound_pipeline = None  # pipeline bound in the current command buffer
        self.count = 0             # commands recorded in the current command buffer
        self._barrier_due = False  # the ordering barrier goes before the next command recorded
        self.submitted_serial = 0
        self.completed_serial = 0
        self._deferred = deque()    # (serial, callback) run once that serial completes

        self._begin_info = ffi.new("VkCommandBufferBeginInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
            "flags": vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT})
        self.barrier_src = vk.VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | vk.VK_PIPELINE_STAGE_TRANSFER_BIT
        self.barrier = ffi.new("VkMemoryBarrier*", {
            "sType": vk.VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            "srcAccessMask": vk.VK_ACCESS_SHADER_WRITE_BIT | vk.VK_ACCESS_TRANSFER_WRITE_BIT,
            "dstAccessMask": (vk.VK_ACCESS_SHADER_READ_BIT | vk.VK_ACCESS_SHADER_WRITE_BIT
                              | vk.VK_ACCESS_TRANSFER_READ_BIT | vk.VK_ACCESS_TRANSFER_WRITE_BIT)})
        self._end_barrier = ffi.new("VkMemoryBarrier*", {
            "sType": vk.VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            "srcAccessMask": vk.VK_ACCESS_SHADER_WRITE_BIT | vk.VK_ACCESS_TRANSFER_WRITE_BIT,
            "dstAccessMask": self.barrier.dstAccessMask | vk.VK_ACCESS_HOST_READ_BIT})
        self._end_stages = self.barrier_src | vk.VK_PIPELINE_STAGE_HOST_BIT
        # Per ring slot, made once (a synchronous launch pays for every cffi object it builds).
        self._cmd_handles = [self._cmds[i] for i in range(RING_SIZE)]
        self._fence_pointers = [self._fences + i for i in range(RING_SIZE)]
        self._submit_infos = [ffi.new("VkSubmitInfo*", {"sType": vk.VK_STRUCTURE_TYPE_SUBMIT_INFO,
                                                        "commandBufferCount": 1, "pCommandBuffers": self._cmds + i})
                              for i in range(RING_SIZE)]

    # -- recording ------------------------------------------------------------------------------

    def begin(self):
        """Starts recording into the current ring slot (waiting for it if still in flight); returns
        the command buffer being recorded (another thread's, if it began while this one waited)."""
        with self.lock:
            while not self.recording:
                slot = self._slot
                if self._slot_serial[slot] > self.completed_serial:
                    self._wait_until(self._slot_serial[slot])
                elif self._waiting_slot == slot:
                    self._fence_waited.wait()  # a thread is still leaving its wait on this fence
                else:
                    cmd = self._cmd_handles[slot]
                    check("vkBeginCommandBuffer", self.fn.vkBeginCommandBuffer(cmd, self._begin_info))
                    self.cmd = cmd
                    self.recording = True
                    self.bound_pipeline = None
                    self.count = 0
                    self._barrier_due = False
            return self.cmd

    def command_buffer(self):
        """The command buffer to record the next command into, the ordering barrier recorded first
        where a command precedes it there."""
        if not self.recording:
            return self.begin()
        if self._barrier_due:
            self.fn.vkCmdPipelineBarrier(self.cmd, self.barrier_src, self.barrier_src, 0, 1, self.barrier,
                                         0, NULL, 0, NULL)
            self._barrier_due = False
        return self.cmd

    def recorded(self):
        """Call after recording one command (into command_buffer()): submits at the batch limit."""
        self._barrier_due = True
        self.count += 1
        if self.count >= BATCH_LIMIT:
            self.submit()

    @property
    def pending_serial(self) -> int:
        """The serial whose completion covers everything recorded so far."""
        return self.submitted_serial + 1 if self.recording else self.submitted_serial

    def idle(self) -> bool:
        """True when nothing is recorded or in flight (as last observed)."""
        with self.lock:
            if not self.recording and self.completed_serial < self.submitted_serial:
                self.poll()
            return not self.recording and self.completed_serial >= self.submitted_serial

    # -- submission -----------------------------------------------------------------------------

    def submit(self):
        with self.lock:
            if not self.recording:
                return
            cmd, slot, fn = self.cmd, self._slot, self.fn
            fn.vkCmdPipelineBarrier(cmd, self.barrier_src, self._end_stages, 0, 1, self._end_barrier, 0, NULL, 0, NULL)
            check("vkEndCommandBuffer", fn.vkEndCommandBuffer(cmd))
            self.recording = False
            self.cmd = None
            check("vkResetFences", fn.vkResetFences(self.device.handle, 1, self._fence_pointers[slot]))
            check("vkQueueSubmit", fn.vkQueueSubmit(self.device.queue, 1, self._submit_infos[slot], self._fences[slot]))
            self.submitted_serial += 1
            self._slot_serial[slot] = self.submitted_serial
            self._slot = (slot + 1) % RING_SIZE

    def _wait_until(self, serial):
        """Waits (lock held) until submission `serial` completed. Submission s lives in slot
        (s - 1) % RING_SIZE until it completed, and a fence signals only after all earlier work."""
        deadline = None if self.sync_timeout is None else time.monotonic() + self.sync_timeout
        while self.completed_serial < serial:
            chunk_ns = _WAIT_CHUNK_NS
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"jitspv: the device has not finished the submitted work after JITSPV_SYNC_TIMEOUT="
                        f"{self.sync_timeout:g} s; it is still running, nothing it uses was reused or "
                        "freed, and a later synchronization waits for it again")
                chunk_ns = min(chunk_ns, int(left * 1e9) + 1)
            if self._waiting_slot is not None:
                self._fence_waited.wait(chunk_ns * 1e-9)  # one thread waits on the device for all
            else:
                self._wait_fence((serial - 1) % RING_SIZE, serial, chunk_ns)

    def _wait_fence(self, slot, serial, timeout_ns):
        """Waits up to timeout_ns for the fence of `slot` (holding `serial`) with the lock released,
        as threading.Condition.wait releases its re-entrant lock, however deeply held."""
        vk = lib()
        handle, fence = self.device.handle, self._fence_pointers[slot]
        self._waiting_slot = slot
        saved = self.lock._release_save()
        try:
            result = vk.VK_TIMEOUT
            if self._spin:
                deadline = time.perf_counter() + self._spin
                while result != vk.VK_SUCCESS and time.perf_counter() < deadline:
                    result = self.fn.vkGetFenceStatus(handle, fence[0])
                    if result < 0:
                        break
            if result == vk.VK_TIMEOUT or result == vk.VK_NOT_READY:
                result = self.fn.vkWaitForFences(handle, 1, fence, 1, timeout_ns)
        finally:
            self.lock._acquire_restore(saved)
            self._waiting_slot = None
            self._fence_waited.notify_all()
        if result == vk.VK_SUCCESS:
            self._completed(serial)
        elif result < 0:
            raise VulkanError("vkWaitForFences", result, result_name(result),
                              f"waiting for the device {self.device.name!r} to finish submitted work"
                              + (" (the device was lost: its work and memory contents are gone)"
                                 if result == vk.VK_ERROR_DEVICE_LOST else ""))

    def _completed(self, serial):
        if serial > self.completed_serial:
            self.completed_serial = serial
            deferred = self._deferred
            error = None
            # Every due callback runs (frees must not wait behind a failing check); the first
            # error (a device assertion report) is raised after them, the stream consistent.
            while deferred and deferred[0][0] <= serial:
                try:
                    deferred.popleft()[1]()
                except Exception as e:  # noqa: BLE001 - re-raised below
                    error = error or e
            if error is not None:
                raise error

    def poll(self):
        """Notes submissions that finished, without waiting."""
        with self.lock:
            for slot in sorted(range(RING_SIZE), key=lambda s: self._slot_serial[s]):
                serial = self._slot_serial[slot]
                if serial <= self.completed_serial:
                    continue
                if self.fn.vkGetFenceStatus(self.device.handle, self._fences[slot]) != lib().VK_SUCCESS:
                    break
                self._completed(serial)

    def synchronize(self):
        """Submits what is recorded and waits for all of it."""
        with self.lock:
            self.wait_serial(self.pending_serial)

    def wait_serial(self, serial):
        """Waits until `serial` completed (submitting first when it is the one being recorded)."""
        with self.lock:
            if serial > self.submitted_serial:
                self.submit()
            if serial > self.completed_serial:
                self._wait_until(serial)

    def defer(self, callback):
        """Runs callback once everything recorded so far has completed (now, if nothing is pending)."""
        with self.lock:
            serial = self.pending_serial
            if serial <= self.completed_serial:
                callback()
            else:
                self._deferred.append((serial, callback))

    # -- transfers ------------------------------------------------------------------------------

    def copy_buffer(self, src_buffer, src_offset, dst_buffer, dst_offset, size):
        region = ffi.new("VkBufferCopy*", {"srcOffset": src_offset, "dstOffset": dst_offset, "size": size})
        with self.lock:
            self.fn.vkCmdCopyBuffer(self.command_buffer(), src_buffer, dst_buffer, 1, region)
            self.recorded()

    def fill_buffer(self, buffer, offset, size, word):
        """Fills size bytes (offset and size multiples of 4) with the 32-bit pattern word."""
        with self.lock:
            self.fn.vkCmdFillBuffer(self.command_buffer(), buffer, offset, size, word)
            self.recorded()

    def update_buffer(self, buffer, offset, data: bytes):
        """Writes up to 65536 bytes (multiple of 4) in stream order."""
        with self.lock:
            self.fn.vkCmdUpdateBuffer(self.command_buffer(), buffer, offset, len(data), data)
            self.recorded()


class QueryPools:
    """Timestamp query slots of one device (`device.query_pools`), handed out one at a time and
    returned when their Event dies."""

    POOL_SIZE = 1024

    def __init__(self, device):
        self.device = device
        self.pools = []
        self.free = []

    def acquire(self):
        if not self.free:
            vk = lib()
            info = ffi.new("VkQueryPoolCreateInfo*", {"sType": vk.VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                                      "queryType": vk.VK_QUERY_TYPE_TIMESTAMP,
                                                      "queryCount": self.POOL_SIZE})
            pool = ffi.new("VkQueryPool*")
            check("vkCreateQueryPool", vk.vkCreateQueryPool(self.device.handle, info, NULL, pool))
            self.pools.append(pool[0])
            self.free.extend((pool[0], i) for i in reversed(range(self.POOL_SIZE)))
        return self.free.pop()

    def release(self, slot):
        self.free.append(slot)  # atomic: Event.__del__ may run on any thread, holding no lock


class Event:
    """A GPU timestamp in stream order on `device`, like torch.cuda.Event(enable_timing=True)."""

    def __init__(self, device):
        self.device = device
        if device.properties.timestamp_valid_bits == 0:
            raise RuntimeError(f"{device.name}: the compute queue has no timestamp support")
        with device.lock:
            self._pools = device.query_pools
            self._slot = self._pools.acquire()
        self.serial = None

    def record(self):
        stream = self.device.stream
        pool, index = self._slot
        fn = self.device.fn
        with stream.lock:
            cmd = stream.command_buffer()
            fn.vkCmdResetQueryPool(cmd, pool, index, 1)
            fn.vkCmdWriteTimestamp(cmd, lib().VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, pool, index)
            stream.count += 1
            self.serial = stream.pending_serial

    def ticks(self) -> int:
        if self.serial is None:
            raise RuntimeError("Event was never recorded")
        self.device.stream.wait_serial(self.serial)
        pool, index = self._slot
        out = ffi.new("uint64_t[1]")
        vk = lib()
        check("vkGetQueryPoolResults", self.device.fn.vkGetQueryPoolResults(
            self.device.handle, pool, index, 1, 8, out, 8, vk.VK_QUERY_RESULT_64_BIT | vk.VK_QUERY_RESULT_WAIT_BIT))
        bits = self.device.properties.timestamp_valid_bits
        return out[0] & ((1 << bits) - 1) if bits < 64 else out[0]

    def elapsed_time(self, end: "Event") -> float:
        """Milliseconds of device time from this event to `end`."""
        bits = self.device.properties.timestamp_valid_bits
        delta = (end.ticks() - self.ticks()) % (1 << bits)  # the counter may wrap at timestampValidBits
        return delta * self.device.properties.timestamp_period * 1e-6

    def __del__(self):
        try:
            self._pools.release(self._slot)
        except AttributeError:  # construction failed before a slot was taken
            pass
