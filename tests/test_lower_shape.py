"""Layout-moving shape ops on lavapipe: reshape/view, trans/permute (2-D and 3-D), join/split,
cat, broadcast_to, expand_dims / [:, None], round trips against numpy; tiles whose conversions
exceed the device's workgroup memory (in parts)."""
import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv

rng = np.random.default_rng()


def _ints(shape, dtype=np.int32):
    return rng.integers(-10**6, 10**6, shape).astype(dtype)


@jitspv.jit
def trans_2d(x_ptr, t_ptr, p_ptr, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)[:, None]
    rn = tl.arange(0, N)[None, :]
    x = tl.load(x_ptr + rm * N + rn)
    tm = tl.arange(0, N)[:, None]
    tn = tl.arange(0, M)[None, :]
    tl.store(t_ptr + tm * M + tn, tl.trans(x))
    tl.store(p_ptr + tm * M + tn, tl.permute(x, (1, 0)) + 1)


@pytest.mark.parametrize("num_warps", [1, 4, 8])
@pytest.mark.parametrize("M,N", [(1, 16), (16, 1), (4, 8), (32, 64), (64, 16)])
def test_trans_2d(M, N, num_warps):
    x = _ints((M, N))
    t, p = np.full((N, M), -7, np.int32), np.full((N, M), -7, np.int32)
    trans_2d[(1,)](x, t, p, M=M, N=N, num_warps=num_warps)
    np.testing.assert_array_equal(t, x.T)
    np.testing.assert_array_equal(p, x.T + 1)


@jitspv.jit
def permute_3d(x_ptr, o_ptr, A: tl.constexpr, B: tl.constexpr, C: tl.constexpr,
               P0: tl.constexpr, P1: tl.constexpr, P2: tl.constexpr,
               S0: tl.constexpr, S1: tl.constexpr, S2: tl.constexpr):
    a = tl.arange(0, A)[:, None, None]
    b = tl.arange(0, B)[None, :, None]
    c = tl.arange(0, C)[None, None, :]
    x = tl.load(x_ptr + a * B * C + b * C + c)
    y = tl.permute(x, (P0, P1, P2))
    i = tl.arange(0, S0)[:, None, None]
    j = tl.arange(0, S1)[None, :, None]
    k = tl.arange(0, S2)[None, None, :]
    tl.store(o_ptr + i * S1 * S2 + j * S2 + k, y)


@pytest.mark.parametrize("num_warps", [1, 4])
@pytest.mark.parametrize("perm", [(0, 2, 1), (2, 1, 0), (1, 2, 0), (2, 0, 1)])
def test_permute_3d(perm, num_warps):
    x = rng.standard_normal((2, 8, 16)).astype(np.float32)
    ref = np.transpose(x, perm)
    out = np.full(ref.shape, np.nan, np.float32)
    permute_3d[(1,)](x, out, *x.shape, *perm, *ref.shape, num_warps=num_warps)
    np.testing.assert_array_equal(out, ref)


@jitspv.jit
def reshape_view(x_ptr, r_ptr, v_ptr, M: tl.constexpr, N: tl.constexpr):
    offs = tl.arange(0, M * N)
    x = tl.load(x_ptr + offs)
    r = tl.reshape(x, (M, N))
    rm = tl.arange(0, M)[:, None]
    rn = tl.arange(0, N)[None, :]
    # The reshaped value feeds a reduction and is stored through a 2-D pointer block.
    tl.store(r_ptr + rm * N + rn, r - tl.sum(r, axis=1)[:, None])
    back = tl.reshape(tl.trans(r), (M * N,))
    tl.store(v_ptr + offs, back)


@pytest.mark.parametrize("num_warps", [1, 4, 8])
@pytest.mark.parametrize("M,N", [(2, 8), (16, 16), (8, 128), (64, 4)])
def test_reshape_round_trip(M, N, num_warps):
    x = _ints(M * N)
    r, v = np.full((M, N), -7, np.int32), np.full(M * N, -7, np.int32)
    reshape_view[(1,)](x, r, v, M=M, N=N, num_warps=num_warps)
    x2 = x.reshape(M, N).astype(np.int64)
    np.testing.assert_array_equal(r, (x2 - x2.sum(1, keepdims=True)).astype(np.int32))
    np.testing.assert_array_equal(v, x.reshape(M, N).T.reshape(-1))


@jitspv.jit
def join_split(a_ptr, b_ptr, j_ptr, s_ptr, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)[:, None]
    rn = tl.arange(0, N)[None, :]
    a = tl.load(a_ptr + rm * N + rn)
    b = tl.load(b_ptr + rm * N + rn)
    j = tl.join(a, b)                                   # (M, N, 2)
    k = tl.arange(0, 2)[None, None, :]
    tl.store(j_ptr + rm[:, :, None] * N * 2 + rn[:, :, None] * 2 + k, j)
    lo, hi = tl.split(j * 3)
    tl.store(s_ptr + rm * N + rn, hi - lo)


