"""The SPIR-V builder: real compute shaders checked by spirv-val, constants round-tripped through
spirv-dis, de-duplication, misuse errors, and the generated grammar table being up to date."""
from __future__ import annotations

import os
import random
import re
import struct
import sys

import pytest

from jitspv.errors import InvalidSpirv
from jitspv.lower.spirv import (
    GLSL, AddressingModel, BuiltIn, Capability, Decoration, ExecutionMode, ExecutionModel,
    FunctionControl, LoopControl, MemoryAccess, MemoryModel, Module, Op,
    StorageClass, disassemble, to_glsl, validate,
)
from jitspv.lower.spirv.samples import VECTOR_ADD_F32_ARGS, vector_add_f32, vector_add_f32_kernel
from jitspv.lower.spirv.tools import SpirvToolMissing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = ["vulkan1.2", "vulkan1.3"]


def _compute_module(version=(1, 5), debug=True) -> Module:
    m = Module(version=version, debug=debug)
    m.capability(Capability.Shader)
    m.capability(Capability.PhysicalStorageBufferAddresses)
    m.memory_model(AddressingModel.PhysicalStorageBuffer64, MemoryModel.GLSL450)
    return m


# ---- (a) the vector-add kernel the runtime uses ------------------------------------------------
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("local_size", [128, 37])
def test_vector_add_validates(target, local_size):
    spv = vector_add_f32(local_size)
    validate(spv, target_env=target)
    text = disassemble(spv)
    assert f"LocalSize {local_size} 1 1" in text
    assert "OpMemoryModel PhysicalStorageBuffer64 GLSL450" in text
    assert "OpCapability Int64" in text and "OpCapability PhysicalStorageBufferAddresses" in text
    assert "BuiltIn GlobalInvocationId" in text and re.search(r"OpDecorate %\w+ Block", text)
    for arg in VECTOR_ADD_F32_ARGS:
        assert re.search(rf"OpMemberDecorate %\w+ {VECTOR_ADD_F32_ARGS.index(arg)} Offset {arg.offset}\b", text)
    assert "ArrayStride 4" in text
    memory_ops = [line for line in text.splitlines() if "OpLoad %float" in line or "OpStore" in line]
    assert len(memory_ops) == 3 and all(op.endswith("Aligned 4") for op in memory_ops)
    assert struct.unpack_from("<I", spv, 4)[0] == 0x00010500


def test_vector_add_spirv_1_3_keeps_push_constants_out_of_interface():
    spv = vector_add_f32(version=(1, 3))
    validate(spv, target_env="vulkan1.2")
    entry = next(line for line in disassemble(spv).splitlines() if "OpEntryPoint" in line)
    assert "%args" not in entry and "%gl_GlobalInvocationID" in entry


def test_vector_add_kernel_layout():
    k = vector_add_f32_kernel(64)
    assert k.local_size == (64, 1, 1)
    assert struct.calcsize(k.arg_format) == k.arg_block_size == 32
    assert k.arg_format.startswith("<QQQI")


