"""i1, i8 and i16 through every arith/reduce/scan/shape op family: valid SPIR-V (spirv-val runs on
every module here) and Triton's results. i1 is a 1-bit integer whose arithmetic wraps mod 2 (LLVM's
i1, what Triton's CUDA backend computes): true + true is false, true - false is true; an unsigned op
reads true as 1, a signed one as -1. Small tensors spread over many invocations are included:
they give vector accesses narrower than a 32-bit word."""
import struct

import numpy as np
import pytest
import triton.language as tl

import jitspv
from jitspv.frontend import runtime as rt
from jitspv.frontend.jit import lower_ttir

rng = np.random.default_rng()


@jitspv.jit
def i1_ops(x_ptr, y_ptr, o_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    res = (x + y, x - y, x * y, x // y, x % y, tl.minimum(x, y), tl.maximum(x, y), x << y, x >> y, -x,
           x + y + y)
    for i in tl.static_range(len(res)):
        tl.store(o_ptr + i * N + offs, res[i])


def _i1_reference(x, y, signed=False):
    """Mod-2 results on {0, 1}: each op computed on x, y widened (true -> -1 signed, 1 unsigned),
    low bit kept. Division by false is undefined: only lanes with y true are compared there."""
    t = -1 if signed else 1
    a, b = x.astype(np.int64) * t, y.astype(np.int64) * t
    safe_b = np.where(b == 0, 1, b)
    q = np.trunc(a / safe_b).astype(np.int64)
    shifted_r = (a >> np.where(b != 0, 63, 0)) if signed else np.where(b != 0, 0, a)
    out = [a + b, a - b, a * b, q, a - q * safe_b, np.minimum(a, b), np.maximum(a, b),
           np.where(b != 0, 0, a), shifted_r, -a, a + b + b]
    return [(o & 1).astype(np.bool_) for o in out]


NAMES = "add sub mul floordiv mod minimum maximum shl shr neg add3".split()


def _check(out, x, y, signed=False):
    for name, got, want in zip(NAMES, out, _i1_reference(x, y, signed)):
        sel = y if name in ("floordiv", "mod") else slice(None)
        np.testing.assert_array_equal(got[sel], want[sel], err_msg=name)


@pytest.mark.parametrize("num_warps", [1, 4])
@pytest.mark.parametrize("n", [32, 128])
def test_i1_arithmetic_wraps_mod_2(n, num_warps):
    x, y = rng.random(n) < 0.5, rng.random(n) < 0.5
    x[:4], y[:4] = [True, True, False, False], [True, False, True, False]
    out = np.ones((len(NAMES), n), np.bool_)
    out[:, ::2] = False   # poisoned in both values: every element must be written
    i1_ops[(1,)](x, y, out, N=n, num_warps=num_warps)
    _check(out, x, y)


def test_i1_signed_ops():
    """Triton's frontend emits the unsigned ops for i1; TTIR may also hold the signed ones (true is
    -1 to them): the same kernel's TTIR with every unsigned op made signed."""
    n = 64
    compiled = i1_ops.warmup(np.bool_, np.bool_, np.bool_, N=n, grid=(1,))
    ttir = compiled.asm["ttir"]
    for u, s in (("divui", "divsi"), ("remui", "remsi"), ("minui", "minsi"), ("maxui", "maxsi"),
                 ("shrui", "shrsi")):
        assert f"arith.{u}" in ttir
        ttir = ttir.replace(f"arith.{u}", f"arith.{s}")
    from jitspv.frontend.triton_bridge import TtirOptions
    lowered = lower_ttir(ttir, rt.current_target(), TtirOptions())
    pipeline = rt.make_pipeline(lowered)
    x, y = rng.random(n) < 0.5, rng.random(n) < 0.5
    x[:4], y[:4] = [True, True, False, False], [True, False, True, False]
    dx, dy = jitspv.asarray(x), jitspv.asarray(y)
    out = jitspv.asarray(np.ones((len(NAMES), n), np.bool_))
    pipeline.launch((1, 1, 1), struct.pack(lowered.arg_format, dx.data_ptr(), dy.data_ptr(), out.data_ptr()))
    _check(out.numpy(), x, y, signed=True)


@jitspv.jit
def i1_reductions(x_ptr, o_ptr, s_ptr, M: tl.constexpr, N: tl.constexpr, AXIS: tl.constexpr):
    rm = tl.arange(0, M)[:, None]
    rn = tl.arange(0, N)[None, :]
    x = tl.load(x_ptr + rm * N + rn).to(tl.int1)
    ro = tl.arange(0, N if AXIS == 0 else M)
    size = N if AXIS == 0 else M
    tl.store(o_ptr + ro, tl.xor_sum(x, axis=AXIS))
    tl.store(o_ptr + size + ro, tl.sum(x, axis=AXIS, dtype=tl.int1))
    tl.store(o_ptr + 2 * size + ro, tl.max(x, axis=AXIS))
    tl.store(o_ptr + 3 * size + ro, tl.min(x, axis=AXIS))
    tl.store(s_ptr + rm * N + rn, tl.cumsum(x, axis=AXIS, dtype=tl.int1))


@pytest.mark.parametrize("num_warps", [1, 4])
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("M,N", [(2, 32), (4, 32), (4, 128), (8, 2)])
def test_i1_reductions_and_scan(M, N, axis, num_warps):
    """Triton's test_reduce xor_sum-bool shapes, and i1 sums that wrap (tl.sum(..., dtype=tl.int1))."""
    x = rng.random((M, N)) < 0.5
    size = x.shape[1 - axis]
    out = np.ones((4, size), np.bool_)
    out[:, ::2] = False
    scan = np.ones((M, N), np.bool_)
    scan[::2] = False
    i1_reductions[(1,)](x, out, scan, M=M, N=N, AXIS=axis, num_warps=num_warps)
    parity = x.sum(axis=axis) % 2 == 1
    np.testing.assert_array_equal(out[0], parity, err_msg="xor_sum")
    np.testing.assert_array_equal(out[1], parity, err_msg="sum, dtype=int1")
    np.testing.assert_array_equal(out[2], x.any(axis=axis), err_msg="max")
    np.testing.assert_array_equal(out[3], x.all(axis=axis), err_msg="min")
    np.testing.assert_array_equal(scan, np.cumsum(x, axis=axis) % 2 == 1, err_msg="cumsum, dtype=int1")


@jitspv.jit
def permute_2d(In, Out, S0: tl.constexpr, S1: tl.constexpr, T0: tl.constexpr, T1: tl.constexpr,
               P0: tl.constexpr, P1: tl.constexpr):
    # Triton's test_trans_2d
    in_offs = tl.arange(0, S0)[:, None] * S1 + tl.arange(0, S1)[None, :]
    out_offs = tl.arange(0, T0)[:, None] * T1 + tl.arange(0, T1)[None, :]
    tl.store(Out + out_offs, tl.permute(tl.load(In + in_offs), (P0, P1)))


def _values(shape, dtype):
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


def _poisoned(shape, dtype):
    out = np.zeros(shape, dtype)
    out.reshape(-1)[::2] = 1 if dtype == np.bool_ else 0x5A
    return out


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("shape", [(2, 4), (4, 2), (2, 16), (16, 16), (1, 8)])
@pytest.mark.parametrize("perm", [(0, 1), (1, 0)])
def test_trans_2d_narrow(dtype, shape, perm):
    x = _values(shape, dtype)
    ref = np.transpose(x, perm)
    out = _poisoned(ref.shape, dtype)
    permute_2d[(1,)](x, out, *shape, *ref.shape, *perm)
    np.testing.assert_array_equal(out, ref)


@jitspv.jit
def shapes_3d(x_ptr, p_ptr, r_ptr, j_ptr, s_ptr, A: tl.constexpr, B: tl.constexpr, C: tl.constexpr,
              P0: tl.constexpr, P1: tl.constexpr, P2: tl.constexpr):
    a = tl.arange(0, A)[:, None, None]
    b = tl.arange(0, B)[None, :, None]
    c = tl.arange(0, C)[None, None, :]
    x = tl.load(x_ptr + a * B * C + b * C + c)
    flat = tl.arange(0, A * B * C)
    tl.store(p_ptr + flat, tl.reshape(tl.permute(x, (P0, P1, P2)), (A * B * C,)))
    tl.store(r_ptr + flat, tl.reshape(tl.reshape(x, (A * B, C)), (A * B * C,)))
    first, second = tl.split(x)                       # the last dimension (C == 2)
    joined = tl.join(second, first)                   # swapped back together
    tl.store(j_ptr + flat, tl.reshape(joined, (A * B * C,)))
    tl.store(s_ptr + tl.arange(0, A * B), tl.reshape(first, (A * B,)))


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int16])
@pytest.mark.parametrize("perm", [(2, 1, 0), (1, 2, 0), (0, 2, 1)])
@pytest.mark.parametrize("A,B,num_warps", [(2, 4, 4), (4, 8, 1), (1, 2, 4)])
def test_shape_ops_3d_narrow(dtype, perm, A, B, num_warps):
    shape = (A, B, 2)
    x = _values(shape, dtype)
    outs = [_poisoned(x.size, dtype) for _ in range(3)] + [_poisoned(A * B, dtype)]
    shapes_3d[(1,)](x, *outs, *shape, *perm, num_warps=num_warps)
    np.testing.assert_array_equal(outs[0], np.transpose(x, perm).reshape(-1), err_msg="permute")
    np.testing.assert_array_equal(outs[1], x.reshape(-1), err_msg="reshape")
    np.testing.assert_array_equal(outs[2], x[..., ::-1].reshape(-1), err_msg="split + join")
    np.testing.assert_array_equal(outs[3], x[..., 0].reshape(-1), err_msg="split")
