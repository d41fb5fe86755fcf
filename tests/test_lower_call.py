"""Calls of noinline helpers (inlined by the lowering) and device asserts (not lowered yet:
refused at launch with a compile error naming the feature and the kernel's source)."""
import numpy as np
import pytest
import triton
import triton.language as tl
from triton.compiler.errors import CompilationError

import jitspv


# Triton passes only scalars (pointers, ints, floats) to noinline functions.
@triton.jit(noinline=True)
def _twice(v):
    return v * 2


@triton.jit(noinline=True)
def _scale_row(src, dst, n, scale):
    offs = tl.arange(0, 64)
    m = offs < n
    x = tl.load(src + offs, mask=m, other=0.0)
    tl.store(dst + offs, x * _twice(scale) + 1, mask=m)   # a call inside a callee
    return tl.sum(x, axis=0)


@jitspv.jit
def calls_noinline(x_ptr, o_ptr, o2_ptr, s_ptr, n, scale):
    total = _scale_row(x_ptr, o_ptr, n, scale)
    total2 = _scale_row(x_ptr, o2_ptr, n, 0.5)          # a second call site
    tl.store(s_ptr, _twice(total))
    tl.store(s_ptr + 1, total2)


@jitspv.jit(debug=True)
def asserts(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.device_assert(tl.load(x_ptr + offs, mask=offs < n, other=0) >= 0, "negative input")


@pytest.mark.parametrize("num_warps", [1, 4])
def test_noinline_calls(num_warps):
    n = 37
    x = np.random.rand(n).astype(np.float32)
    out, out2, sums = (np.full(k, np.nan, np.float32) for k in (n, n, 2))
    calls_noinline[(1,)](x, out, out2, sums, n, 3.0, num_warps=num_warps)
    np.testing.assert_allclose(out, x * 3 * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(out2, x * 0.5 * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(sums, [2 * x.sum(), x.sum()], rtol=1e-5)
    ttir = calls_noinline.warmup(x, out, out2, sums, n, 3.0, grid=(1,)).asm["ttir"]
    assert "tt.call" in ttir, "the helpers should reach jitspv as calls (noinline)"


def test_device_assert_refused():
    x = np.ones(37, np.float32)
    with pytest.raises(CompilationError, match="tt.assert") as info:
        asserts[(1,)](x, 37, BLOCK=64)
    assert "test_lower_call.py" in str(info.value)