# ---- (b) a loop with phis --------------------------------------------------------------------
def _row_sum_module(version=(1, 5), unused=False) -> bytes:
    """out[g] = sum_i |a[g*m + i]| for i < m, m a push constant: header phis for i and the sum.
    unused: also a loop-carried product nothing reads (named, decorated), a volatile load and a
    GLSL call whose results go unused."""
    m = _compute_module(version)
    void, u32, u64, f32, b = m.type_void(), m.type_int(32, False), m.type_int(64, False), m.type_float(32), m.type_bool()
    args = m.type_struct([u64, u64, u32], offsets=[0, 8, 16])
    m.decorate(args, Decoration.Block)
    pc = m.variable(m.type_pointer(StorageClass.PushConstant, args), StorageClass.PushConstant)
    wid = m.variable(m.type_pointer(StorageClass.Input, m.type_vector(u32, 3)), StorageClass.Input)
    m.decorate(wid, Decoration.BuiltIn, BuiltIn.WorkgroupId)
    psb = m.type_pointer(StorageClass.PhysicalStorageBuffer, f32, array_stride=4)
    fptr = m.type_pointer(StorageClass.Function, f32)

    f = m.function(void, m.type_function(void), FunctionControl.None_)
    entry, header, body, cont, merge = (f.label() for _ in range(5))
    f.begin_block(entry)
    g = f.emit(Op.CompositeExtract, u32, f.emit(Op.Load, m.type_vector(u32, 3), wid), 0)

    def member(i, t):
        return f.emit(Op.Load, t, f.emit(Op.AccessChain, m.type_pointer(StorageClass.PushConstant, t), pc, m.const(u32, i)))

    a = f.emit(Op.ConvertUToPtr, psb, member(0, u64))
    out = f.emit(Op.ConvertUToPtr, psb, member(1, u64))
    n = member(2, u32)
    base = f.emit(Op.IMul, u32, g, n)
    f.emit(Op.Branch, None, header)

    f.begin_block(header)
    i = f.phi(u32, (m.const(u32, 0), entry))
    acc = f.phi(f32, (m.const(f32, 0.0), entry))
    if unused:
        product = f.phi(f32, (m.const(f32, 1.0), entry))
        m.name(product, "product")
    more = f.emit(Op.ULessThan, b, i, n)
    f.emit(Op.LoopMerge, None, merge, cont, LoopControl.None_)
    f.emit(Op.BranchConditional, None, more, body, merge)

    f.begin_block(body)
    x = f.emit(Op.Load, f32, f.emit(Op.PtrAccessChain, psb, a, f.emit(Op.IAdd, u32, base, i)), MemoryAccess.Aligned, 4)
    tmp = f.variable(fptr)   # requested mid-function: must land in the entry block
    f.emit(Op.Store, None, tmp, f.glsl(f32, GLSL.FAbs, x))
    acc_next = f.emit(Op.FAdd, f32, acc, f.emit(Op.Load, f32, tmp))
    if unused:
        product_next = f.emit(Op.FMul, f32, product, f.glsl(f32, GLSL.Sqrt, x))
        m.decorate(product_next, Decoration.NoContraction)
        f.emit(Op.Load, f32, tmp, MemoryAccess.Volatile)
    f.emit(Op.Branch, None, cont)

    f.begin_block(cont)
    i_next = f.emit(Op.IAdd, u32, i, m.const(u32, 1))
    f.add_incoming(i, i_next, cont)
    f.add_incoming(acc, acc_next, cont)
    if unused:
        f.add_incoming(product, product_next, cont)
    f.emit(Op.Branch, None, header)

    f.begin_block(merge)
    f.emit(Op.Store, None, f.emit(Op.PtrAccessChain, psb, out, g), acc, MemoryAccess.Aligned, 4)
    f.emit(Op.Return, None)
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 1, 1, 1)
    return m.assemble()


@pytest.mark.parametrize("target", TARGETS)
def test_loop_with_phis_validates(target):
    spv = _row_sum_module()
    validate(spv, target_env=target)
    lines = disassemble(spv).splitlines()
    first_label = next(k for k, line in enumerate(lines) if "OpLabel" in line)
    assert "OpVariable" in lines[first_label + 1] and "Function" in lines[first_label + 1]
    phis = [line for line in lines if "OpPhi" in line]
    assert len(phis) == 2 and all(line.count("%") == 6 for line in phis)
    header = next(k for k, line in enumerate(lines) if "OpPhi" in line)
    assert "OpLabel" in lines[header - 1]
    assert any("OpLoopMerge" in line for line in lines)
    assert any('OpExtInstImport "GLSL.std.450"' in line for line in lines)


@pytest.mark.parametrize("target", TARGETS)
def test_unused_results_are_dropped_even_loop_carried(target):
    """A phi and its update that only feed each other are dead like any unused pure result; their
    names and decorations go with them (spirv-val rejects those of undefined ids); a volatile
    load stays. What is left is the function without them, instruction for instruction."""
    spv = _row_sum_module(unused=True)
    validate(spv, target_env=target)
    text = disassemble(spv)
    assert "product" not in text and "NoContraction" not in text and "Sqrt" not in text
    assert "OpFMul" not in text and len([line for line in text.splitlines() if "OpPhi" in line]) == 2
    volatile = [line for line in text.splitlines() if "Volatile" in line]
    assert len(volatile) == 1 and "OpLoad %float" in volatile[0]
    def body(t):   # opcodes from OpFunction on (the phi's constant 1.0 stays among the globals)
        ops = [line.split("=")[-1].split()[0] for line in t.splitlines() if "Volatile" not in line]
        return ops[ops.index("OpFunction"):]
    assert body(text) == body(disassemble(_row_sum_module()))


def test_spirv_1_6_under_vulkan_1_3():
    spv = _row_sum_module(version=(1, 6))
    validate(spv, target_env="vulkan1.3")
    with pytest.raises(InvalidSpirv):
        validate(spv, target_env="vulkan1.2")


# ---- (c) constants of every width, round-tripped through the disassembler ----------------------
_FLOAT_LAYOUT = {16: (5, 10), 32: (8, 23), 64: (11, 52)}


