"""Host arrays as arguments: whole buffers used in place (where the device imports host memory) or
copied once, view offsets kept, aliasing preserved; read-only arrays refused where the kernel writes,
big-endian ones everywhere; scalars out of range named."""
import numpy as np
import pytest
import triton
from triton.runtime.jit import TensorWrapper
import triton.language as tl

import jitspv
import jitspv.frontend.runtime
from jitspv.vk.device import get_device

from jitspv.frontend.host_arrays import HostTransfers

rng = np.random.default_rng()


@pytest.fixture(params=["in place", "copied"])
def placement(request, monkeypatch):
    """Host arrays imported in place (where the device can) or copied: the tests run both ways."""
    if request.param == "copied":
        monkeypatch.setattr(jitspv.frontend.runtime, "import_host", lambda lo, hi, owners: None)
    elif not get_device().memory.host_arrays_in_place():
        pytest.skip("the device does not import host memory into device-local memory (VK_EXT_external_memory_host)")
    return request.param


def _device_buffers(transfers):
    """(VkBuffer, offset in it, device address there, bytes) of every import and device copy."""
    found = [(i.buffer, i.offset, i.address, i.nbytes) for i in transfers._imports]
    for host, device, _ in transfers._buffers:
        alloc = device._alloc
        found.append((alloc.buffer, alloc.offset + device.data_ptr() - alloc.address, device.data_ptr(), host.size))
    return found


def _device_bytes(transfers, address, nbytes):
    """Read `nbytes` at device `address` back through the buffer that holds it (a device copy)."""
    for buffer, offset, base, size in _device_buffers(transfers):
        if base <= address and address + nbytes <= base + size:
            out = jitspv.empty(max(nbytes, 1), np.uint8)
            get_device().stream.copy_buffer(buffer, offset + address - base, out._alloc.buffer,
                                                      out._alloc.offset, nbytes)
            return out.numpy()[:nbytes].tobytes()
    raise AssertionError("address outside every device buffer")


def _write_device_bytes(transfers, address, data: bytes):
    for buffer, offset, base, size in _device_buffers(transfers):
        if base <= address and address + len(data) <= base + size:
            src = jitspv.asarray(np.frombuffer(data, np.uint8))
            get_device().stream.copy_buffer(src._alloc.buffer, src._alloc.offset, buffer,
                                                      offset + address - base, len(data))
            return
    raise AssertionError("address outside every device buffer")


def test_views_of_one_buffer_share_one_device_buffer(placement):
    n = int(rng.integers(50, 300))
    base = rng.standard_normal(n).astype(np.float32)
    lo, hi = sorted(rng.integers(0, n, 2))
    v1, v2 = base[lo:hi + 1], base[::3]
    other = rng.standard_normal(int(rng.integers(1, 40)))
    t = HostTransfers([v1, 7, v2, other])
    a1, d1 = t.address(v1)
    a2, d2 = t.address(v2)
    a3, d3 = t.address(other)
    assert len(_device_buffers(t)) == 2
    assert len(t._imports if placement == "in place" else t._buffers) == 2
    assert a1 - a2 == lo * 4 and d1 == np.float32 and d3 == np.float64
    # The device copy is of the whole buffer: reading from the view's address gives the view's data.
    assert _device_bytes(t, a1, v1.nbytes) == v1.tobytes()
    assert _device_bytes(t, a2, base.nbytes) == base.tobytes()
    assert _device_bytes(t, a3, other.nbytes) == other.tobytes()


def test_writeback_reaches_every_view_and_skips_read_only(placement):
    base = rng.standard_normal(64).astype(np.float32)
    view = base[16:]
    frozen = rng.standard_normal(10).astype(np.float32)
    frozen.flags.writeable = False
    t = HostTransfers([view, frozen])
    address, _ = t.address(view)
    t.address(frozen)
    new = rng.standard_normal(48).astype(np.float32)
    _write_device_bytes(t, address, new.tobytes())
    expected_front = base[:16].copy()
    t.download()
    np.testing.assert_array_equal(view, new)
    np.testing.assert_array_equal(base[:16], expected_front)


def test_transposed_and_zero_stride_views_pass_storage_start(placement):
    m = rng.standard_normal((5, 7)).astype(np.float32)
    row, mt = np.broadcast_to(m[2], (3, 7)), m.T
    t = HostTransfers([mt, row])
    at, _ = t.address(mt)
    ar, _ = t.address(row)
    assert len(_device_buffers(t)) == 1
    assert _device_bytes(t, at, m.nbytes) == m.tobytes()
    assert ar - at == 2 * 7 * 4


