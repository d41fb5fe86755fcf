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