def _float_bits(text: str, width: int) -> int:
    """Bit pattern of a float as spirv-dis prints it (decimal, or hex float; inf/NaN use an
    exponent one past the largest)."""
    ebits, mbits = _FLOAT_LAYOUT[width]
    hexf = re.fullmatch(r"(-?)0x([01])\.?([0-9a-f]*)p([+-]\d+)", text)
    if hexf and int(hexf.group(4)) == (1 << (ebits - 1)):
        digits = hexf.group(3) or "0"
        frac = int(digits, 16)
        shift = mbits - 4 * len(digits)
        frac = frac << shift if shift >= 0 else frac >> -shift
        return (hexf.group(1) == "-") << (width - 1) | ((1 << ebits) - 1) << mbits | frac
    value = float.fromhex(text) if hexf else float(text)
    return int.from_bytes(struct.pack({16: "<e", 32: "<f", 64: "<d"}[width], value), "little")


def _random_float_bits(rng, width):
    ebits, mbits = _FLOAT_LAYOUT[width]
    top = (1 << ebits) - 1
    return [rng.getrandbits(width) for _ in range(6)] + [
        top << mbits | rng.getrandbits(mbits - 1) | 1,                      # signalling-ish NaN
        1 << (width - 1) | top << mbits | 1 << (mbits - 1),                  # negative quiet NaN
        rng.getrandbits(mbits) or 1,                                          # subnormal
    ]


def test_constants_round_trip_through_disassembly():
    rng = random.Random()
    m = Module(debug=True)
    m.capability(Capability.Shader)
    m.memory_model(AddressingModel.Logical, MemoryModel.GLSL450)
    void = m.type_void()
    f = m.function(void, m.type_function(void))
    f.begin_block(f.label())
    f.emit(Op.Return, None)
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 1, 1, 1)
    expected = {}   # result id -> (kind, width, signed, bits)
    for width in (8, 16, 32, 64):
        for signed in (False, True):
            t = m.type_int(width, signed)
            lo = -(1 << (width - 1)) if signed else 0
            hi = (1 << (width - 1)) if signed else (1 << width)
            values = {lo, hi - 1, 0, 1} | {rng.randrange(lo, hi) for _ in range(6)}
            for v in values:
                expected[m.const(t, v)] = ("int", width, signed, v)
    specials = [float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 1.0 / 3.0, -2.5]
    for width in (16, 32, 64):
        t = m.type_float(width)
        fmt = {16: "<e", 32: "<f", 64: "<d"}[width]
        for v in specials:
            expected[m.const(t, v)] = ("float", width, False, int.from_bytes(struct.pack(fmt, v), "little"))
        for bits in _random_float_bits(rng, width):
            expected[m.const_bits(t, bits)] = ("float", width, False, bits)
    validate(m.assemble(), target_env="vulkan1.2")

    text = disassemble(m.assemble())
    # Map friendly names back to ids through the order of OpConstant lines (ids are increasing).
    consts = re.findall(r"= OpConstant %(\w+) (\S+)", text)
    ids = sorted(expected)
    assert len(consts) == len(ids)
    for rid, (_, literal) in zip(ids, consts):
        kind, width, signed, want = expected[rid]
        if kind == "int":
            assert int(literal) == want, (width, signed, literal, want)
        else:
            assert _float_bits(literal, width) == want, (width, literal, hex(want))
    assert m.const(m.type_float(32), -0.0) != m.const(m.type_float(32), 0.0)
    assert m.const(m.type_float(32), float("nan")) == m.const(m.type_float(32), float("nan"))


