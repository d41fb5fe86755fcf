"""tt.reduce on lavapipe: sum/max/min along each axis of 2-D and 3-D blocks, argmax/argmin with
Triton's tie-breaking and NaN skipped, user combine functions (scalar and tuple), masked loads with `other`,
results used as scalars and broadcast back (softmax rows), replicated layouts."""
import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv

rng = np.random.default_rng()


def _data(shape, dtype):
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(-1000, 1000, shape).astype(dtype)


def _poison(n, dtype):
    return np.full(n, np.nan if np.dtype(dtype).kind == "f" else -12345, dtype)


@jitspv.jit
def reduce_2d(x_ptr, sum_ptr, max_ptr, min_ptr, M, N, stride_m,
              AXIS: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr):
    rm = tl.arange(0, BM)
    rn = tl.arange(0, BN)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    ptrs = x_ptr + rm[:, None] * stride_m + rn[None, :]
    # Masked-off elements take each reduction's identity through `other`.
    s = tl.sum(tl.load(ptrs, mask=mask, other=0), axis=AXIS)
    hi = tl.max(tl.load(ptrs, mask=mask, other=-1000000), axis=AXIS)
    lo = tl.min(tl.load(ptrs, mask=mask, other=1000000), axis=AXIS)
    if AXIS == 0:
        offs = rn
        keep = rn < N
    else:
        offs = rm
        keep = rm < M
    tl.store(sum_ptr + offs, s, mask=keep)
    tl.store(max_ptr + offs, hi, mask=keep)
    tl.store(min_ptr + offs, lo, mask=keep)


# (M, N, BM, BN): 1xN, Mx1, wide, tall, masked odd sizes, blocks smaller than the workgroup.
SHAPES_2D = [(1, 37, 1, 64), (13, 1, 16, 1), (16, 128, 16, 128), (128, 16, 128, 16),
             (7, 100, 8, 128), (3, 5, 4, 8), (33, 250, 64, 256)]


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
# Axis 1 over 4 warps: lavapipe of Mesa 25 compiles those kernels for 30-45 s (cold), so its run in
# scripts/test.sh leaves them out (slow_compile); every run on Mesa 22 has them.
@pytest.mark.parametrize("axis,num_warps", [(a, w) if (a, w) != (1, 4) else pytest.param(a, w, marks=pytest.mark.slow_compile)
                                            for a in (0, 1) for w in (1, 4, 8)])
def test_sum_max_min_2d(axis, num_warps, dtype):
    for M, N, BM, BN in SHAPES_2D:
        x = _data((M, N), dtype)
        n_out = N if axis == 0 else M
        outs = [_poison(n_out, dtype) for _ in range(3)]
        reduce_2d[(1,)](x, *outs, M, N, N, AXIS=axis, BM=BM, BN=BN, num_warps=num_warps)
        if dtype == np.float32:
            np.testing.assert_allclose(outs[0], x.astype(np.float64).sum(axis), rtol=1e-5, atol=1e-4)
        else:
            np.testing.assert_array_equal(outs[0], x.sum(axis, dtype=np.int64).astype(np.int32))
        np.testing.assert_array_equal(outs[1], x.max(axis))
        np.testing.assert_array_equal(outs[2], x.min(axis))


@jitspv.jit
def reduce_3d(x_ptr, o_ptr, AXIS: tl.constexpr, A: tl.constexpr, B: tl.constexpr, C: tl.constexpr):
    a = tl.arange(0, A)[:, None, None]
    b = tl.arange(0, B)[None, :, None]
    c = tl.arange(0, C)[None, None, :]
    x = tl.load(x_ptr + a * B * C + b * C + c)
    r = tl.sum(x, axis=AXIS)
    if AXIS == 0:
        tl.store(o_ptr + tl.arange(0, B)[:, None] * C + tl.arange(0, C)[None, :], r)
    elif AXIS == 1:
        tl.store(o_ptr + tl.arange(0, A)[:, None] * C + tl.arange(0, C)[None, :], r)
    else:
        tl.store(o_ptr + tl.arange(0, A)[:, None] * B + tl.arange(0, B)[None, :], r)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize("num_warps", [1, 4])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_sum_3d(axis, num_warps, dtype):
    for A, B, C in [(4, 8, 32), (2, 16, 4)]:
        x = _data((A, B, C), dtype)
        ref = x.astype(np.float64 if dtype == np.float32 else np.int64).sum(axis)
        out = _poison(ref.size, dtype)
        reduce_3d[(1,)](x, out, AXIS=axis, A=A, B=B, C=C, num_warps=num_warps)
        if dtype == np.float32:
            np.testing.assert_allclose(out.reshape(ref.shape), ref, rtol=1e-5, atol=1e-4)
        else:
            np.testing.assert_array_equal(out.reshape(ref.shape), ref)


