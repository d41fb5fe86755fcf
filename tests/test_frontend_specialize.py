"""Specialization and binding: jitspv must make the choices Triton's own JITFunction makes.

Triton's binder (`create_function_from_signature` + `native_specialize_impl`) runs here without a
GPU when given Triton's BaseBackend; jitspv's keys are compared against it on a table of cases.
"""
import inspect

import numpy as np
import pytest
import triton
import triton.language as tl
from triton._C.libtriton import native_specialize_impl
from triton.backends.compiler import BaseBackend
from triton.runtime.jit import create_function_from_signature

import jitspv
from jitspv.frontend import specialize as spec
from jitspv.frontend.binding import BindingPlan

rng = np.random.default_rng()


class FakeTensor:
    """What Triton's specializer sees of a tensor: data_ptr() and a dtype."""

    def __init__(self, address, dtype):
        self.address, self.dtype = address, dtype

    def data_ptr(self):
        return self.address


@jitspv.kernel
def scalars(a, b, c, d, BLOCK: tl.constexpr):
    pass


@jitspv.kernel(do_not_specialize=["b", 3])
def scalars_dns(a, b, c, d, BLOCK: tl.constexpr):
    pass


@jitspv.kernel
def annotated(a: tl.int64, b: tl.float32, c: "i32", d, BLOCK: tl.constexpr = 16):
    pass


INTS = [0, 1, 2, 15, 16, 17, 32, -1, -16, -17, 2**31 - 1, 2**31, 2**31 + 16, -(2**31), -(2**31) - 16,
        2**63 - 1, 2**63, 2**63 + 16, 2**64 - 1, 2**64 - 16]
SCALARS = INTS + [0.0, 1.0, 1.5, -2.0, True, False, None]


def _triton_specs(kernel, args):
    """Triton's specialization list for `args`, computed by Triton's own generated binder."""
    binder = create_function_from_signature(inspect.signature(kernel.fn), kernel.params, BaseBackend)
    _, specialization, _ = binder(*args)
    return tuple(tuple(s) for s, p in zip(specialization, kernel.params) if not p.is_constexpr)


def _jitspv_specs(kernel, args):
    plan = BindingPlan(kernel)
    values, _ = plan.bind(*args)
    specs, _ = plan.specialize(values, None)
    return specs


@pytest.mark.parametrize("kernel", [scalars, scalars_dns, annotated], ids=lambda k: k.__name__)
def test_scalar_keys_match_triton(kernel):
    for _ in range(60):
        args = [SCALARS[i] for i in rng.integers(0, len(SCALARS), 4)]
        if kernel is annotated:
            args[0] = int(rng.choice(INTS[:14]))
            args[1] = float(rng.standard_normal())
            args[2] = int(rng.choice(INTS[:14]))
        args.append(64)
        assert _jitspv_specs(kernel, args) == _triton_specs(kernel, args), args


@jitspv.kernel
def arrays(x, y, n, BLOCK: tl.constexpr):
    pass


@jitspv.kernel(do_not_specialize=["y"], do_not_specialize_on_alignment=["x"])
def arrays_dns(x, y, n, BLOCK: tl.constexpr):
    pass


@pytest.mark.parametrize("kernel", [arrays, arrays_dns], ids=lambda k: k.__name__)
def test_array_keys_match_triton_launch_after_launch(kernel):
    # One plan for all calls: the specializations it keeps per (dtype, alignment) must stay right
    # as arrays of other dtypes and alignments (views at element offsets) and ints come and go.
    plan = BindingPlan(kernel)
    bases = {d: jitspv.empty(64, d) for d in ("float32", "float16", "int8", "int64", "bool")}
    for _ in range(80):
        args = []
        for _ in range(2):
            base = bases[rng.choice(list(bases))]
            args.append(base[int(rng.integers(0, 33)):])
        args += [int(rng.choice(INTS[:16])), 16]
        values, _ = plan.bind(*args)
        specs, launch = plan.specialize(values, None)
        fakes = [FakeTensor(a.data_ptr(), a.dtype) for a in args[:2]] + args[2:]
        assert specs == _triton_specs(kernel, fakes), (args, launch)
        assert launch[:3] == [args[0].data_ptr(), args[1].data_ptr(), args[2]]