# ---- (d) de-duplication and type queries ----------------------------------------------------
def test_types_constants_and_decorations_are_deduplicated():
    m = _compute_module()
    u32 = m.type_int(32, False)
    assert m.type_int(32, False) == u32 and m.type_int(32, True) != u32
    assert m.type_vector(u32, 4) == m.type_vector(u32, 4)
    assert m.type_array(u32, 7) == m.type_array(u32, 7) != m.type_array(u32, 7, stride=4)
    assert m.type_pointer(StorageClass.Workgroup, u32) == m.type_pointer(StorageClass.Workgroup, u32)
    psb4 = m.type_pointer(StorageClass.PhysicalStorageBuffer, u32, array_stride=4)
    assert psb4 == m.type_pointer(StorageClass.PhysicalStorageBuffer, u32, array_stride=4)
    assert psb4 != m.type_pointer(StorageClass.PhysicalStorageBuffer, u32, array_stride=16)
    assert m.type_function(m.type_void(), [u32]) == m.type_function(m.type_void(), [u32])
    assert m.type_struct([u32]) != m.type_struct([u32])
    assert m.const(u32, 5) == m.const(u32, 5) and m.const(u32, 5) != m.const(m.type_int(32, True), 5)
    assert m.const(u32, -1) == m.const(u32, 0xFFFFFFFF)   # signless: same bit pattern
    v = m.type_vector(u32, 2)
    assert m.const_composite(v, [m.const(u32, 1)] * 2) == m.const_composite(v, [m.const(u32, 1)] * 2)
    assert m.const_null(v) == m.const_null(v)
    assert m.ext_inst_import("GLSL.std.450") == m.ext_inst_import("GLSL.std.450")
    before = m.bound
    m.capability(Capability.Shader)
    m.decorate(psb4, Decoration.ArrayStride, 4)
    m.extension("SPV_KHR_storage_buffer_storage_class")
    m.extension("SPV_KHR_storage_buffer_storage_class")
    assert m.bound == before
    text = disassemble(m.assemble())
    assert text.count("OpCapability Shader") == 1
    assert text.count("ArrayStride 4") == 2        # the pointer and the strided array, once each
    assert text.count("OpExtension") == 1


def test_type_info_and_type_of():
    m = _compute_module()
    i64 = m.type_int(64, True)
    info = m.type_info(i64)
    assert (info.kind, info.width, info.signed) == ("int", 64, True)
    v = m.type_vector(m.type_float(16), 4)
    assert m.type_info(v)[:5] == ("vector", 16, False, m.type_float(16), 4)
    p = m.type_pointer(StorageClass.PhysicalStorageBuffer, i64, array_stride=8)
    assert (m.type_info(p).kind, m.type_info(p).elem, m.type_info(p).storage_class) == (
        "pointer", i64, StorageClass.PhysicalStorageBuffer)
    assert m.type_info(m.type_array(i64, 3)).count == 3
    assert m.type_of(m.const(i64, -7)) == i64
    f = m.function(m.type_void(), m.type_function(m.type_void(), [i64]))
    x = f.param(i64)
    f.begin_block(f.label())
    assert m.type_of(f.emit(Op.SNegate, i64, x)) == i64
    assert m.type_of(f.emit(Op.SLessThan, m.type_bool(), x, x)) == m.type_bool()
    with pytest.raises(KeyError):
        m.type_info(x)


@pytest.mark.parametrize("target", TARGETS)
def test_forward_pointer_for_a_self_referencing_struct(target):
    """A linked list in device memory: out[0] = head->next->value."""
    m = _compute_module()
    void, u32, u64 = m.type_void(), m.type_int(32, False), m.type_int(64, False)
    psb = StorageClass.PhysicalStorageBuffer
    node_ptr = m.type_forward_pointer(psb)
    node = m.type_struct([u32, node_ptr], offsets=[0, 8])
    assert m.type_pointer(psb, node, forward=node_ptr) == node_ptr
    assert m.type_info(node_ptr).elem == node
    args = m.type_struct([u64, u64], offsets=[0, 8])
    m.decorate(args, Decoration.Block)
    pc = m.variable(m.type_pointer(StorageClass.PushConstant, args), StorageClass.PushConstant)
    f = m.function(void, m.type_function(void))
    f.begin_block(f.label())

    def address(i):
        return f.emit(Op.Load, u64, f.emit(Op.AccessChain, m.type_pointer(StorageClass.PushConstant, u64), pc, m.const(u32, i)))

    head = f.emit(Op.ConvertUToPtr, node_ptr, address(0))
    ptr_to_next = f.emit(Op.AccessChain, m.type_pointer(psb, node_ptr), head, m.const(u32, 1))
    second = f.emit(Op.Load, node_ptr, ptr_to_next, MemoryAccess.Aligned, 8)
    value = f.emit(Op.Load, u32, f.emit(Op.AccessChain, m.type_pointer(psb, u32), second, m.const(u32, 0)),
                   MemoryAccess.Aligned, 4)
    out = f.emit(Op.ConvertUToPtr, m.type_pointer(psb, u32), address(1))
    f.emit(Op.Store, None, out, value, MemoryAccess.Aligned, 4)
    f.emit(Op.Return, None)
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 1, 1, 1)
    validate(m.assemble(), target_env=target)
    pending = _compute_module()
    pending.type_forward_pointer(psb)
    with pytest.raises(ValueError, match="forward pointers never defined"):
        pending.assemble()