@pytest.mark.parametrize("num_warps", [1, 4, 8])
@pytest.mark.parametrize("M,N", [(1, 8), (4, 16), (32, 32)])
def test_join_split(M, N, num_warps):
    a, b = _ints((M, N)), _ints((M, N))
    j, s = np.full((M, N, 2), -7, np.int32), np.full((M, N), -7, np.int32)
    join_split[(1,)](a, b, j, s, M=M, N=N, num_warps=num_warps)
    np.testing.assert_array_equal(j, np.stack([a, b], -1))
    np.testing.assert_array_equal(s, b * 3 - a * 3)


@jitspv.jit
def cat_1d(a_ptr, b_ptr, o_ptr, s_ptr, N: tl.constexpr, REORDER: tl.constexpr):
    offs = tl.arange(0, N)
    c = tl.cat(tl.load(a_ptr + offs), tl.load(b_ptr + offs), can_reorder=REORDER)
    tl.store(o_ptr + tl.arange(0, 2 * N), c)
    tl.store(s_ptr, tl.sum(c))


@pytest.mark.filterwarnings("ignore:tl.cat\\(can_reorder=True\\) is deprecated")
@pytest.mark.parametrize("reorder", [True, False])
@pytest.mark.parametrize("num_warps", [1, 4])
@pytest.mark.parametrize("n", [1, 16, 256])
def test_cat(n, num_warps, reorder):
    if not reorder and tuple(int(v) for v in triton.__version__.split(".")[:2]) < (3, 9):
        pytest.skip("Triton before 3.9 requires can_reorder=True")
    a, b = _ints(n).astype(np.int64), _ints(n).astype(np.int64)
    out, s = np.full(2 * n, -7, np.int64), np.full(1, -7, np.int64)
    cat_1d[(1,)](a, b, out, s, N=n, REORDER=reorder, num_warps=num_warps)
    both = np.concatenate([a, b])
    if reorder:
        # can_reorder allows any element order: compare as multisets.
        np.testing.assert_array_equal(np.sort(out), np.sort(both))
    else:
        np.testing.assert_array_equal(out, both)
    assert s[0] == both.sum()


