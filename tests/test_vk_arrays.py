"""Device arrays: round trips for every dtype, views, fills, copies, and the allocator's bounds."""
import os
import subprocess
import sys

import numpy as np
import pytest

import jitspv
from jitspv.vk import get_device
from jitspv.vk.array import DTYPES
from jitspv.vk.memory import BLOCK_SIZE

SHAPES = [(1,), (7,), (129,), (3, 5), (2, 3, 7), (1023, 3)]


def random_array(rng, shape, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", sorted(DTYPES, key=str), ids=str)
def test_round_trip_every_dtype(dtype):
    rng = np.random.default_rng(abs(hash(str(dtype))) % 2**32)
    for shape in SHAPES:
        host = random_array(rng, shape, dtype)
        dev = jitspv.asarray(host)
        assert dev.shape == host.shape and dev.dtype == host.dtype and dev.strides == host.strides
        assert dev.nbytes == host.nbytes and dev.size == host.size and dev.ndim == host.ndim
        np.testing.assert_array_equal(dev.numpy(), host)
        np.testing.assert_array_equal(np.asarray(dev), host)
        # Views read what numpy's views read.
        if host.ndim >= 2:
            np.testing.assert_array_equal(dev.T.numpy(), host.T)
            np.testing.assert_array_equal(dev[1:, ::2].numpy(), host[1:, ::2])
            np.testing.assert_array_equal(dev[..., -1].numpy(), host[..., -1])
        np.testing.assert_array_equal(dev[::-3].numpy(), host[::-3])
        np.testing.assert_array_equal(dev.reshape(-1).numpy(), host.reshape(-1))


def test_view_writes_share_storage():
    rng = np.random.default_rng(5)
    host = rng.standard_normal((6, 9)).astype(np.float32)
    dev = jitspv.asarray(host)
    patch = rng.standard_normal((3, 3)).astype(np.float32)
    dev[1:4, ::3].copy_from(patch)  # a strided view: read-modify-write of the touched span
    host[1:4, ::3] = patch
    np.testing.assert_array_equal(dev.numpy(), host)
    col = dev.T[2]
    assert col.data_ptr() == dev.data_ptr() + 2 * 4 and col.strides == (9 * 4,)
    np.testing.assert_array_equal(col.numpy(), host[:, 2])
    assert len(dev) == 6 and "Array(" in repr(dev[0, :3])


@pytest.mark.parametrize("dtype,value", [(np.float32, 1.5), (np.float32, np.nan), (np.int8, -3), (np.uint16, 7),
                                         (np.float64, 0.0), (np.float64, 2.25), (np.int64, -1), (np.bool_, True),
                                         (np.float16, -0.5)], ids=str)
def test_full_zeros_like(dtype, value):
    for n in (1, 5, 1003):
        np.testing.assert_array_equal(jitspv.full(n, value, dtype).numpy(), np.full(n, value, dtype))
    z = jitspv.zeros((4, 7), dtype)
    np.testing.assert_array_equal(z.numpy(), np.zeros((4, 7), dtype))
    np.testing.assert_array_equal(jitspv.zeros_like(z).numpy(), np.zeros((4, 7), dtype))
    np.testing.assert_array_equal(jitspv.full_like(z, value).numpy(), np.full((4, 7), value, dtype))
    assert jitspv.empty_like(z).shape == (4, 7)


def test_fill_of_odd_byte_view_leaves_neighbours():
    host = np.arange(11, dtype=np.int8)
    dev = jitspv.asarray(host)
    dev[2:5].fill_(-1)  # 3 bytes: must not round up into element 5
    host[2:5] = -1
    np.testing.assert_array_equal(dev.numpy(), host)


def test_device_copy_and_dtype_conversion():
    rng = np.random.default_rng(9)
    src = jitspv.asarray(rng.standard_normal(1001).astype(np.float32))
    dst = jitspv.full(1001, np.nan)
    dst.copy_(src)
    np.testing.assert_array_equal(dst.numpy(), src.numpy())
    np.testing.assert_array_equal(jitspv.asarray(src, dtype=np.float64).numpy(), src.numpy().astype(np.float64))
    with pytest.raises(TypeError):
        jitspv.empty(3, dtype=np.complex64)
    with pytest.raises(TypeError):
        src[np.array([1, 2])]


def test_allocator_reservation_stays_bounded():
    rng = np.random.default_rng(11)
    memory = get_device().memory
    get_device().synchronize()
    used_before = jitspv.memory_allocated()
    reserved_before = jitspv.memory_reserved()
    live = []
    peak_used = 0
    for i in range(10_000):
        # Mixed sizes from a few bytes to a few MiB, freed out of order.
        size = int(rng.choice([1, 100, 256, 4096, 70_000, 1 << 20, 3 << 20]) + rng.integers(0, 300))
        live.append(memory.allocate(size))
        if len(live) > 24 or rng.random() < 0.3:
            live.pop(int(rng.integers(len(live)))).free()
        peak_used = max(peak_used, jitspv.memory_allocated())
    reserved = jitspv.memory_reserved()
    grown = reserved - reserved_before   # earlier tests may have left empty blocks cached for reuse
    assert grown <= max(4 * (peak_used - used_before), 2 * BLOCK_SIZE), (grown, peak_used - used_before)
    for a in live:
        a.free()
    get_device().synchronize()
    assert jitspv.memory_allocated() == used_before
    assert jitspv.memory_reserved() <= reserved


def test_freed_blocks_are_reused_and_the_spare_cache_is_bounded():
    # A large buffer freed and requested again (an output allocated per call) reuses its block;
    # empty blocks beyond the heap's cache budget are given back.
    heap = get_device().memory.device_heap
    get_device().synchronize()
    big = heap.allocate(3 * BLOCK_SIZE - 4096)
    block = big.block
    big.free()
    big = heap.allocate(3 * BLOCK_SIZE - 4096)
    assert big.block is block, "a freed block of the right size must serve the next request"
    big.free()
    budget, heap.empty_cache_bytes = heap.empty_cache_bytes, BLOCK_SIZE
    try:
        spares = [heap.allocate(BLOCK_SIZE) for _ in range(4)]
        for a in spares:
            a.free()
        get_device().synchronize()
        empty = sum(b.size for b in heap.blocks if b.used == 0)
        assert empty <= 2 * BLOCK_SIZE, empty   # the budget, and at most the block freed last
    finally:
        heap.empty_cache_bytes = budget


def test_freed_memory_is_reused_in_stream_order():
    # A freed array's memory serves the next allocation at once (no growth in a loop that
    # allocates per call); the host waits for the old user before writing into it.
    device = get_device()
    x = jitspv.asarray(np.arange(4096, dtype=np.float32))
    reserved = device.memory.device_heap.reserved_bytes
    for i in range(200):
        y = jitspv.full(1 << 20, float(i))   # 4 MB, recorded fill
        x.copy_(y[:4096])                     # recorded work reading y
        del y
    assert device.memory.device_heap.reserved_bytes <= reserved + (8 << 20) + BLOCK_SIZE
    assert (x.numpy() == 199.0).all()
    a = jitspv.full(1000, 3.0)               # recorded fill into (likely reused) memory
    del a
    b = jitspv.asarray(np.full(1000, 7.0, np.float32))  # host write into the same range: after the fill
    assert (b.numpy() == 7.0).all()


_STAGED = """
import numpy as np, jitspv
from jitspv.vk import get_device
assert get_device().memory.mode == "staged"
rng = np.random.default_rng(3)
for dt in (np.float32, np.int8, np.float64, np.uint16):
    h = (rng.standard_normal((37, 5)) * 50).astype(dt)
    d = jitspv.asarray(h)
    assert (d.numpy() == h).all() and (d[3:, 1::2].numpy() == h[3:, 1::2]).all()
    d[::2].copy_from(h[::2] + 1)
    h[::2] += 1
    assert (d.numpy() == h).all()
get_device().synchronize()
assert not jitspv.validation_messages(), jitspv.validation_messages()
print("STAGED OK")
"""


def test_staged_transfers():
    # The NVIDIA path (device memory not host-cached) forced on lavapipe, in a child process because
    # the mode is chosen when the device is created.
    env = dict(os.environ, JITSPV_HOST_TRANSFER="staged")
    proc = subprocess.run([sys.executable, "-c", _STAGED], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "STAGED OK" in proc.stdout, proc.stderr


def test_an_array_larger_than_one_allocation_may_be_is_refused():
    props = get_device().properties
    limit = props.max_memory_allocation_size
    if 0 < props.max_buffer_size < limit:
        limit = props.max_buffer_size
    nbytes = limit + (1 << 20)
    with pytest.raises(jitspv.OutOfMemoryError) as err:
        jitspv.empty(nbytes // 4, np.float32)
    assert isinstance(err.value, MemoryError)
    assert (err.value.requested, err.value.limit) == (nbytes, limit)
    assert str(nbytes) in str(err.value) and str(limit) in str(err.value)
    assert "maxMemoryAllocationSize" in str(err.value) or "maxBufferSize" in str(err.value)
    x = jitspv.asarray(np.arange(1000, dtype=np.float32))   # still usable
    assert (x.numpy() == np.arange(1000)).all()


def test_max_buffer_size_is_respected_where_reported():
    import dataclasses
    import threading
    import types
    from jitspv.vk.memory import Heap
    device = get_device()
    props = dataclasses.replace(device.properties, max_buffer_size=1 << 20)
    fake = types.SimpleNamespace(name="fake", lock=threading.RLock(), properties=props)
    heap = Heap(fake, 0, mapped=True, block_size=BLOCK_SIZE)
    assert heap.block_size == 1 << 20
    with pytest.raises(jitspv.OutOfMemoryError, match="maxBufferSize"):
        heap.allocate((1 << 20) + 1)


@pytest.fixture
def failing_allocations(monkeypatch):
    """vkAllocateMemory fails with VK_ERROR_OUT_OF_DEVICE_MEMORY while `state["fail"]` > 0."""
    fn = get_device().fn
    real, state = fn.vkAllocateMemory, {"fail": 0, "calls": 0}

    def allocate(*args):
        state["calls"] += 1
        if state["fail"] > 0:
            state["fail"] -= 1
            return -2
        return real(*args)
    monkeypatch.setattr(fn, "vkAllocateMemory", allocate)
    return state


def test_out_of_memory_gives_back_cached_blocks_and_retries(failing_allocations):
    jitspv.synchronize()
    cached = [jitspv.empty(BLOCK_SIZE // 4) for _ in range(3)]
    del cached
    jitspv.empty(1)   # the next heap call frees what the collector dropped: empty blocks, cached
    reserved = jitspv.memory_reserved()
    retries = jitspv.memory_stats()["num_alloc_retries"]
    failing_allocations["fail"] = 1
    big = jitspv.full(5 * BLOCK_SIZE // 4, 2.5)    # needs a new block: fails once, then succeeds
    assert jitspv.memory_stats()["num_alloc_retries"] == retries + 1
    heap = get_device().memory.device_heap
    assert jitspv.memory_reserved() == sum(b.size for b in heap.blocks if b.used)  # no cached block left
    assert reserved > jitspv.memory_reserved() - heap.blocks[-1].size
    assert (big.numpy() == 2.5).all()


def test_out_of_memory_error_names_the_sizes(failing_allocations):
    ooms = jitspv.memory_stats()["num_ooms"]
    keep = jitspv.zeros(1000)
    failing_allocations["fail"] = 10**9
    nbytes = 5 * BLOCK_SIZE + 12
    import gc
    gc.collect()
    gc.disable()    # no array of an earlier test may be collected between the error and the check
    try:
        allocated = jitspv.memory_allocated()
        with pytest.raises(jitspv.OutOfMemoryError) as err:
            jitspv.empty(nbytes, np.uint8)
        reserved = jitspv.memory_reserved()   # after the cached blocks were given back
    finally:
        gc.enable()
    e = err.value
    assert e.requested == nbytes and e.limit is None and isinstance(e, MemoryError)
    assert (e.allocated, e.reserved) == (allocated, reserved)
    assert f"({nbytes} bytes)" in str(e) and f"({e.allocated} bytes)" in str(e) and f"({e.reserved} bytes)" in str(e)
    assert "retried" in str(e) and jitspv.memory_stats()["num_ooms"] == ooms + 1
    failing_allocations["fail"] = 0
    assert (keep.numpy() == 0).all()
    assert (jitspv.full(nbytes, 7, np.uint8).numpy() == 7).all()


def test_memory_statistics():
    jitspv.synchronize()
    jitspv.reset_peak_memory_stats()
    base = jitspv.memory_allocated()
    assert jitspv.max_memory_allocated() == base
    a = jitspv.empty(1000, np.float32)            # 4000 bytes, rounded up to 256
    b = jitspv.empty(3 << 20, np.uint8)
    assert jitspv.memory_allocated() == base + 4096 + (3 << 20)
    stats = jitspv.memory_stats()
    assert stats["allocated_bytes.all.current"] == jitspv.memory_allocated()
    assert stats["allocation.all.current"] >= 2 and stats["segment.all.current"] >= 1
    assert jitspv.memory_reserved() >= jitspv.memory_allocated()
    assert stats["reserved_bytes.all.peak"] >= stats["reserved_bytes.all.current"]
    del b                                          # freed by the collector: counted at once
    assert jitspv.memory_allocated() == base + 4096
    assert jitspv.max_memory_allocated() == base + 4096 + (3 << 20)
    jitspv.reset_peak_memory_stats()
    assert jitspv.max_memory_allocated() == base + 4096
    jitspv.empty_cache()
    heap = get_device().memory.device_heap
    assert all(block.used for block in heap.blocks)   # no empty block stays cached
    assert jitspv.memory_reserved() == sum(block.size for block in heap.blocks)
    del a
