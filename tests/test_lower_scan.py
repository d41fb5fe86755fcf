"""tt.scan and tt.histogram on lavapipe: cumsum/cumprod/associative_scan (user and tuple combine
functions that do not commute, so operand order is checked) along each axis of 1-D and 2-D
blocks, forward and reverse; histograms against np.bincount."""
import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv

rng = np.random.default_rng()


def _scan_ref(x, axis, reverse, fn):
    """Sequential scan in Triton's order: acc = fn(acc, next) along the scan direction."""
    x = np.moveaxis(x, axis, -1)
    if reverse:
        x = np.flip(x, -1)
    out = np.empty_like(x)
    acc = x[..., 0]
    out[..., 0] = acc
    for i in range(1, x.shape[-1]):
        acc = fn(acc, x[..., i])
        out[..., i] = acc
    if reverse:
        out = np.flip(out, -1)
    return np.moveaxis(out, -1, axis)


def _reversed_cumsum(x, axis):
    return np.flip(np.cumsum(np.flip(x, axis), axis), axis)


@jitspv.jit
def cumsum_2d(x_ptr, o_ptr, M, N, AXIS: tl.constexpr, REV: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr):
    rm = tl.arange(0, BM)
    rn = tl.arange(0, BN)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    x = tl.load(x_ptr + rm[:, None] * N + rn[None, :], mask=mask, other=0)
    tl.store(o_ptr + rm[:, None] * N + rn[None, :], tl.cumsum(x, AXIS, reverse=REV), mask=mask)


# (M, N, BM, BN, num_warps): 1xN and Mx1, blocks smaller than the workgroup (replicas), many
# registers per invocation along the axis, warps along the axis (subgroup totals through memory,
# several repetitions).
CASES_2D = [(1, 37, 1, 64, 1), (13, 1, 16, 1, 4), (16, 128, 16, 128, 4), (128, 16, 128, 16, 8),
            (7, 100, 8, 128, 8), (3, 5, 4, 8, 4), (33, 250, 64, 256, 4), (1, 3000, 1, 4096, 8)]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1])
def test_cumsum_2d_int_exact(axis, reverse):
    for M, N, BM, BN, nw in CASES_2D:
        x = rng.integers(-1000, 1000, (M, N)).astype(np.int32)
        out = np.full((M, N), -12345, np.int32)
        cumsum_2d[(1,)](x, out, M, N, AXIS=axis, REV=reverse, BM=BM, BN=BN, num_warps=nw)
        ref = _reversed_cumsum(x, axis) if reverse else np.cumsum(x, axis)
        np.testing.assert_array_equal(out, ref, err_msg=f"{M}x{N} block {BM}x{BN} num_warps={nw}")


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1])
def test_cumsum_2d_float(axis, reverse):
    for M, N, BM, BN, nw in CASES_2D[2:6]:
        x = rng.standard_normal((M, N)).astype(np.float32)
        out = np.full((M, N), np.nan, np.float32)
        cumsum_2d[(1,)](x, out, M, N, AXIS=axis, REV=reverse, BM=BM, BN=BN, num_warps=nw)
        x64 = x.astype(np.float64)
        ref = _reversed_cumsum(x64, axis) if reverse else np.cumsum(x64, axis)
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-4)


@triton.jit
def _last_nonzero(a, b):
    return tl.where(b != 0, b, a)


@triton.jit
def _affine(a1, b1, a2, b2):
    # x -> a2 * (a1 * x + b1) + b2: composing affine maps is associative but not commutative.
    return a1 * a2, a2 * b1 + b2


@jitspv.jit
def scans_1d(x_ptr, a_ptr, fill_ptr, prod_ptr, lin_ptr, n, REV: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=0)
    a = tl.load(a_ptr + offs, mask=mask, other=1)
    tl.store(fill_ptr + offs, tl.associative_scan(x, 0, _last_nonzero, reverse=REV), mask=mask)
    tl.store(prod_ptr + offs, tl.cumprod(a, 0, reverse=REV), mask=mask)
    _, h = tl.associative_scan((a, x), 0, _affine, reverse=REV)
    tl.store(lin_ptr + offs, h, mask=mask)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("num_warps", [1, 4, 8])
def test_user_and_tuple_scans_1d(num_warps, reverse):
    for n, block in [(1, 1), (5, 8), (100, 128), (1000, 1024), (1500, 2048)]:
        x = rng.integers(-50, 50, n).astype(np.int32) * (rng.random(n) < 0.2)
        x = x.astype(np.int32)
        a = rng.choice(np.array([-1, 1], np.int32), n)
        fill, prod, lin = (np.full(n, -12345, np.int32) for _ in range(3))
        scans_1d[(1,)](x, a, fill, prod, lin, n, REV=reverse, BLOCK=block, num_warps=num_warps)
        np.testing.assert_array_equal(fill, _scan_ref(x, 0, reverse, lambda p, q: np.where(q != 0, q, p)))
        np.testing.assert_array_equal(prod, _scan_ref(a, 0, reverse, lambda p, q: p * q))
        pairs = _scan_ref(np.stack([a, x], -1).astype(np.int64), 0, reverse,
                          lambda p, q: np.stack([p[..., 0] * q[..., 0], q[..., 0] * p[..., 1] + q[..., 1]], -1))
        np.testing.assert_array_equal(lin, pairs[..., 1].astype(np.int32))


@jitspv.jit
def cumsum_rows_f64(x_ptr, o_ptr, M, N, BM: tl.constexpr, BN: tl.constexpr):
    # 64-bit values move between subgroups as two words; one program per row block.
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.arange(0, BN)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    x = tl.load(x_ptr + rm[:, None] * N + rn[None, :], mask=mask, other=0.0)
    tl.store(o_ptr + rm[:, None] * N + rn[None, :], tl.cumsum(x, 1), mask=mask)


