"""@jitspv.kernel end to end on lavapipe: launches, grids, caches, inspection, errors."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import triton
import triton.language as tl
from triton.compiler.errors import CompilationError
from triton.runtime.jit import TensorWrapper

import jitspv
from jitspv.lower.spirv.tools import SpirvToolMissing

rng = np.random.default_rng()


@jitspv.kernel
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr = 64):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


@triton.jit
def scale_triton(x_ptr, out_ptr, n, alpha, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * alpha, mask=mask)


scale_kernel = jitspv.jit(scale_triton)


@jitspv.kernel
def fill_2d(out_ptr, stride, value, BLOCK: tl.constexpr):
    # one program per (row block, column): exercises a 2-D grid
    col = tl.program_id(1)
    rows = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + rows * stride + col, value + col)


@jitspv.kernel
def broken_kernel(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs) + undefined_name)  # noqa: F821


def _poisoned(n, dtype=np.float32):
    return np.full(n, np.nan, dtype)


@pytest.mark.parametrize("n", [1, 17, 1000, 4099])
def test_vector_add_numpy(n):
    x, y = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    out = _poisoned(n)
    add_kernel[(triton.cdiv(n, 64),)](x, y, out, n)
    np.testing.assert_array_equal(out, x + y)


@pytest.mark.parametrize("n", [33, 777])
def test_vector_add_device_arrays_and_grid_callable(n):
    x, y = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    dx, dy, dout = jitspv.asarray(x), jitspv.asarray(y), jitspv.asarray(_poisoned(n))
    seen = {}

    def grid(meta):
        seen.update(meta)
        return (jitspv.cdiv(meta["n"], meta["BLOCK"]),)

    add_kernel[grid](dx, dy, dout, n, BLOCK=128)
    assert seen["BLOCK"] == 128 and seen["n"] == n and seen["x_ptr"] is dx
    np.testing.assert_array_equal(dout.numpy(), x + y)


def test_triton_jit_function_float_arg_and_num_warps():
    n = 301
    x = rng.standard_normal(n).astype(np.float32)
    out = _poisoned(n)
    alpha = float(rng.standard_normal())
    scale_kernel[(triton.cdiv(n, 32),)](x, out, n, alpha, BLOCK=32, num_warps=1, num_stages=2, maxnreg=64)
    np.testing.assert_allclose(out, x * np.float32(alpha), rtol=1e-6)
    out2 = _poisoned(n)
    scale_kernel[(triton.cdiv(n, 32),)](x, out2, np.int32(n), np.float32(alpha), BLOCK=32)
    np.testing.assert_allclose(out2, x * np.float32(alpha), rtol=1e-6)


def test_views_alias_one_buffer():
    # out is a view into the same buffer as x: the kernel's writes must land in x's storage.
    n = 97
    buf = rng.standard_normal(2 * n + 5).astype(np.float32)
    x, out = buf[:n], buf[n + 5:]
    expected = buf.copy()
    expected[n + 5:] = expected[:n] * 2
    add_kernel[(triton.cdiv(n, 64),)](x, x, out, n)
    np.testing.assert_array_equal(buf, expected)


def test_two_dimensional_grid_and_zero_grid():
    rows, cols = 64, 5
    out = np.full((rows, cols), np.nan, np.float32)
    fill_2d[(rows // 16, cols)](out, cols, 1.5, BLOCK=16)
    np.testing.assert_array_equal(out, 1.5 + np.arange(cols, dtype=np.float32)[None, :].repeat(rows, 0))
    untouched = _poisoned(8)
    fill_2d[(0, 3)](untouched, 1, 2.0, BLOCK=16)
    assert np.isnan(untouched).all()


def test_tensor_wrapper_reinterprets():
    n = 40
    x = rng.integers(0, 2**20, n).astype(np.int32)
    out = np.zeros(n, np.int32)
    k = add_kernel.warmup(TensorWrapper(x, tl.uint32), TensorWrapper(x, tl.uint32), TensorWrapper(out, tl.uint32),
                          n, grid=(1,))
    assert "!tt.ptr<i32>" in k.asm["ttir"]
    add_kernel[(1,)](TensorWrapper(x, tl.uint32), TensorWrapper(x, tl.uint32), TensorWrapper(out, tl.uint32), n)
    np.testing.assert_array_equal(out, 2 * x)


@jitspv.jit
def widen_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n).to(tl.float32), mask=offs < n)


def test_triton_reinterpret_of_jitspv_arrays():
    # triton.reinterpret(array, dtype): how bf16 (which numpy lacks) data in jitspv arrays reaches kernels.
    n = 37
    x = rng.standard_normal(n).astype(np.float32)
    bits = (x.view(np.uint32) >> 16).astype(np.uint16)       # bf16 by truncation: exact back in f32
    src, out = jitspv.asarray(bits), jitspv.asarray(np.full(n, np.nan, np.float32))
    widen_kernel[(1,)](triton.reinterpret(src, tl.bfloat16), out, n, BLOCK=64)
    np.testing.assert_array_equal(out.numpy(), (bits.astype(np.uint32) << 16).view(np.float32))


def test_in_memory_cache_hits_and_misses():
    add_kernel.cache_clear()
    x = rng.standard_normal(64).astype(np.float32)
    dx, dout = jitspv.asarray(x), jitspv.empty(64)
    k1 = add_kernel[(1,)](dx, dx, dout, 64)
    k2 = add_kernel[(1,)](dx, dx, dout, 48)        # 48 % 16 == 0: same key
    k3 = add_kernel[(1,)](dx, dx, dout, 50)        # not divisible by 16: new key
    k4 = add_kernel[(1,)](dx, dx, dout, 64, BLOCK=32)
    k5 = add_kernel[(1,)](dx, dx, dout, 64, num_warps=2)
    assert k1 is k2 and len({id(k) for k in (k1, k3, k4, k5)}) == 4
    assert len(add_kernel._compiled) == 4
    assert k1.asm["ttir"].count("tt.divisibility") == k3.asm["ttir"].count("tt.divisibility") + 1


@jitspv.kernel
def fill_const(out_ptr, n, VALUE: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.full([BLOCK], VALUE, tl.float32), mask=offs < n)


@jitspv.kernel
def mul_const(x_ptr, out_ptr, n, SCALE: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * SCALE, mask=mask)


def test_nan_constexpr_hits_the_in_memory_cache():
    fill_const.cache_clear()
    n = int(rng.integers(10, 300))
    first = None
    for _ in range(20):
        out = np.full(n, 7.0, np.float32)
        k = fill_const[(triton.cdiv(n, 64),)](out, n, VALUE=float("nan"), BLOCK=64)
        assert np.isnan(out).all()
        first = first or k
        assert k is first
    assert len(fill_const._compiled) == 1


def test_constexpr_zeros_of_other_sign_are_other_kernels():
    fill_const.cache_clear()
    for value in (0.0, -0.0, 0.0):
        fill_const.warmup(np.float32, 100, VALUE=value, BLOCK=64, grid=(1,))
    assert len(fill_const._compiled) == 2


def test_constexpr_negative_zero_is_stored_as_such(request):
    from jitspv.vk import get_device
    if get_device().properties.vendor_id == 0x10DE:   # strict: a pass there will say the bug is gone
        request.applymarker(pytest.mark.xfail(strict=True, reason=(
            "NVIDIA driver 580 stores a constant -0.0 as +0.0 (H200, 2026-12-01); asking for "
            "SignedZeroInfNanPreserve did not help and broke -(+0.0) instead")))
    n = int(rng.integers(10, 300))
    for value in (0.0, -0.0):
        out = np.full(n, np.nan, np.float32)
        fill_const[(triton.cdiv(n, 64),)](out, n, VALUE=value, BLOCK=64)
        assert (out == 0).all() and (np.signbit(out) == (str(value)[0] == "-")).all()


def test_equal_constexprs_of_other_type_are_other_kernels():
    # 2 == 2.0 == True in Python, not in a kernel: int8 * 2 wraps in int8, int8 * 2.0 is fp32.
    mul_const.cache_clear()
    x = rng.integers(-128, 128, int(rng.integers(10, 300))).astype(np.int8)
    for scale in (2, 2.0, True):
        out = np.full(x.size, np.nan, np.float32)
        mul_const[(triton.cdiv(x.size, 64),)](x, out, x.size, SCALE=scale, BLOCK=64)
        expected = (x * np.int8(scale)).astype(np.float32) if type(scale) is not float else x * np.float32(2)
        np.testing.assert_array_equal(out, expected)
    assert len(mul_const._compiled) == 3


def test_warmup_and_asm():
    k = add_kernel.warmup(np.float32, np.float32, np.float32, 1024, grid=(1,))
    assert isinstance(k, jitspv.CompiledKernel)
    assert set(k.asm) == {"ttir", "spv", "spvasm", "glsl"}
    assert k.asm["ttir"].startswith("#loc") or "tt.func" in k.asm["ttir"]
    assert k.asm["spv"][:4] == b"\x03\x02\x23\x07"
    assert "OpEntryPoint GLCompute" in k.asm["spvasm"]
    try:
        glsl = k.asm["glsl"]
    except SpirvToolMissing as missing:   # only the executable's absence skips (e.g. the GPU machine)
        pytest.skip(str(missing))
    assert "void main()" in glsl


@jitspv.kernel
def dumped_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


def test_dump_dir(tmp_path, monkeypatch):
    # A cold compile (this kernel is compiled nowhere else) also writes the TTIR after each of
    # jitspv's own rewrites.
    monkeypatch.setenv("JITSPV_DUMP", str(tmp_path))
    dumped_kernel.warmup(np.float32, np.float32, 1000, grid=(1,), BLOCK=16)
    names = sorted(p.name.split(".", 1)[1] for p in tmp_path.iterdir())
    assert names == ["inline.ttir", "json", "prefetch.ttir", "scaled_dot.ttir", "spv", "spvasm", "structure.ttir", "ttir"]
    inlined = next(tmp_path.glob("*.inline.ttir")).read_text()
    assert "dumped_kernel" in inlined and "tt.load" in inlined


def test_compile_error_has_file_and_line_and_process_survives():
    x = jitspv.zeros(16)
    with pytest.raises(CompilationError) as err:
        broken_kernel[(1,)](x, BLOCK=16)
    assert f"{os.path.basename(__file__)}:" in str(err.value) and "undefined_name" in str(err.value)
    y = rng.standard_normal(16).astype(np.float32)
    out = _poisoned(16)
    add_kernel[(1,)](y, y, out, 16)
    np.testing.assert_array_equal(out, 2 * y)


def test_argument_errors_name_the_parameter():
    x = jitspv.zeros(16)
    with pytest.raises(TypeError, match="'y_ptr'"):
        add_kernel[(1,)](x, "nope", x, 16)
    with pytest.raises(TypeError, match="add_kernel\\(\\) missing 1 required positional argument: 'n'"):
        add_kernel[(1,)](x, x, x)
    with pytest.raises(TypeError, match="unexpected keyword argument 'BLOK'"):
        add_kernel[(1,)](x, x, x, 16, BLOK=32)
    with pytest.raises(ValueError, match="grid"):
        add_kernel[(1, 1, 1, 1)](x, x, x, 16)


_SECOND_PROCESS = textwrap.dedent("""
    import sys, numpy as np
    sys.path.insert(0, {tests!r})
    import jitspv.frontend.jit as jit
    import jitspv.frontend.triton_bridge as bridge
    def forbidden(*a, **k):
        raise AssertionError("Triton's frontend ran although the kernel was cached on disk")
    if {forbid}:
        jit.make_ttir = bridge.make_ttir = forbidden
    from test_frontend_jit import add_kernel
    x = np.arange(77, dtype=np.float32); out = np.full(77, np.nan, np.float32)
    k = add_kernel[(2,)](x, x, out, 77)
    assert (out == 2 * x).all()
    print("from_disk", k.from_disk)
