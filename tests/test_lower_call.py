"""Calls of noinline helpers (inlined by the lowering) and device asserts (tl.device_assert with
debug=True: a failed site is recorded on the device and raised as AssertionError at the next sync)."""
import inspect
import os
import subprocess
import sys

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


def _asserting(x_ptr, o_ptr, n, BLOCK: tl.constexpr):
    tl.device_assert(n > 0, "n must be positive")                     # a scalar condition
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0)
    tl.device_assert(x >= 0, "negative input")
    if pid < tl.num_programs(0):   # the grid travels after the hidden assert argument
        tl.store(o_ptr + offs, x * 2 + 1, mask=offs < n)


asserts = jitspv.jit(debug=True)(_asserting)
no_asserts = jitspv.jit(_asserting)
_ASSERT_LINE = inspect.getsourcelines(_asserting)[1] + 5


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


@pytest.mark.parametrize("num_warps", [1, 4, 8])
@pytest.mark.parametrize("n,block", [(1, 16), (37, 64), (1000, 128), (777, 32)])
def test_device_assert_passes(num_warps, n, block):
    x = np.random.rand(n).astype(np.float32)
    out = np.full(n, np.nan, np.float32)
    asserts[(triton.cdiv(n, block),)](x, out, n, BLOCK=block, num_warps=num_warps)
    jitspv.synchronize()
    np.testing.assert_allclose(out, x * 2 + 1, rtol=1e-6)


@pytest.mark.parametrize("num_warps", [1, 4])
def test_device_assert_fails_at_next_sync(num_warps):
    n, block = 1001, 64
    x = np.random.rand(n).astype(np.float32)
    bad = np.random.randint(0, n)
    x[bad] = -np.random.rand() - 0.5
    dx, dout = jitspv.asarray(x), jitspv.full(n, np.nan, np.float32)
    grid = (triton.cdiv(n, block),)
    asserts[grid](dx, dout, n, BLOCK=block, num_warps=num_warps)   # recorded, not yet run
    with pytest.raises(AssertionError, match="negative input") as info:
        jitspv.synchronize()
    assert f"test_lower_call.py:{_ASSERT_LINE}" in str(info.value)
    assert info.value.program_id == (bad // block, 0, 0)
    # The record was cleared: the next launch with good input runs and reports nothing.
    x[bad] = 0.25
    dx = jitspv.asarray(x)
    asserts[grid](dx, dout, n, BLOCK=block, num_warps=num_warps)
    np.testing.assert_allclose(dout.numpy(), x * 2 + 1, rtol=1e-6)
    # Numpy arguments are copied back at the launch, which is then the sync that raises;
    # the scalar site reports with its own message.
    out = np.full(n, np.nan, np.float32)
    with pytest.raises(AssertionError, match="n must be positive"):
        asserts[(1,)](x, out, 0, BLOCK=block, num_warps=num_warps)
    asserts[grid](x, out, n, BLOCK=block, num_warps=num_warps)
    np.testing.assert_allclose(out, x * 2 + 1, rtol=1e-6)


def test_kernels_without_asserts_unchanged():
    x = np.random.rand(5).astype(np.float32)
    plain = no_asserts.warmup(x, x, 5, BLOCK=16, grid=(1,)).lowered
    checked = asserts.warmup(x, x, 5, BLOCK=16, grid=(1,)).lowered
    assert plain.asserts == [] and plain.hidden == {"grid": 20}
    # pointer, pointer, i32, then the grid: no hidden argument, no atomic in the shader
    assert plain.arg_format == "<QQi3I" and plain.arg_block_size == 32
    assert b"AtomicCompareExchange" not in jitspv.frontend.compiled.KernelAsm("", plain.spirv)["spvasm"].encode()
    messages = [a["message"] for a in checked.asserts]   # debug=True also adds Triton's overflow checks
    assert messages[0] == "n must be positive" and messages[-1] == "negative input"
    assert all(m.startswith("int32 overflow") for m in messages[1:-1])
    assert checked.arg_format == "<QQi4xQ4x3I" and checked.hidden == {"assert_record": 24, "grid": 36} and checked.arg_block_size == 48
    again = type(checked).from_json(checked.to_json(), checked.spirv)
    assert again.asserts == checked.asserts and again.arg_format == checked.arg_format


_STAGED = """
import numpy as np, jitspv, test_lower_call as t
x = np.random.rand(100).astype(np.float32)
x[57] = -1
try:
    t.asserts[(4,)](x, np.zeros(100, np.float32), 100, BLOCK=32)
except AssertionError as e:
    print("RAISED", e.program_id)
assert not jitspv.validation_messages(), jitspv.validation_messages()
"""


def test_device_assert_staged_memory():
    # Where device memory is not host-mapped (forced here), the record lives in the staging heap.
    env = dict(os.environ, JITSPV_HOST_TRANSFER="staged",
               PYTHONPATH=os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", _STAGED], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "RAISED (1, 0, 0)" in proc.stdout, proc.stderr