@pytest.mark.parametrize("value", INTS + [0.5, True, False, None])
@pytest.mark.parametrize("specialize", [True, False])
@pytest.mark.parametrize("align", [True, False])
def test_int_and_scalar_table(value, specialize, align):
    expected = native_specialize_impl(BaseBackend, value, False, specialize, align)
    if isinstance(value, bool):
        got = ("u1", None)
    elif isinstance(value, int):
        got = spec.specialize_int(value, specialize, align)
    elif isinstance(value, float):
        got = ("fp32", None)
    else:
        got = ("constexpr", None)
    assert got == tuple(expected)


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64", "int8", "int16", "int32", "int64",
                                   "uint8", "uint16", "uint32", "uint64", "bool"])
def test_pointer_table(dtype):
    for address in [0, 16, 4096 + 16 * int(rng.integers(1, 1000)), 4096 + int(rng.integers(1, 16)), 8, 4]:
        for is_const in (False, True):
            for specialize in (False, True):
                for align in (False, True):
                    expected = native_specialize_impl(BaseBackend, FakeTensor(address, np.dtype(dtype)), is_const,
                                                      specialize, align)
                    got = spec.specialize_pointer(spec.canonical_dtype(np.dtype(dtype)), address, is_const,
                                                  specialize, align)
                    assert got == tuple(expected), (dtype, address, is_const, specialize, align)


def test_canonical_dtype_names():
    assert spec.canonical_dtype(np.float32) == "fp32"
    assert spec.canonical_dtype(tl.bfloat16) == "bf16"
    assert spec.canonical_dtype("torch.float16") == "fp16"
    assert spec.canonical_dtype(tl.float8e4nv) == "fp8e4nv"
    with pytest.raises(TypeError):
        spec.canonical_dtype(np.dtype("complex64"))


def test_numpy_scalars_become_python_values():
    plan = BindingPlan(scalars)
    values, _ = plan.bind(np.int32(16), np.float32(2.5), np.bool_(True), np.int64(2**40), 8)
    specs, launch = plan.specialize(values, None)
    assert specs == (("i32", "D"), ("fp32", None), ("u1", None), ("i64", "D"))
    assert launch[:4] == [16, 2.5, 1, 2**40]
    assert all(type(v) in (int, float) for v in launch[:4])


def test_binding_defaults_kwargs_and_errors():
    plan = BindingPlan(annotated)
    values, options = plan.bind(3, 1.0, c=5, d=7, num_warps=2)
    assert values == (3, 1.0, 5, 7, 16) and options == {"num_warps": 2}
    values, _ = plan.bind(3, 1.0, 5, 7, BLOCK=32)
    assert values[-1] == 32
    with pytest.raises(TypeError, match="annotated\\(\\) missing 1 required positional argument: 'd'"):
        plan.bind(1, 2.0, 3)
    with pytest.raises(TypeError, match="multiple values for argument 'a'"):
        plan.bind(1, 2.0, 3, 4, a=5)
    bad = BindingPlan(scalars)
    with pytest.raises(TypeError, match="scalars\\(\\): argument 'c'.*unsupported type str"):
        bad.specialize(bad.bind(1, 2, "x", 4, 5)[0], None)


def test_constexpr_values_in_key():
    plan = BindingPlan(scalars)
    a = plan.constexpr_values(plan.bind(1, 2, 3, 4, 64)[0])
    b = plan.constexpr_values(plan.bind(1, 2, 3, 4, 128)[0])
    c = plan.constexpr_values(plan.bind(1, 2, 3, 4, tl.float16)[0])
    assert a == (64,) and b == (128,) and c == (tl.float16,)
    assert plan.constexpr_values(plan.bind(1, 2, 3, 4, [1, 2])[0]) == ((1, 2),)
    with pytest.raises(TypeError, match="'BLOCK'.*hashable"):
        plan.constexpr_values(plan.bind(1, 2, 3, 4, {1: 2})[0])


def test_decorator_forms():
    @triton.jit
    def inner(x, n):
        pass

    wrapped = jitspv.jit(inner)
    assert isinstance(wrapped, jitspv.Kernel) and wrapped.arg_names == ["x", "n"]
    dns = jitspv.kernel(do_not_specialize=["n"])(triton.jit(inner.fn))
    assert [p.do_not_specialize for p in dns.params] == [False, True]
    kept = jitspv.kernel(triton.jit(do_not_specialize=["n"])(inner.fn))
    assert [p.do_not_specialize for p in kept.params] == [False, True]
    assert jitspv.kernel(debug=True)(inner.fn).debug is True


def test_cdiv_next_power_of_2():
    for n in [0, 1, 2, 3, 5, 16, 17, 1000, 1024, 1025]:
        assert jitspv.next_power_of_2(n) == triton.next_power_of_2(n)
        for d in [1, 3, 16, 128]:
            assert jitspv.cdiv(n, d) == triton.cdiv(n, d)