""")


def _second_process(forbid):
    code = _SECOND_PROCESS.format(tests=os.path.dirname(__file__), forbid=forbid)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_disk_cache_across_processes(tmp_path, monkeypatch):
    monkeypatch.setenv("JITSPV_CACHE_DIR", str(tmp_path))
    assert "from_disk False" in _second_process(forbid=False)
    assert "from_disk True" in _second_process(forbid=True)
    # A damaged entry is recompiled and rewritten, never fatal.
    for entry in (d for d in tmp_path.iterdir() if d.is_dir()):
        spv = entry / "kernel.spv"
        spv.write_bytes(spv.read_bytes()[:20])
    assert "from_disk False" in _second_process(forbid=False)
    assert "from_disk True" in _second_process(forbid=True)


def test_two_processes_racing(tmp_path, monkeypatch):
    monkeypatch.setenv("JITSPV_CACHE_DIR", str(tmp_path))
    code = _SECOND_PROCESS.format(tests=os.path.dirname(__file__), forbid=False)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=dict(os.environ)) for _ in range(2)]
    for p in procs:
        _, err = p.communicate()
        assert p.returncode == 0, err.decode()
    assert "from_disk True" in _second_process(forbid=True)


def test_cache_cli(tmp_path):
    env = dict(os.environ, JITSPV_CACHE_DIR=str(tmp_path))
    code = "import numpy as np, sys; sys.path.insert(0, %r); from test_frontend_jit import add_kernel; " \
           "x = np.ones(8, np.float32); add_kernel[(1,)](x, x, x, 8)" % os.path.dirname(__file__)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    listed = subprocess.run([sys.executable, "-m", "jitspv", "cache", "list"], capture_output=True, text=True,
                            env=env, check=True).stdout
    assert "add_kernel" in listed and "1 entries" in listed
    subprocess.run([sys.executable, "-m", "jitspv", "cache", "clear"], check=True, env=env, capture_output=True)
    assert list(tmp_path.iterdir()) == []
