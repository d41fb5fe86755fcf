"""Refusals name the op/feature and the kernel's file:line; resource errors name the resource; the
process stays usable afterwards; scalar arguments of every kind arrive intact."""
import numpy as np
import pytest
import triton.language as tl
from triton.compiler.errors import CompilationError
from triton.language.extra import libdevice

import jitspv
from jitspv.errors import OutOfResources

rng = np.random.default_rng()


@jitspv.jit
def copy_kernel(x_ptr, o_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(o_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)


def _still_works():
    n = 301
    x = rng.standard_normal(n).astype(np.float32)
    o = np.full(n, np.nan, np.float32)
    copy_kernel[(jitspv.cdiv(n, 128),)](x, o, n, BLOCK=128)
    np.testing.assert_array_equal(o, x)


@jitspv.jit
def unknown_extern(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, libdevice.j0(tl.load(x_ptr + offs)))


@pytest.mark.parametrize("kernel, needle", [(unknown_extern, "__nv_j0f")])
def test_refusal_names_feature_and_line(kernel, needle):
    with pytest.raises(CompilationError) as info:
        kernel[(1,)](np.ones(16, np.float32), BLOCK=16)
    msg = str(info.value)
    assert needle in msg
    assert "test_lower_errors.py:" in msg
    _still_works()


@jitspv.jit
def histogram_big(x_ptr, h_ptr, BLOCK: tl.constexpr, BINS: tl.constexpr):
    tl.store(h_ptr + tl.arange(0, BINS), tl.histogram(tl.load(x_ptr + tl.arange(0, BLOCK)), BINS))


def test_shared_memory_exceeded():
    # 16,384 bins of counters: 64 KiB of workgroup memory, which nothing can divide.
    x = np.zeros(16, np.int32)
    with pytest.raises(OutOfResources, match="shared memory"):
        histogram_big[(1,)](x, np.zeros(1 << 14, np.int32), BLOCK=16, BINS=1 << 14)
    _still_works()


@pytest.mark.parametrize("num_warps", [64, 128])
def test_workgroups_above_the_device_limit_are_refused(num_warps):
    # 2048 or 4096 invocations per workgroup: refused before the driver sees a pipeline, as a
    # Triton OutOfResources too, naming the limit.
    import triton
    from jitspv.vk import get_device
    limit = get_device().properties.max_compute_workgroup_invocations
    x = rng.standard_normal(4096).astype(np.float32)
    with pytest.raises(triton.runtime.errors.OutOfResources) as err:
        copy_kernel[(1,)](x, x.copy(), 4096, BLOCK=4096, num_warps=num_warps)
    assert isinstance(err.value, OutOfResources)
    assert (err.value.required, err.value.limit) == (num_warps * 32, limit)
    assert "maxComputeWorkGroupInvocations" in str(err.value) and f"num_warps={num_warps}" in str(err.value)
    # The largest allowed workgroup still launches and gives exact results.
    o = np.full(4096, np.nan, np.float32)
    copy_kernel[(1,)](x, o, 4096, BLOCK=4096, num_warps=limit // 32)
    np.testing.assert_array_equal(o, x)
    _still_works()


def test_shared_memory_errors_are_tritons_too():
    import pickle
    import triton
    x = np.zeros(16, np.int32)
    with pytest.raises(triton.runtime.errors.OutOfResources) as err:
        histogram_big[(1,)](x, np.zeros(1 << 14, np.int32), BLOCK=16, BINS=1 << 14)
    again = pickle.loads(pickle.dumps(err.value))
    assert str(again) == str(err.value) and "shared memory" in str(again)


@jitspv.jit
def scalars(o_ptr, b, i32, i64, neg, f, nf, ni, BLOCK: tl.constexpr):
    tl.store(o_ptr + 0, b.to(tl.float64))
    tl.store(o_ptr + 1, i32.to(tl.float64))
    tl.store(o_ptr + 2, i64.to(tl.float64))
    tl.store(o_ptr + 3, neg.to(tl.float64))
    tl.store(o_ptr + 4, f.to(tl.float64))
    tl.store(o_ptr + 5, nf.to(tl.float64))
    tl.store(o_ptr + 6, ni.to(tl.float64))
    tl.store(o_ptr + 7, (i64 - 2**33).to(tl.float64))


@pytest.mark.parametrize("flag", [True, False])
def test_scalar_arguments(flag):
    o = np.full(8, np.nan)
    i32 = int(rng.integers(2, 2**31))
    i64 = int(rng.integers(2**31, 2**40))
    neg = -int(rng.integers(2, 2**31))
    f = float(np.float32(rng.standard_normal()))
    nf = np.float32(rng.standard_normal())
    ni = np.int32(rng.integers(-1000, 1000))
    scalars[(1,)](o, flag, i32, i64, neg, f, nf, ni, BLOCK=1)
    np.testing.assert_array_equal(o, [float(flag), i32, i64, neg, f, float(nf), float(ni), i64 - 2**33])


@jitspv.jit
def inline_asm(x_ptr, o_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    y = tl.inline_asm_elementwise("mov.b32 $0, $1;", "=r,r", [tl.load(x_ptr + offs)], dtype=tl.int32,
                                  is_pure=True, pack=1)
    tl.store(o_ptr + offs, y)


def test_ptx_inline_asm_is_refused_at_its_line():
    with pytest.raises(CompilationError) as info:
        inline_asm[(1,)](np.ones(16, np.int32), np.ones(16, np.int32), BLOCK=16)
    msg = str(info.value)
    assert "jitspv does not support the operation 'tt.elementwise_inline_asm' yet" in msg
    assert "PTX inline assembly cannot run on Vulkan" in msg
    line = inline_asm.fn.__code__.co_firstlineno + 3
    assert f"test_lower_errors.py:{line}:" in msg and "tl.inline_asm_elementwise(" in msg


@jitspv.jit
def scaled_copy(x_ptr, o_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(o_ptr + offs, tl.load(x_ptr + offs) * 3.0)


def test_a_bug_in_a_rule_names_the_op_its_operands_and_the_line(monkeypatch):
    # Any exception a rule raises other than a LoweringError comes out as one, with the op.
    from jitspv.lower.registry import LOWERINGS

    def broken(ctx, op):
        raise ZeroDivisionError("boom")
    x = rng.standard_normal(16).astype(np.float32)
    with monkeypatch.context() as patch:
        patch.setitem(LOWERINGS, "arith.mulf", broken)
        with pytest.raises(CompilationError) as info:
            scaled_copy[(1,)](x, np.full(16, np.nan, np.float32), BLOCK=16)
    msg = str(info.value)
    assert "ZeroDivisionError: boom" in msg and "'arith.mulf'" in msg and "tensor<16xf32>" in msg
    assert "test_lower_errors.py:" in msg and "tl.load(x_ptr + offs) * 3.0" in msg
    o = np.full(16, np.nan, np.float32)
    scaled_copy[(1,)](x, o, BLOCK=16)   # the real rule again: compiles and runs
    np.testing.assert_array_equal(o, x * np.float32(3.0))
    _still_works()