def test_tensor_wrapper_base_is_transferred(placement):
    x = rng.integers(0, 2**31, 33).astype(np.int32)
    w = TensorWrapper(x, tl.uint32)
    t = HostTransfers([w])
    address, dtype = t.address(x)
    assert dtype == np.int32 and _device_bytes(t, address, x.nbytes) == x.tobytes()


def test_bad_host_object_reports_itself_only():
    class Cuda:
        __dlpack__ = None
        device = type("D", (), {"type": "cuda"})()

    good = rng.standard_normal(5)
    t = HostTransfers([good, Cuda()])
    assert t.address(good)[1] == np.float64
    with pytest.raises(TypeError, match="cuda"):
        t.address(t._values[1])


# -- launches: what the kernel does with an argument decides what host arrays it may be --

@jitspv.jit
def axpy(x_ptr, y_ptr, out_ptr, n, alpha, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, alpha * tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


@jitspv.jit
def scatter_count(idx_ptr, a_ptr, b_ptr, count_ptr, n, BLOCK: tl.constexpr):
    # Writes through a pointer chosen at run time (scf.if), one advanced in a loop (an iter_arg),
    # an index loaded from memory (idx_ptr is only read) and an atomic.
    offs = tl.arange(0, BLOCK)
    if n > 100:
        dst = a_ptr
    else:
        dst = b_ptr
    ptrs = dst + tl.load(idx_ptr + offs, mask=offs < n, other=0)
    for _ in range(2):
        tl.store(ptrs, offs.to(tl.float32), mask=offs < n)
        ptrs += 1
    tl.atomic_add(count_ptr, 1)


@jitspv.jit
def store_to_address(x_ptr, address_ptr, BLOCK: tl.constexpr):
    # A pointer made from an integer may be any argument's.
    offs = tl.arange(0, BLOCK)
    dst = tl.load(address_ptr).to(tl.pointer_type(tl.float32))
    tl.store(dst + offs, tl.load(x_ptr + offs))


def _axpy(x, y, out, alpha=1.5):
    n = x.size
    return axpy[(triton.cdiv(n, 64),)](x, y, out, n, alpha, BLOCK=64)


def _vectors(n):
    return rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)


def test_kernel_records_the_pointers_it_writes():
    k = axpy.warmup(np.float32, np.float32, np.float32, 100, 1.0, BLOCK=64, grid=(1,))
    assert k.stored_params == {2}
    k = scatter_count.warmup(np.int32, np.float32, np.float32, np.int32, 100, BLOCK=64, grid=(1,))
    assert k.stored_params == {1, 2, 3}
    k = store_to_address.warmup(np.float32, np.int64, BLOCK=16, grid=(1,))
    assert k.stored_params == {0, 1}


def test_read_only_inputs_work():
    n = int(rng.integers(10, 500)) | 1
    x, y = _vectors(n)
    x.flags.writeable = False
    frozen_y = np.broadcast_to(y, (n,))   # numpy marks broadcast views read-only
    out = np.full(n, np.nan, np.float32)
    _axpy(x, frozen_y, out)
    np.testing.assert_allclose(out, 1.5 * x + y, rtol=1e-6, atol=1e-6)   # FMA (NVIDIA) vs mul + add


def test_read_only_output_is_refused_naming_the_parameter():
    n = int(rng.integers(10, 500)) | 1
    x, y = _vectors(n)
    out = np.full(n, np.nan, np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="axpy\\(\\): argument 'out_ptr' is a read-only array"):
        _axpy(x, y, out)
    assert np.isnan(out).all()
    # A writable output sharing its buffer with a read-only argument is not written back either.
    base = np.full(2 * n, np.nan, np.float32)
    head = base[:n]
    head.flags.writeable = False
    with pytest.raises(ValueError, match="'out_ptr'"):
        _axpy(head, y, base[n:])
    writable = np.full(n, np.nan, np.float32)   # and the process goes on
    _axpy(x, y, writable)
    np.testing.assert_allclose(writable, 1.5 * x + y, rtol=1e-6, atol=1e-6)   # FMA (NVIDIA) vs mul + add


