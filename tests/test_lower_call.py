"""Non-inlined calls and device asserts: not lowered yet, refused at launch with a compile error
that names the feature and the kernel's source (Triton's CompilationError)."""
import numpy as np
import pytest
import triton
import triton.language as tl
from triton.compiler.errors import CompilationError

import jitspv


@triton.jit(noinline=True)
def _twice(x):
    return x * 2


@jitspv.jit
def calls_noinline(x_ptr, o_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    m = offs < n
    tl.store(o_ptr + offs, _twice(tl.load(x_ptr + offs, mask=m)), mask=m)


@jitspv.jit(debug=True)
def asserts(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.device_assert(tl.load(x_ptr + offs, mask=offs < n, other=0) >= 0, "negative input")


def test_noinline_call_refused():
    x = np.ones(37, np.float32)
    with pytest.raises(CompilationError, match="noinline"):
        calls_noinline[(1,)](x, x.copy(), 37, BLOCK=64)


def test_device_assert_refused():
    x = np.ones(37, np.float32)
    with pytest.raises(CompilationError, match="tt.assert") as info:
        asserts[(1,)](x, 37, BLOCK=64)
    assert "test_lower_call.py" in str(info.value)