@pytest.mark.parametrize("num_warps", [1, 8])
def test_cumsum_f64_rows(num_warps):
    M, N = 19, 300
    x = rng.standard_normal((M, N))
    out = np.full((M, N), np.nan)
    cumsum_rows_f64[(triton.cdiv(M, 2),)](x, out, M, N, BM=2, BN=512, num_warps=num_warps)
    np.testing.assert_allclose(out, np.cumsum(x, 1), rtol=1e-12, atol=1e-12)


@jitspv.jit
def histogram_kernel(x_ptr, h_ptr, hm_ptr, n, limit, BLOCK: tl.constexpr, BINS: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=BINS)     # `other` is out of range: not counted
    bins = tl.arange(0, BINS)
    tl.store(h_ptr + bins, tl.histogram(x, BINS))
    tl.store(hm_ptr + bins, tl.histogram(x, BINS, mask=(offs < limit) & (offs < n)))


@pytest.mark.parametrize("num_warps", [1, 4, 8])
@pytest.mark.parametrize("n,block,bins", [(1, 2, 4), (100, 128, 16), (1000, 1024, 8), (77, 128, 512),
                                          (3000, 4096, 64), (5, 8, 1024)])
def test_histogram(n, block, bins, num_warps):
    # Values spill past both ends: negatives and values >= bins are dropped.
    x = rng.integers(-3, bins + 3, n).astype(np.int32)
    limit = int(rng.integers(0, n + 1))
    h, hm = np.full(bins, -1, np.int32), np.full(bins, -1, np.int32)
    histogram_kernel[(1,)](x, h, hm, n, limit, BLOCK=block, BINS=bins, num_warps=num_warps)
    keep = (x >= 0) & (x < bins)
    np.testing.assert_array_equal(h, np.bincount(x[keep], minlength=bins))
    head = x[:limit]
    np.testing.assert_array_equal(hm, np.bincount(head[(head >= 0) & (head < bins)], minlength=bins))


@jitspv.jit
def histogram_only(x_ptr, h_ptr, BLOCK: tl.constexpr, BINS: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(h_ptr + tl.arange(0, BINS), tl.histogram(tl.load(x_ptr + offs), BINS))


def test_histogram_beyond_workgroup_memory_is_out_of_resources():
    from jitspv.errors import OutOfResources
    bins = 1 << 16          # 256 KiB of counters: more than any device's workgroup memory
    with pytest.raises(OutOfResources) as err:
        histogram_only[(1,)](np.zeros(16, np.int32), np.zeros(bins, np.int32), BLOCK=16, BINS=bins)
    assert err.value.name == "shared memory" and err.value.required >= bins * 4


@jitspv.jit
def cumsum_3d(x_ptr, o_ptr, r_ptr, AXIS: tl.constexpr, A: tl.constexpr, B: tl.constexpr, C: tl.constexpr):
    a = tl.arange(0, A)[:, None, None]
    b = tl.arange(0, B)[None, :, None]
    c = tl.arange(0, C)[None, None, :]
    x = tl.load(x_ptr + a * B * C + b * C + c)
    tl.store(o_ptr + a * B * C + b * C + c, tl.cumsum(x, AXIS))
    tl.store(r_ptr + a * B * C + b * C + c, x - tl.sum(x, AXIS, keep_dims=True))


@pytest.mark.parametrize("num_warps", [1, 8])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_cumsum_3d(axis, num_warps):
    for shape in ((4, 8, 32), (2, 16, 4), (8, 2, 64)):
        x = rng.integers(-1000, 1000, shape).astype(np.int32)
        o, r = np.full(shape, -12345, np.int32), np.full(shape, -12345, np.int32)
        cumsum_3d[(1,)](x, o, r, AXIS=axis, A=shape[0], B=shape[1], C=shape[2], num_warps=num_warps)
        np.testing.assert_array_equal(o, np.cumsum(x, axis))
        np.testing.assert_array_equal(r, x - x.sum(axis, keepdims=True))


@jitspv.jit
def cumsum_rows_loop(x_ptr, c_ptr, d_ptr, M, N, BN: tl.constexpr):
    # Persistent loops: scans run repeatedly in one program, alone and next to a reduction.
    cols = tl.arange(0, BN)
    for row in range(tl.program_id(0), M, tl.num_programs(0)):
        x = tl.load(x_ptr + row * N + cols, mask=cols < N, other=0)
        tl.store(c_ptr + row * N + cols, tl.cumsum(x, 0), mask=cols < N)
    for row in range(tl.program_id(0), M, tl.num_programs(0)):
        x = tl.load(x_ptr + row * N + cols, mask=cols < N, other=0)
        tl.store(d_ptr + row * N + cols, tl.cumsum(x, 0, reverse=True) - tl.sum(x, 0), mask=cols < N)


@pytest.mark.parametrize("num_warps", [1, 4, 8])
def test_scans_in_loops(num_warps):
    M, N = 23, 1000
    x = rng.integers(-1000, 1000, (M, N)).astype(np.int32)
    c, d = np.full((M, N), -12345, np.int32), np.full((M, N), -12345, np.int32)
    cumsum_rows_loop[(4,)](x, c, d, M, N, BN=1024, num_warps=num_warps)
    np.testing.assert_array_equal(c, np.cumsum(x, 1))
    np.testing.assert_array_equal(d, _reversed_cumsum(x, 1) - x.sum(1, keepdims=True))