def test_launch_with_host_arrays_copies_nothing_where_they_are_used_in_place(placement):
    n = int(rng.integers(5000, 9000)) | 1
    x, y = _vectors(n)
    out = np.full(n, np.nan, np.float32)
    memory = get_device().memory
    jitspv.synchronize()
    live = memory.live_ranges()
    jitspv.reset_peak_memory_stats()
    before = jitspv.memory_allocated()   # arrays earlier tests left alive
    _axpy(x, y, out)
    np.testing.assert_allclose(out, 1.5 * x + y, rtol=1e-6, atol=1e-6)   # FMA (NVIDIA) vs mul + add
    copied = jitspv.max_memory_allocated() - before
    assert copied == 0 if placement == "in place" else copied >= 3 * x.nbytes
    assert memory.live_ranges() == live   # the imports (or copies) went with the launch


def test_transfers_dropped_unlaunched_release_their_imports(placement):
    import gc
    memory = get_device().memory
    jitspv.synchronize()
    live = memory.live_ranges()
    earlier = rng.standard_normal(5)   # one an earlier test dropped: not live though not yet released
    HostTransfers([earlier]).address(earlier)
    gc.collect()
    assert memory.live_ranges() == live
    x = rng.standard_normal(1000)
    t = HostTransfers([x])
    t.address(x)
    assert len(memory.live_ranges()) == len(live) + 1   # tracked while it may be used
    del t
    gc.collect()
    x2, y2 = _vectors(77)
    out = np.full(77, np.nan, np.float32)
    _axpy(x2, y2, out)   # the next import frees what was dropped
    np.testing.assert_allclose(out, 1.5 * x2 + y2, rtol=1e-6, atol=1e-6)
    if placement == "in place":
        assert not memory.dropped_imports
    jitspv.synchronize()
    assert memory.live_ranges() == live


def test_memory_imported_again_stays_live_when_the_earlier_import_goes(placement):
    """Host memory imported again while an earlier import of it is still unreleased (an exception's
    traceback holding the first launch's transfers): where the device's addresses are the host's
    (lavapipe) both imports have one address, and collecting the first must not end the second's
    live range (the bounds mode's tables and live_ranges read it)."""
    import gc
    memory = get_device().memory
    jitspv.synchronize()
    live = memory.live_ranges()
    x = rng.standard_normal(1000)
    first = HostTransfers([x])
    first.address(x)
    second = HostTransfers([x])
    address, _ = second.address(x)
    del first
    gc.collect()
    assert any(lo <= address < lo + n for lo, n in memory.live_ranges()), (address, memory.live_ranges())
    del second
    gc.collect()
    jitspv.synchronize()
    assert memory.live_ranges() == live


@pytest.mark.parametrize("which", ["x_ptr", "out_ptr"])
def test_big_endian_arrays_are_refused_naming_the_parameter(which):
    n = int(rng.integers(10, 500)) | 1
    x, y = _vectors(n)
    out = np.full(n, np.nan, np.float32)
    args = {"x_ptr": x, "out_ptr": out}
    args[which] = args[which].astype(">f4")
    with pytest.raises(TypeError, match=f"argument '{which}': its elements are not in native byte order"):
        _axpy(args["x_ptr"], y, args["out_ptr"])
    _axpy(x.astype(">f4").astype(np.float32), y, out)
    np.testing.assert_allclose(out, 1.5 * x + y, rtol=1e-6, atol=1e-6)   # FMA (NVIDIA) vs mul + add


@pytest.mark.parametrize("alpha", [1e300, -1e39])
def test_fp32_scalar_out_of_range_names_the_parameter(alpha):
    x, y = _vectors(33)
    out = np.full(33, np.nan, np.float32)
    with pytest.raises(OverflowError, match="axpy\\(\\): argument 'alpha' = .* out of range .*fp32"):
        _axpy(x, y, out, alpha=alpha)
    _axpy(x, y, out, alpha=float("inf"))   # inf is an fp32
    np.testing.assert_array_equal(out, np.float32("inf") * x + y)


@jitspv.jit
def store_scalar(v, o_ptr):
    tl.store(o_ptr, v)


def test_u64_scalars_pass_their_bits():
    # Triton passes ints in [2**63, 2**64) as u64 (TTIR's i64 holds the bits); beyond, or below
    # -2**63, Triton's own specializer refuses them (OverflowError).
    for v in (2**64 - 1, 2**63, int(rng.integers(2**63, 2**64, dtype=np.uint64)), -2**63, -int(rng.integers(1, 2**62))):
        out = np.full(1, 7, np.uint64)
        store_scalar[(1,)](v, TensorWrapper(out, tl.uint64) if v >= 0 else out.view(np.int64))
        assert int(out[0]) == v % 2**64, v
    for v in (2**64, -2**63 - 1):
        with pytest.raises(OverflowError):
            store_scalar[(1,)](v, np.zeros(1, np.int64))


