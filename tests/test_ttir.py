"""Triton bridge + TTIR parser/printer on real kernels (runs under Triton 3.6 and 3.9).

Round trip: bridge -> TTIR text -> jitspv.ttir.parse -> print_module -> Triton's own MLIR
parser -> str_nodebug(), which must equal the bridge's str_nodebug().
"""

import importlib.util
import inspect
import linecache
import sys
import textwrap

import pytest
import triton
from triton.compiler.errors import CompilationError

from jitspv.frontend.triton_bridge import (TtirOptions, kernel_source_hash, make_ttir, parse_mlir,
                                           to_jit_function)
from jitspv.ttir import ir
from jitspv.ttir.parser import TtirParseError, parse
from jitspv.ttir.printer import print_module

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import ttir_kernels  # noqa: E402

KERNEL_FILE = ttir_kernels.__file__
# Which source text an op's location must point at.
SOURCE_WORD = {"tt.store": "store", "tt.load": "load", "tt.atomic_rmw": "atomic_", "tt.atomic_cas": "atomic_cas",
               "tt.dot": "tl.dot", "tt.get_program_id": "program_id", "tt.call": "_scaled"}


@pytest.fixture(scope="module", params=sorted(ttir_kernels.CASES))
def case(request):
    kernel, sig, consts, div16, eq1, ops = ttir_kernels.CASES[request.param]
    return kernel, sig, consts, div16, eq1, ops, make_ttir(kernel, sig, consts, div16, eq1, TtirOptions())


def _op_names(module):
    return {op.name for op in module.walk()}


def test_bridge_output_has_expected_ops(case):
    kernel, sig, consts, div16, eq1, ops, res = case
    module = parse(res.text_nodebug)
    missing = [o for o in ops if o not in _op_names(module)]
    assert not missing, f"{kernel.__name__}: TTIR lacks {missing}"
    assert res.frontend_seconds > 0


def test_kernel_signature(case):
    kernel, sig, consts, div16, eq1, ops, res = case
    module = parse(res.text)
    fn = module.function(res.name)
    names = kernel.arg_names
    assert fn.visibility == "public"
    assert [names[i] for i in res.kept_args] == [n for n in names if sig[n] != "constexpr" and n not in eq1]
    assert sorted(res.kept_args + res.dropped_args) == list(range(len(names)))
    assert len(fn.arguments) == len(res.kept_args)
    for value, index in zip(fn.arguments, res.kept_args):
        ty = sig[names[index]]
        if ty.startswith("*"):
            assert isinstance(value.type, ir.PointerType)
            want = {"*fp32": "f32", "*fp16": "f16", "*i32": "i32", "*i64": "i64", "*u8": "i8"}[ty]
            assert str(value.type.pointee) == want
        else:
            assert str(value.type) == {"i32": "i32", "i64": "i64", "fp32": "f32", "u1": "i1"}[ty]
        divisibility = fn.arg_attr(value.index, "tt.divisibility")
        assert (divisibility is not None and divisibility.value == 16) == (names[index] in div16)
        # Argument locations carry the parameter name.
        assert fn.body.entry.argument_locations[value.index].name == names[index]


def test_result_types(case):
    *_, res = case
    module = parse(res.text_nodebug)
    for op in module.walk():
        if op.name == "tt.load":
            ptr = op.operands[0].type
            want = ptr.pointee if isinstance(ptr, ir.PointerType) else ir.TensorType(ptr.shape, ptr.element_type.pointee)
            assert op.result.type == want
        elif op.name in ("arith.cmpi", "arith.cmpf"):
            assert op.result.type.element_type == ir.I1
            assert op.result.type.shape == op.operands[0].type.shape
        elif op.name == "tt.make_range":
            assert op.result.type == ir.TensorType((op.attributes["end"].value - op.attributes["start"].value,),
                                                   ir.IntType(32))
        elif op.name == "tt.addptr":
            assert op.result.type == op.operands[0].type
        elif op.name == "scf.for":
            assert [r.type for r in op.results] == [v.type for v in op.operands[3:]]
            assert [a.type for a in op.regions[0].entry.arguments[1:]] == [r.type for r in op.results]
        elif op.name in ("tt.reduce", "tt.scan"):
            combine = op.regions[0].entry
            assert len(combine.arguments) == 2 * len(op.operands)
            assert combine.operations[-1].name == op.name + ".return"