@jitspv.jit
def arg_reduce(x_ptr, imax_ptr, imin_ptr, vmax_ptr, M, N, BM: tl.constexpr, BN: tl.constexpr):
    rm = tl.arange(0, BM)
    rn = tl.arange(0, BN)
    mask = (rm[:, None] < M) & (rn[None, :] < N)
    x = tl.load(x_ptr + rm[:, None] * N + rn[None, :], mask=mask, other=-1000)
    y = tl.load(x_ptr + rm[:, None] * N + rn[None, :], mask=mask, other=1000)
    vmax, imax = tl.max(x, axis=1, return_indices=True, return_indices_tie_break_left=True)
    tl.store(imax_ptr + rm, imax, mask=rm < M)
    tl.store(vmax_ptr + rm, vmax, mask=rm < M)
    tl.store(imin_ptr + rm, tl.argmin(y, axis=1), mask=rm < M)


@pytest.mark.parametrize("num_warps", [1, 4, 8])
@pytest.mark.parametrize("M,N,BM,BN", [(5, 300, 8, 512), (17, 9, 32, 16), (1, 64, 1, 64), (29, 100, 32, 128)])
def test_argmax_argmin_ties_take_smallest_index(M, N, BM, BN, num_warps):
    # Few distinct values: every row has ties, and the smallest index must win.
    x = rng.integers(-3, 4, (M, N)).astype(np.int32)
    imax, imin, vmax = _poison(M, np.int32), _poison(M, np.int32), _poison(M, np.int32)
    arg_reduce[(1,)](x, imax, imin, vmax, M, N, BM=BM, BN=BN, num_warps=num_warps)
    np.testing.assert_array_equal(imax, x.argmax(1))
    np.testing.assert_array_equal(imin, x.argmin(1))
    np.testing.assert_array_equal(vmax, x.max(1))