def test_device_copy_keeps_the_host_address_modulo_16(placement):
    # Triton specializes on the host pointer's alignment: the device copy or import must keep it.
    raw = bytearray(4096)
    start = np.frombuffer(raw, np.uint8).__array_interface__["data"][0]
    for shift in (4, 8, 12, 0):
        skip = (shift - start) % 16
        host = np.frombuffer(raw, np.uint8, count=256, offset=skip).view(np.float32)
        assert host.__array_interface__["data"][0] % 16 == shift
        t = HostTransfers([host])
        address, _ = t.address(host)
        assert address % 16 == shift
        assert _device_bytes(t, address, host.nbytes) == host.tobytes()


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def test_torch_bf16_requires_grad_and_views_run_through_raw_storage(torch):
    @jitspv.jit
    def scaled_copy(x_ptr, w_ptr, out_ptr, n, stride, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        mask = offs < n
        x = tl.load(x_ptr + offs * stride, mask=mask).to(tl.float32)
        tl.store(out_ptr + offs, x * tl.load(w_ptr + offs, mask=mask), mask=mask)

    n = int(rng.integers(20, 120))
    x = torch.randn(3 * n + 5, dtype=torch.bfloat16)[5::3]            # a strided view with an offset
    w = torch.randn(n, requires_grad=True)
    out = torch.full((n,), float("nan"))
    scaled_copy[(1,)](x, w, out, n, x.stride(0), BLOCK=128)
    expected = x.float().numpy() * w.detach().numpy()
    np.testing.assert_array_equal(out.numpy(), expected)
    assert w.requires_grad and w.grad is None


@jitspv.jit
def select_integer_pointers(cond_ptr, a_ptr, b_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    a = tl.load(a_ptr + offs, mask=m).to(tl.pi32_t)
    b = tl.load(b_ptr + offs, mask=m).to(tl.pi32_t)
    tl.store(out_ptr + offs, tl.where(tl.load(cond_ptr + offs, mask=m), a, b), mask=m)


def test_integers_made_pointers_but_never_dereferenced_are_no_pointer_table(placement):
    # Random integers (no addresses of anything) become pointers only to be selected and stored:
    # the launch must not check them as pointer tables (test_core's test_where[*int32]).
    n = 1000
    cond = rng.random(n) < 0.5
    a, b = (rng.integers(-2**63, 2**63, n, dtype=np.int64) for _ in range(2))
    out = np.full(n, -1, np.int64)
    select_integer_pointers[(jitspv.cdiv(n, 256),)](cond, a, b, out, n, BLOCK=256)
    np.testing.assert_array_equal(out, np.where(cond, a, b))


@jitspv.jit
def gather_through_table(table, out, BLOCK: tl.constexpr):
    g = tl.program_id(0)
    src = tl.load(table + g).to(tl.pointer_type(tl.float32))
    offs = tl.arange(0, BLOCK)
    tl.store(out + g * BLOCK + offs, tl.load(src + offs))


def test_pointer_tables_of_torch_tensors_with_jitspv_jit(placement):
    # jitspv.jit with a numpy table of torch CPU tensors' data_ptr(): the tensors are found (a scan
    # of live objects, then remembered while they live), copied or imported, and read by the device.
    import gc
    import torch
    from jitspv.frontend import host_arrays
    rows = [torch.randn(64) for _ in range(3)]
    table = np.array([r.data_ptr() for r in rows], np.int64)
    out = np.full((3, 64), np.nan, np.float32)
    gather_through_table[(3,)](table, out, BLOCK=64)
    np.testing.assert_array_equal(out, torch.stack(rows).numpy())
    remembered = {lo for lo, (ref, _) in host_arrays._HOLDERS.items() if ref() is not None}
    assert {r.untyped_storage().data_ptr() for r in rows} <= remembered
    lost = [r.untyped_storage().data_ptr() for r in rows]
    del rows
    gc.collect()
    assert not set(lost) & set(host_arrays._HOLDERS)   # the dead tensors are forgotten
    # Their addresses now lie in nothing: refused before the launch, out untouched.
    out[:] = np.nan
    with pytest.raises(ValueError, match=r"argument 'table' holds pointers .* lies in no device memory of jitspv"):
        gather_through_table[(3,)](table, out, BLOCK=64)
    assert np.isnan(out).all()