def test_locations_point_at_kernel_source(case):
    kernel, *_, res = case
    module = parse(res.text)
    lines = open(KERNEL_FILE).read().splitlines()
    checked = 0
    for op in module.walk():
        if op.name in SOURCE_WORD and op.location is not None:
            assert op.location.file == KERNEL_FILE
            assert SOURCE_WORD[op.name] in lines[op.location.line - 1], (op.name, op.location)
            checked += 1
    assert checked > 0
    assert module.function(res.name).location.line == inspect.getsourcelines(kernel.fn)[1] + 1


@pytest.mark.parametrize("locations", [True, False])
def test_print_round_trips_through_triton(case, locations):
    *_, res = case
    printed = print_module(parse(res.text), locations=locations)
    assert parse_mlir(printed) == res.text_nodebug
    # Our printer's output is parseable by our parser too, and prints identically again.
    assert print_module(parse(printed), locations=locations) == printed


def test_equal_to_1_and_constexprs_are_dropped():
    res = make_ttir(ttir_kernels.add_kernel, {"x_ptr": "*fp32", "y_ptr": "*fp32", "out_ptr": "*fp32", "n": "i32",
                                              "BLOCK": "constexpr"}, {"BLOCK": 64}, set(), {"n"})
    assert res.kept_args == (0, 1, 2) and res.dropped_args == (3, 4)
    fn = parse(res.text_nodebug).function(res.name)
    assert len(fn.arguments) == 3
    # n == 1, so the mask compares against a splat of the constant 1.
    consts = [op.attributes["value"] for op in fn.walk() if op.name == "arith.constant"]
    assert any(isinstance(c, ir.DenseAttr) and c.values == 1 for c in consts)


def test_dot_precision_options():
    kernel, sig, consts, div16, eq1, _ = ttir_kernels.CASES["matmul"]
    for precision in ("ieee", "tf32x3"):
        res = make_ttir(kernel, sig, consts, div16, eq1,
                        TtirOptions(default_dot_input_precision=precision))
        dots = [op for op in parse(res.text_nodebug).walk() if op.name == "tt.dot"]
        # The kernel asks for tf32 explicitly, which wins over the default.
        assert [d.attributes["inputPrecision"].name for d in dots] == ["tf32"]
    with pytest.raises(ValueError):
        TtirOptions(num_warps=3)
    with pytest.raises(ValueError):
        TtirOptions(default_dot_input_precision="bf16x9")