@pytest.mark.parametrize("num_warps", [1, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("M,N,BM,BN", [(5, 300, 8, 512), (17, 9, 32, 16), (1, 3, 1, 4), (29, 100, 32, 128)])
def test_argmax_argmin_skip_nan(M, N, BM, BN, dtype, num_warps):
    # As tl.max/tl.min and Triton's test_argmax_argmin_with_nan: NaN never wins, wherever it sits.
    x = rng.integers(-3, 4, (M, N)).astype(dtype)
    x[rng.random((M, N)) < 0.3] = np.nan
    x[:, 0] = np.nan                # a NaN where the fold starts
    x[:, rng.integers(1, N)] = 5    # every row has a number
    imax, imin, vmax = _poison(M, np.int32), _poison(M, np.int32), _poison(M, dtype)
    arg_reduce[(1,)](x, imax, imin, vmax, M, N, BM=BM, BN=BN, num_warps=num_warps)
    np.testing.assert_array_equal(imax, np.nanargmax(x, 1))
    np.testing.assert_array_equal(imin, np.nanargmin(x, 1))
    np.testing.assert_array_equal(vmax, np.nanmax(x, 1))


@triton.jit
def _max_abs(a, b):
    return tl.maximum(tl.abs(a), tl.abs(b))


@triton.jit
def _sum_and_sumsq(a, a2, b, b2):
    return a + b, a2 + b2


@jitspv.jit
def user_reduce(x_ptr, maxabs_ptr, sum_ptr, sumsq_ptr, total_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
    tl.store(maxabs_ptr, tl.reduce(x, 0, _max_abs))
    s, s2 = tl.reduce((x, x * x), 0, _sum_and_sumsq)
    tl.store(sum_ptr, s)
    tl.store(sumsq_ptr, s2)
    # A scalar result used again in tensor arithmetic.
    tl.store(total_ptr + offs, x - s / n, mask=offs < n)


@pytest.mark.parametrize("num_warps", [1, 4, 8])
@pytest.mark.parametrize("n,block", [(1, 16), (100, 128), (1000, 1024), (3001, 4096)])
def test_user_combine_scalar_and_tuple(n, block, num_warps):
    x = rng.standard_normal(n).astype(np.float32)
    maxabs, s, s2 = (_poison(1, np.float32) for _ in range(3))
    centered = _poison(n, np.float32)
    user_reduce[(1,)](x, maxabs, s, s2, centered, n, BLOCK=block, num_warps=num_warps)
    x64 = x.astype(np.float64)
    assert maxabs[0] == np.abs(x).max()
    np.testing.assert_allclose(s[0], x64.sum(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(s2[0], (x64 * x64).sum(), rtol=1e-5)
    np.testing.assert_allclose(centered, x64 - x64.sum() / n, rtol=1e-5, atol=1e-4)


@jitspv.jit
def softmax_block(x_ptr, o_ptr, M, N, BM: tl.constexpr, BN: tl.constexpr):
    rows = tl.program_id(0) * BM + tl.arange(0, BM)
    cols = tl.arange(0, BN)
    mask = (rows[:, None] < M) & (cols[None, :] < N)
    x = tl.load(x_ptr + rows[:, None] * N + cols[None, :], mask=mask, other=-float("inf"))
    z = x - tl.max(x, axis=1)[:, None]
    e = tl.exp(z)
    y = e / tl.broadcast_to(tl.expand_dims(tl.sum(e, axis=1), 1), (BM, BN))
    tl.store(o_ptr + rows[:, None] * N + cols[None, :], y, mask=mask)


@pytest.mark.parametrize("num_warps", [1, 4, 8])
@pytest.mark.parametrize("M,N,BM,BN", [(37, 129, 4, 256), (10, 7, 16, 8), (65, 1000, 2, 1024)])
def test_softmax_rows_broadcast_back(M, N, BM, BN, num_warps):
    x = rng.standard_normal((M, N)).astype(np.float32) * 4
    out = _poison(M * N, np.float32).reshape(M, N)
    softmax_block[(triton.cdiv(M, BM),)](x, out, M, N, BM=BM, BN=BN, num_warps=num_warps)
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(1, keepdims=True))
    np.testing.assert_allclose(out, e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)


@jitspv.jit
def reduce_f64_u8(x_ptr, b_ptr, o_ptr, ob_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
    b = tl.load(b_ptr + offs, mask=offs < n, other=0)
    tl.store(o_ptr, tl.sum(x))
    tl.store(ob_ptr, tl.max(b, axis=0))


@pytest.mark.parametrize("num_warps", [1, 8])
def test_reduce_f64_and_u8(num_warps):
    for n, block in [(5, 8), (777, 1024)]:
        x = rng.standard_normal(n)
        b = rng.integers(0, 256, n).astype(np.uint8)
        o, ob = _poison(1, np.float64), np.zeros(1, np.uint8)
        reduce_f64_u8[(1,)](x, b, o, ob, n, BLOCK=block, num_warps=num_warps)
        np.testing.assert_allclose(o[0], x.sum(), rtol=1e-12)
        assert ob[0] == b.max()


@jitspv.jit
def row_stats_loop(x_ptr, sum_ptr, norm_ptr, M, N, BN: tl.constexpr):
    # Persistent loop: reductions run repeatedly in one program and reuse workgroup memory.
    cols = tl.arange(0, BN)
    for row in range(tl.program_id(0), M, tl.num_programs(0)):
        x = tl.load(x_ptr + row * N + cols, mask=cols < N, other=0.0)
        tl.store(sum_ptr + row, tl.sum(x, axis=0))
    for row in range(tl.program_id(0), M, tl.num_programs(0)):
        x = tl.load(x_ptr + row * N + cols, mask=cols < N, other=0.0)
        centered = x - tl.sum(x, axis=0) / N
        tl.store(norm_ptr + row * N + cols, centered / tl.max(tl.abs(centered), axis=0), mask=cols < N)


@pytest.mark.parametrize("num_warps", [1, 4, 8])
def test_reductions_in_loops(num_warps):
    M, N = 57, 999
    x = rng.standard_normal((M, N)).astype(np.float32)
    sums, norm = _poison(M, np.float32), _poison(M * N, np.float32).reshape(M, N)
    row_stats_loop[(5,)](x, sums, norm, M, N, BN=1024, num_warps=num_warps)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(sums, x64.sum(1), rtol=1e-5, atol=1e-4)
    c = x64 - x64.mean(1, keepdims=True)
    np.testing.assert_allclose(norm, c / np.abs(c).max(1, keepdims=True), rtol=1e-5, atol=1e-5)