@jitspv.jit
def broadcast_expand(row_ptr, col_ptr, o_ptr, p_ptr, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    row = tl.load(row_ptr + rn)
    col = tl.load(col_ptr + rm)
    grid = tl.broadcast_to(tl.expand_dims(row, 0), (M, N)) * 10 + col[:, None]
    tl.store(o_ptr + rm[:, None] * N + rn[None, :], grid)
    # expand_dims at the end, a 3-D broadcast, reduced back over the new axis.
    cube = tl.broadcast_to(tl.expand_dims(grid, 2), (M, N, 4))
    tl.store(p_ptr + rm[:, None] * N + rn[None, :], tl.sum(cube, axis=2))


@pytest.mark.parametrize("num_warps", [1, 4, 8])
@pytest.mark.parametrize("M,N", [(1, 32), (8, 1), (16, 64), (64, 8)])
def test_broadcast_expand_dims(M, N, num_warps):
    row, col = _ints(N) // 100, _ints(M) // 100
    o, p = np.full((M, N), -7, np.int32), np.full((M, N), -7, np.int32)
    broadcast_expand[(1,)](row, col, o, p, M=M, N=N, num_warps=num_warps)
    ref = row[None, :] * 10 + col[:, None]
    np.testing.assert_array_equal(o, ref)
    np.testing.assert_array_equal(p, ref * 4)


@jitspv.jit
def item_as_scalar(x_ptr, o_ptr, s_ptr, N: tl.constexpr):
    # .item() (tt.unsplat) of a loaded 1-element tensor and of a [1, 1] reduction, used as
    # scalars: a loop bound and a scalar operand, and stored through a scalar pointer.
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    first = tl.load(x_ptr + tl.arange(0, 1)).item()
    total = tl.sum(tl.reshape(x, (1, N)), axis=1, keep_dims=True).item()
    acc = tl.zeros((N,), tl.int32)
    for _ in range(first % 4 + 1):
        acc += x
    tl.store(o_ptr + offs, acc * first)
    tl.store(s_ptr, total)


@pytest.mark.parametrize("num_warps", [1, 4])
@pytest.mark.parametrize("n", [1, 32, 256])
def test_item_as_scalar(n, num_warps):
    x = rng.integers(-1000, 1000, n).astype(np.int32)
    o, s = np.full(n, -7, np.int32), np.full(1, -7, np.int32)
    item_as_scalar[(1,)](x, o, s, N=n, num_warps=num_warps)
    trips = max(int(np.fmod(x[0], 4)) + 1, 0)   # Triton's % is C's: the sign of x[0]
    np.testing.assert_array_equal(o, x * trips * x[0])
    assert s[0] == x.sum()


@jitspv.jit
def sort_flip_interleave_view(x_ptr, y_ptr, s_ptr, f_ptr, i_ptr, v_ptr, N: tl.constexpr):
    # Triton builds sort and flip from reshapes to (2, 2, ..., 2) and reductions over them.
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    tl.store(s_ptr + offs, tl.sort(x))
    tl.store(f_ptr + offs, tl.flip(x, 0))
    tl.store(i_ptr + tl.arange(0, 2 * N), tl.interleave(x, y))
    # tl.view may reorder elements: its row sums are checked as a multiset.
    v = tl.view(x, (N // 2, 2))
    tl.store(v_ptr + tl.arange(0, N // 2), tl.sum(v, axis=1))


@pytest.mark.filterwarnings("ignore:view is deprecated")
@pytest.mark.parametrize("num_warps", [1, 4])
@pytest.mark.parametrize("n", [2, 16, 128])
def test_sort_flip_interleave_view(n, num_warps):
    x, y = _ints(n), _ints(n)
    s, f, i, v = (np.full(k, -7, np.int32) for k in (n, n, 2 * n, n // 2))
    sort_flip_interleave_view[(1,)](x, y, s, f, i, v, N=n, num_warps=num_warps)
    np.testing.assert_array_equal(s, np.sort(x))
    np.testing.assert_array_equal(f, x[::-1])
    np.testing.assert_array_equal(i, np.stack([x, y], -1).reshape(-1))
    assert v.sum() == x.sum() and (v != -7).all()


@jitspv.jit
def gather_2d(src_ptr, idx_ptr, o_ptr, M: tl.constexpr, N: tl.constexpr, I: tl.constexpr, J: tl.constexpr,
              AXIS: tl.constexpr):
    src = tl.load(src_ptr + tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :])
    ij = tl.arange(0, I)[:, None] * J + tl.arange(0, J)[None, :]
    tl.store(o_ptr + ij, tl.gather(src, tl.load(idx_ptr + ij), AXIS))


@pytest.mark.parametrize("num_warps", [1, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int64])
@pytest.mark.parametrize("axis, M, N, I, J", [(0, 16, 8, 32, 8), (1, 8, 16, 8, 4), (0, 4, 1, 2, 1),
                                             (1, 32, 32, 32, 64)])
def test_gather(axis, M, N, I, J, dtype, num_warps):
    src = (rng.standard_normal((M, N)) * 100).astype(dtype)
    idx = rng.integers(0, (M, N)[axis], (I, J)).astype(np.int64 if dtype == np.int64 else np.int32)
    out = np.full((I, J), -7, dtype)
    gather_2d[(1,)](src, idx, out, M, N, I, J, axis, num_warps=num_warps)
    np.testing.assert_array_equal(out, np.take_along_axis(src, idx, axis))


def test_gather_index_and_result_share_an_encoding():
    # int64 indices (torch.randint's default) of 8192 elements: converting them to the result's
    # encoding would need 64 KiB of workgroup memory (lavapipe has 32); the result takes theirs.
    src = rng.standard_normal((4, 4)).astype(np.float32)
    idx = rng.integers(0, 4, (2048, 4)).astype(np.int64)
    out = np.full((2048, 4), np.nan, np.float32)
    gather_2d[(1,)](src, idx, out, 4, 4, 2048, 4, 0)
    np.testing.assert_array_equal(out, np.take_along_axis(src, idx, 0))


# Each moves more than lavapipe's 32 KiB through workgroup memory at once: in parts.
BEYOND_WORKGROUP_MEMORY = {
    "trans 128x128 i32": lambda: test_trans_2d(128, 128, 4),
    "permute 8x32x64 f32": lambda: _check_permute((8, 32, 64), (2, 0, 1), np.float32, 4),
    "permute 4x16x128 f64": lambda: _check_permute((4, 16, 128), (0, 2, 1), np.float64, 8),
    "reshape 128x128 i32": lambda: test_reshape_round_trip(128, 128, 4),
    "join/split 64x128 i32": lambda: test_join_split(64, 128, 4),
    "cat 2x4096 i64": lambda: test_cat(4096, 8, False),
}


SLOW_ON_MESA25 = ("reshape 128x128 i32", "join/split 64x128 i32")   # slow_compile (pyproject.toml)


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow_compile) if c in SLOW_ON_MESA25 else c
                                  for c in BEYOND_WORKGROUP_MEMORY])
def test_shape_ops_beyond_workgroup_memory_go_in_parts(case):
    BEYOND_WORKGROUP_MEMORY[case]()


def _check_permute(shape, perm, dtype, num_warps):
    x = rng.standard_normal(shape).astype(dtype)
    ref = np.transpose(x, perm)
    out = np.full(ref.shape, np.nan, dtype)
    permute_3d[(1,)](x, out, *x.shape, *perm, *ref.shape, num_warps=num_warps)
    np.testing.assert_array_equal(out, ref)