def _write_module(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    linecache.checkcache()
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


KERNEL_SRC = """
import triton
import triton.language as tl


@triton.jit
def helper(x):
    return x * {factor}


@triton.jit
def kernel(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, helper(tl.load(x_ptr + offs)))


class Wrapped:
    def __init__(self, fn):
        self.jit_function = fn

    def __deepcopy__(self, memo):
        # Triton's dependency hashing deep-copies referenced globals; a JITFunction cannot be.
        return self


wrapped_helper = Wrapped(helper)


def plain(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, {call}(tl.load(x_ptr + offs)))
"""


def test_kernel_source_hash_covers_callees(tmp_path):
    a = _write_module(tmp_path, "hash_a", KERNEL_SRC.format(factor=2, call="helper"))
    b = _write_module(tmp_path, "hash_b", KERNEL_SRC.format(factor=3, call="helper"))
    c = _write_module(tmp_path, "hash_c", KERNEL_SRC.format(factor=2, call="helper"))
    assert kernel_source_hash(a.kernel) != kernel_source_hash(b.kernel)
    assert kernel_source_hash(a.kernel) == kernel_source_hash(c.kernel)
    # A callee reached through a wrapper object (as jitspv's decorator) is covered too.
    d = _write_module(tmp_path, "hash_d", KERNEL_SRC.format(factor=2, call="wrapped_helper.jit_function"))
    e = _write_module(tmp_path, "hash_e", KERNEL_SRC.format(factor=5, call="wrapped_helper.jit_function"))
    assert kernel_source_hash(d.plain) != kernel_source_hash(e.plain)
    assert to_jit_function(d.wrapped_helper) is d.helper
    assert isinstance(to_jit_function(d.plain), triton.runtime.jit.JITFunction)
    with pytest.raises(TypeError):
        to_jit_function(42)


BAD_SRC = """
import triton
import triton.language as tl


@triton.jit
def helper(x):
    return x + undefined_name


@triton.jit
def kernel(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    y = tl.load(x_ptr + offs)
    tl.store(x_ptr + offs, helper(y))


@triton.jit
def bad_shape(x_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.arange(0, 2 * BLOCK))
"""


def test_compile_errors_name_file_and_line(tmp_path):
    mod = _write_module(tmp_path, "bad_kernels", BAD_SRC)
    path = mod.__file__
    with pytest.raises(CompilationError) as info:
        make_ttir(mod.kernel, {"x_ptr": "*fp32", "BLOCK": "constexpr"}, {"BLOCK": 32})
    msg = str(info.value)
    assert f"{path}:15:" in msg          # the call in the kernel
    assert f"{path}:8:" in msg           # the undefined name in the helper
    assert "undefined_name" in msg
    with pytest.raises(CompilationError) as info:
        make_ttir(mod.bad_shape, {"x_ptr": "*fp32", "BLOCK": "constexpr"}, {"BLOCK": 32})
    assert f"{path}:21:" in str(info.value)
    with pytest.raises(ValueError):
        make_ttir(mod.kernel, {"x_ptr": "*fp32"}, {})


GOOD = """module {
  tt.func public @k(%arg0: !tt.ptr<f32>) attributes {noinline = false} {
    %c1_i32 = arith.constant 1 : i32
    %0 = tt.addptr %arg0, %c1_i32 : !tt.ptr<f32>, i32
    tt.return
  }
}
"""


@pytest.mark.parametrize("bad, message", [
    (GOOD.replace("tt.addptr", "tt.frobnicate"), "jitspv does not support the operation 'tt.frobnicate' yet"),
    (GOOD.replace("%arg0, %c1_i32", "%arg0, %c2_i32"), "undefined value %c2_i32"),
    (GOOD.replace("!tt.ptr<f32>, i32", "!tt.ptr<f32>, q32"), "unknown type"),
    (GOOD.replace("1 : i32", "1 : i32 blah"), "does not support the operation 'blah'"),
    (GOOD + "trailing", "unexpected text after the module"),
])
def test_parse_errors(bad, message):
    assert parse(GOOD).functions[0].sym_name == "k"
    with pytest.raises(TtirParseError) as info:
        parse(bad)
    assert message in str(info.value)
    assert info.value.line >= 1 and info.value.col >= 1


def test_parse_error_position():
    text = GOOD.replace("%c1_i32 = arith.constant 1 : i32",
                                                   "%c1_i32 = arith.cmpi foo, %arg0, %arg0 : i32")
    with pytest.raises(TtirParseError) as info:
        parse(text)
    assert (info.value.line, info.value.col) == (3, 26)
    assert "unknown predicate 'foo'" in str(info.value)


def test_hex_and_special_constants():
    module = parse("""module {
  tt.func @k() {
    %cst = arith.constant dense<0xFF800000> : tensor<4xf32>
    %c = arith.constant 0x7F800000 : f32
    %h = arith.constant dense<[0x7C00, 1.5]> : tensor<2xf16>
    %d = arith.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi32>
    %t = arith.constant true
    %e = arith.constant -2.500000e-01 : bf16
    tt.return
  }
}
""")
    consts = [op.attributes["value"] for op in module.walk() if op.name == "arith.constant"]
    # Hex dense elements of a float tensor are bit patterns of the element type.
    assert consts[0].values == float("-inf") and consts[0].is_splat and consts[0].text == "0xFF800000"
    assert consts[1].value == float("inf")
    assert consts[2].values == [float("inf"), 1.5]
    assert consts[3].values == [[1, 2], [3, 4]]
    assert consts[4] == ir.BoolAttr(True)
    assert consts[5].value == -0.25 and consts[5].type == ir.FloatType("bf16")