# ---- misuse is caught where it happens -------------------------------------------------------
def test_misuse_raises():
    m = _compute_module()
    u32, f32 = m.type_int(32, False), m.type_float(32)
    f = m.function(m.type_void(), m.type_function(m.type_void()))
    with pytest.raises(ValueError, match="begin_block"):
        f.emit(Op.IAdd, u32, m.const(u32, 1), m.const(u32, 2))
    f.begin_block(f.label())
    with pytest.raises(ValueError, match="OpIAdd needs a result type"):
        f.emit(Op.IAdd, None, 1, 2)
    with pytest.raises(ValueError, match="OpReturn has no result type"):
        f.emit(Op.Return, u32)
    with pytest.raises(TypeError):
        f.emit(Op.FAdd, f32, 1.5, 2)
    with pytest.raises(ValueError, match="u32"):
        f.emit(Op.IAdd, u32, -1, 2)
    with pytest.raises(ValueError, match="fit"):
        m.const(m.type_int(8, True), 300)
    with pytest.raises(ValueError):
        m.variable(m.type_pointer(StorageClass.Function, u32), StorageClass.Function)
    with pytest.raises(ValueError, match="not ended"):
        m.assemble()
    f.emit(Op.Return, None)
    f.end()
    # The failed emits above left no words behind.
    validate_words = disassemble(m.assemble())
    assert validate_words.count("OpIAdd") == 0 and validate_words.count("OpReturn") == 1


def test_debug_assemble_reports_ids_never_defined():
    m = _compute_module(debug=True)
    f = m.function(m.type_void(), m.type_function(m.type_void()))
    f.begin_block(f.label())
    never_begun = f.label()
    f.emit(Op.Branch, None, never_begun)
    f.end()
    with pytest.raises(ValueError, match=rf"never defined: \[{never_begun}\]"):
        m.assemble()


def test_string_operands_are_encoded():
    m = _compute_module()
    f = m.function(m.type_void(), m.type_function(m.type_void()))
    f.begin_block(f.label())
    s = f.emit(Op.String, None, "kernel.py")          # a result without a result type
    f.emit(Op.Return, None)
    f.end()
    assert '"kernel.py"' in disassemble(m.assemble())
    assert s < m.bound


# ---- (e) validate() on a broken module ---------------------------------------------------------
def test_validate_reports_what_is_wrong_with_context():
    m = _compute_module()
    void, f32 = m.type_void(), m.type_float(32)
    psb = m.type_pointer(StorageClass.PhysicalStorageBuffer, f32, array_stride=4)
    f = m.function(void, m.type_function(void))
    f.begin_block(f.label())
    p = f.emit(Op.ConvertUToPtr, psb, m.const(m.type_int(64, False), 1024))
    x = f.emit(Op.Load, f32, p)                        # no Aligned operand: invalid
    f.emit(Op.Store, None, p, x, MemoryAccess.Aligned, 4)
    f.emit(Op.Return, None)
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 1, 1, 1)
    with pytest.raises(InvalidSpirv) as err:
        validate(m.assemble())
    msg = str(err.value)
    assert "must use Aligned" in msg
    marked = [line for line in msg.splitlines() if line.startswith(">")]
    assert len(marked) == 1 and "OpLoad %float" in marked[0]


def test_to_glsl_renders_a_shader():
    m = Module()
    m.capability(Capability.Shader)
    m.memory_model(AddressingModel.Logical, MemoryModel.GLSL450)
    void = m.type_void()
    f = m.function(void, m.type_function(void))
    m.name(f.id, "main")
    f.begin_block(f.label())
    f.emit(Op.Return, None)
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 8, 1, 1)
    try:
        glsl = to_glsl(m.assemble())
    except SpirvToolMissing as missing:   # only the executable's absence skips (e.g. the GPU machine)
        pytest.skip(str(missing))
    assert "local_size_x = 8" in glsl and "void main()" in glsl


# ---- (f) the committed grammar table matches the generator -----------------------------------
def test_grammar_table_is_regenerated_identically(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import gen_spirv_tables
    finally:
        sys.path.pop(0)
    grammar_dir = gen_spirv_tables.DEFAULT_GRAMMAR_DIR
    if not os.path.exists(os.path.join(grammar_dir, gen_spirv_tables.CORE)):
        pytest.skip("SPIR-V grammar JSON not installed (Debian package spirv-headers)")
    out = tmp_path / "grammar.py"
    assert gen_spirv_tables.main([grammar_dir, "-o", str(out)]) == 0
    with open(os.path.join(ROOT, "jitspv", "lower", "spirv", "grammar.py")) as f:
        assert out.read_text() == f.read()
