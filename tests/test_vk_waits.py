"""Waiting for the device: long work is waited for (in chunks), device errors raise, and
JITSPV_SYNC_TIMEOUT raises TimeoutError leaving everything in flight untouched."""
import time

import numpy as np
import pytest
import triton.language as tl

import jitspv
import jitspv.vk.stream as stream_module
from jitspv.errors import VulkanError
from jitspv.vk import get_device

M = 1 << 32
A_LCG, C_LCG = 1664525, 1013904223
ITERS = 60_000          # below lavapipe's 65,535 loop iterations per invocation
PROGRAMS, BLOCK = 256, 1024   # about 2 s on lavapipe (2 cores) at ITERS; a GPU needs far more passes


@jitspv.jit
def lcg_loop(x_ptr, out_ptr, iters, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs)
    for _ in range(iters):
        x = x * 1664525 + 1013904223
    tl.store(out_ptr + offs, x)


def lcg_reference(x, k):
    """x after k steps of x -> a*x + c mod 2^32, by composing the affine map (square and multiply)."""
    a, c, A, C = A_LCG, C_LCG, 1, 0
    while k:
        if k & 1:
            A, C = a * A % M, (a * C + c) % M
        a, c = a * a % M, (a * c + c) % M
        k >>= 1
    return ((x.astype(np.uint64) * A + C) % M).astype(np.uint32)


def long_launch(rng, iters=ITERS):
    x = rng.integers(0, M, PROGRAMS * BLOCK, dtype=np.uint64).astype(np.uint32)
    out = jitspv.full(x.size, 0xDEADBEEF, np.uint32)
    lcg_loop[(PROGRAMS,)](jitspv.asarray(x), out, iters, BLOCK=BLOCK)
    return out, lcg_reference(x, iters)


@pytest.fixture(scope="module")
def long_iters():
    """Loop passes that make long_launch run about 2 s on this device (a multiple of 16, as ITERS, so
    that it is the specialization short_chunks compiled); ITERS where the loop limit caps them."""
    from jitspv.frontend.runtime import current_target
    if current_target().loop_pass_limit:
        return ITERS
    rng, iters = np.random.default_rng(), ITERS
    while True:
        start = time.perf_counter()
        long_launch(rng, iters)
        jitspv.synchronize()
        seconds = time.perf_counter() - start
        if seconds > 0.2 or iters >= 1 << 30:
            return min(int(iters * 2.0 / seconds) // 16 * 16, (1 << 31) - 16)
        iters *= 8


@pytest.fixture
def short_chunks(monkeypatch):
    # Fence waits return every 20 ms: a seconds-long kernel spans many chunks.
    monkeypatch.setattr(stream_module, "_WAIT_CHUNK_NS", 20_000_000)
    for iters in (3, ITERS):   # both specializations the tests launch (ITERS is divisible by 16, 3 is not)
        lcg_loop[(1,)](jitspv.zeros(BLOCK, np.uint32), jitspv.zeros(BLOCK, np.uint32), iters, BLOCK=BLOCK)
    jitspv.synchronize()   # compiled (lavapipe: at the first dispatch) and idle before the timed part


def test_long_work_is_waited_for_until_it_completes(short_chunks, long_iters):
    rng = np.random.default_rng()
    out, expect = long_launch(rng, long_iters)
    np.testing.assert_array_equal(out.numpy(), expect)


def test_sync_timeout_raises_and_leaves_the_stream_consistent(short_chunks, long_iters, monkeypatch):
    rng = np.random.default_rng()
    stream = get_device().stream
    monkeypatch.setattr(stream, "sync_timeout", 0.05)   # far below the kernel's time
    out, expect = long_launch(rng, long_iters)
    ran = []
    stream.defer(lambda: ran.append("deferred"))   # like a deferred free of the kernel's memory
    with pytest.raises(TimeoutError, match="JITSPV_SYNC_TIMEOUT=0.05 s"):
        jitspv.synchronize()
    assert ran == [] and stream.completed_serial < stream.submitted_serial
    # More submissions wrap the ring onto the long kernel's command buffer and fence: that waits
    # (and times out again) instead of reusing them. Launches that returned are recorded.
    small = rng.integers(0, M, BLOCK, dtype=np.uint64).astype(np.uint32)
    done = []
    with pytest.raises(TimeoutError):
        for _ in range(stream_module.RING_SIZE + 1):
            o = jitspv.full(BLOCK, 0, np.uint32)
            lcg_loop[(1,)](jitspv.asarray(small), o, 3, BLOCK=BLOCK)
            done.append(o)
            stream.submit()
    assert ran == []
    monkeypatch.setattr(stream, "sync_timeout", None)
    jitspv.synchronize()
    assert ran == ["deferred"]
    np.testing.assert_array_equal(out.numpy(), expect)
    for o in done:
        np.testing.assert_array_equal(o.numpy(), lcg_reference(small, 3))


def test_device_errors_while_waiting_raise(monkeypatch):
    device = get_device()
    out = jitspv.full(1000, 1.0)
    monkeypatch.setattr(device.stream, "_spin", 0.0)
    monkeypatch.setattr(device.fn, "vkWaitForFences", lambda *args: -4)   # VK_ERROR_DEVICE_LOST
    with pytest.raises(VulkanError, match="vkWaitForFences failed with VK_ERROR_DEVICE_LOST.*device was lost"):
        jitspv.synchronize()
    monkeypatch.undo()
    assert (out.numpy() == 1.0).all()


def test_sync_timeout_knob_is_checked(monkeypatch):
    monkeypatch.setenv("JITSPV_SYNC_TIMEOUT", "2.5")
    assert stream_module._sync_timeout() == 2.5
    monkeypatch.setenv("JITSPV_SYNC_TIMEOUT", "")
    assert stream_module._sync_timeout() is None
    for bad in ("soon", "0", "-1", "nan"):
        monkeypatch.setenv("JITSPV_SYNC_TIMEOUT", bad)
        with pytest.raises(ValueError, match="JITSPV_SYNC_TIMEOUT"):
            stream_module._sync_timeout()
