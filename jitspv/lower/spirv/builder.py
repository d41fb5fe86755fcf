"""SPIR-V module builder: one word list per logical-layout section, joined by `Module.assemble()`.

Every emitter writes into the section its instruction belongs to, so section order cannot come
out wrong whatever order the caller works in. Types and constants are created through caching
getters (same request, same id); each result id remembers its type.

Module (all methods return result ids where SPIR-V has one):
    m = Module(version=(1, 5), debug=False)
    m.new_id()                                   a fresh id, for forward references
    m.capability(cap); m.extension(name)         de-duplicated
    m.ext_inst_import(name) -> id                cached ("GLSL.std.450")
    m.memory_model(addressing, memory)
    m.entry_point(model, fn_id, name, interface=None)
        interface None: every module-level variable (SPIR-V >= 1.4), Input/Output ones before.
    m.execution_mode(fn_id, mode, *literals)
    m.name(id, text); m.member_name(struct_id, index, text)
    m.decorate(id, dec, *literals); m.member_decorate(struct_id, index, dec, *literals)  de-duplicated
  types (cached, except structs, which carry their own decorations):
    m.type_void(); m.type_bool(); m.type_int(width, signed); m.type_float(width)
    m.type_vector(elem, n); m.type_array(elem, length, stride=None)
    m.type_struct(members, offsets=None)          offsets: decorates each member's Offset
    m.type_pointer(storage_class, pointee, array_stride=None, forward=None)
    m.type_forward_pointer(storage_class) -> id   defined later by type_pointer(..., forward=id)
    m.type_function(ret, params)
    Declaring an 8/16/64-bit int or 16/64-bit float type adds the capability it needs.
  constants (cached by bit pattern, so -0.0 and 0.0, or two NaNs, stay distinct):
    m.const(type_id, value)      bool / int of any width (two's complement; -2**(w-1) <= value < 2**w)
                                 / float 16, 32, 64 from a Python or numpy number
    m.const_bits(type_id, bits)  int or float constant from its raw bit pattern (NaN payloads)
    m.const_composite(type_id, ids); m.const_null(type_id)
  queries:
    m.type_of(id) -> type id;  m.type_info(type_id) -> TypeInfo(kind, width, signed, elem, count,
    storage_class, members)
  globals and functions:
    m.variable(ptr_type, storage_class, init=None, result_id=None) -> id   module-level OpVariable
    f = m.function(ret_type, fn_type, control=0)              f.id is the function's id
    f.param(type) -> id;  f.label() -> id;  f.begin_block(label)
    f.variable(ptr_type, init=None) -> id     OpVariable(Function), always placed in the entry block
    f.emit(op, result_type_or_None, *operands) -> id or None
        operands: ints (ids, literal words) or str (null-terminated literal strings). Whether the
        op has a result comes from the grammar; a result type for an op without one is an error.
    f.glsl(result_type, GLSL.Exp, *operands) -> id           OpExtInst on GLSL.std.450
    f.phi(result_type, *(value, parent_label)) -> id          placed first in the current block
    f.add_incoming(phi_id, value, parent_label)               for back edges known only later
    f.end()      drops pure instructions whose results nothing with an effect uses (and their
                 names and decorations), so lowerings may produce values per element freely
    m.assemble() -> bytes            with debug=True also checks every allocated id got defined

Misuse (emit before a block, a result type where the op has none, a literal that is not a u32,
assembling with an open function or without a memory model) raises ValueError/TypeError at
once; full validation is spirv-val's job (jitspv.lower.spirv.tools.validate).
"""
from __future__ import annotations

import struct
import sys
from array import array
from contextlib import contextmanager
from typing import NamedTuple

from jitspv.lower.spirv.grammar import (
    MAGIC, OP_NAMES, HAS_RESULT, HAS_RESULT_TYPE, Op, Capability, Decoration, FPEncoding, StorageClass,
)

_WORD = "I" if array("I").itemsize == 4 else "L"
# Header generator word: high 16 bits a registered tool id (0, shown as "Khronos", is what
# unregistered tools use), low 16 bits the tool's own version.
_GENERATOR = 0x0000_0001

_HAS_RESULT_TYPE = HAS_RESULT_TYPE
_HAS_RESULT = HAS_RESULT


def _words():
    return array(_WORD)


def string_words(text: str) -> list:
    """A literal string as SPIR-V words: UTF-8, null-terminated, zero-padded to a word boundary."""
    raw = text.encode("utf-8") + b"\0"
    raw += b"\0" * (-len(raw) % 4)
    return list(struct.unpack(f"<{len(raw) // 4}I", raw))


def _expand_strings(operands) -> list:
    out = []
    for o in operands:
        if isinstance(o, str):
            out.extend(string_words(o))
        else:
            out.append(o)
    return out


def _append(words, op, operands):
    """Appends one instruction; str operands become literal strings. Rolls back on a bad operand."""
    if len(operands) >= 0xFFFF:
        raise ValueError(f"{OP_NAMES.get(op, op)}: {len(operands)} operands exceed the 65535-word instruction limit")
    start = len(words)
    words.append((len(operands) + 1) << 16 | op)
    try:
        words.extend(operands)
    except TypeError:
        del words[start:]
        if not any(isinstance(o, str) for o in operands):
            raise TypeError(f"{OP_NAMES.get(op, op)}: operands must be int or str, got {operands!r}") from None
        _append(words, op, _expand_strings(operands))
    except OverflowError:
        del words[start:]
        raise ValueError(f"{OP_NAMES.get(op, op)}: operand out of u32 range in {operands!r}") from None


class TypeInfo(NamedTuple):
    """What a type id stands for. kind: void, bool, int, float, bfloat16, vector, array, struct,
    pointer, function, coopmat, tensor_layout. Vectors and cooperative matrices repeat their component's width/signed;
    `elem` is the element (component), pointee or return type; `count` the vector size or array
    length; `members` the struct members or function parameters."""

    kind: str
    width: int = 0
    signed: bool = False
    elem: int = 0
    count: int = 0
    storage_class: int = -1
    members: tuple = ()


_INT_CAPS = {8: Capability.Int8, 16: Capability.Int16, 64: Capability.Int64}
_FLOAT_CAPS = {16: Capability.Float16, 64: Capability.Float64}
_FLOAT_FORMATS = {16: "<e", 32: "<f", 64: "<d"}


class _NoBlock:
    """Stands in for the current block's word list before begin_block: any emit fails clearly."""

    def _fail(self, *_):
        raise ValueError("emit before begin_block: instructions must go inside a block")

    append = extend = _fail

    def __len__(self):
        return 0


_NO_BLOCK = _NoBlock()

# Instructions without side effects: Function.end drops those whose results nothing live uses
# (loop-carried values a lowering produced for every element but read for a few, their updates).
_PURE_OPS = frozenset(getattr(Op, name) for name in (
    "Undef", "Phi", "CopyObject", "Bitcast", "Select",
    "SNegate", "FNegate", "IAdd", "FAdd", "ISub", "FSub", "IMul", "FMul", "UDiv", "SDiv", "FDiv", "UMod",
    "SRem", "SMod", "FRem", "FMod", "VectorTimesScalar", "Dot", "IAddCarry", "ISubBorrow",
    "UMulExtended", "SMulExtended",
    "ShiftRightLogical", "ShiftRightArithmetic", "ShiftLeftLogical", "BitwiseOr", "BitwiseXor", "BitwiseAnd",
    "Not", "BitFieldInsert", "BitFieldSExtract", "BitFieldUExtract", "BitReverse", "BitCount",
    "Any", "All", "IsNan", "IsInf", "LogicalEqual", "LogicalNotEqual", "LogicalOr", "LogicalAnd", "LogicalNot",
    "IEqual", "INotEqual", "UGreaterThan", "SGreaterThan", "UGreaterThanEqual", "SGreaterThanEqual",
    "ULessThan", "SLessThan", "ULessThanEqual", "SLessThanEqual",
    "FOrdEqual", "FUnordEqual", "FOrdNotEqual", "FUnordNotEqual", "FOrdLessThan", "FUnordLessThan",
    "FOrdGreaterThan", "FUnordGreaterThan", "FOrdLessThanEqual", "FUnordLessThanEqual",
    "FOrdGreaterThanEqual", "FUnordGreaterThanEqual",
    "ConvertFToU", "ConvertFToS", "ConvertSToF", "ConvertUToF", "UConvert", "SConvert", "FConvert",
    "QuantizeToF16", "ConvertPtrToU", "ConvertUToPtr",
    "VectorExtractDynamic", "VectorInsertDynamic", "VectorShuffle", "CompositeConstruct", "CompositeExtract",
    "CompositeInsert", "AccessChain", "InBoundsAccessChain", "PtrAccessChain", "InBoundsPtrAccessChain",
    "CooperativeMatrixMulAddKHR", "CooperativeMatrixLengthKHR"))
_VOLATILE = 0x1   # MemoryAccess Volatile: such a load is kept


class Module:
    def __init__(self, version=(1, 5), debug: bool = False):
        if tuple(version) not in ((1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6)):
            raise ValueError(f"unsupported SPIR-V version {version}")
        self.version = tuple(version)
        self.debug = debug
        self._bound = 1
        # One word list per logical-layout section (SPIR-V spec 2.4), in order.
        self._capabilities = _words()
        self._extensions = _words()
        self._ext_imports = _words()
        self._memory_model = None
        self._entry_points = []          # (model, fn_id, name, interface or None)
        self._execution_modes = _words()
        self._debug_names = _words()
        self._annotations = _words()
        self._globals = _words()         # types, constants, module-level variables
        self._functions = _words()

        self._seen = set()               # de-duplication keys of capabilities, extensions, decorations
        self._ext_import_ids = {}
        self._type_cache = {}
        self._const_cache = {}
        self._const_ids = set()
        self._types = {}                 # type id -> TypeInfo
        self._type_of = {}               # result id -> type id
        self._global_vars = []           # (id, storage class)
        self._forward_pointers = {}      # forward-declared pointer id -> storage class, until defined
        self._open_functions = 0
        self._removed = set()            # result ids Function.end dropped as unused

    # ---- ids -------------------------------------------------------------------------------
    def new_id(self) -> int:
        rid = self._bound
        self._bound = rid + 1
        return rid

    @property
    def bound(self) -> int:
        return self._bound

    def type_of(self, rid: int) -> int:
        try:
            return self._type_of[rid]
        except KeyError:
            raise KeyError(f"id {rid} has no recorded type (not a typed result of this module)") from None

    def type_info(self, type_id: int) -> TypeInfo:
        try:
            return self._types[type_id]
        except KeyError:
            raise KeyError(f"id {type_id} is not a type of this module") from None

    # ---- preamble sections ---------------------------------------------------------------------
    def capability(self, cap: int) -> None:
        key = ("cap", cap)
        if key not in self._seen:
            self._seen.add(key)
            _append(self._capabilities, Op.Capability, (cap,))

    def extension(self, name: str) -> None:
        key = ("ext", name)
        if key not in self._seen:
            self._seen.add(key)
            _append(self._extensions, Op.Extension, string_words(name))

    def ext_inst_import(self, name: str) -> int:
        rid = self._ext_import_ids.get(name)
        if rid is None:
            rid = self._ext_import_ids[name] = self.new_id()
            _append(self._ext_imports, Op.ExtInstImport, [rid] + string_words(name))
        return rid

    def memory_model(self, addressing: int, memory: int) -> None:
        self._memory_model = (addressing, memory)

    def entry_point(self, model: int, fn_id: int, name: str, interface=None) -> None:
        self._entry_points.append((model, fn_id, name, None if interface is None else tuple(interface)))

    def execution_mode(self, fn_id: int, mode: int, *literals: int) -> None:
        key = ("mode", fn_id, mode, literals)
        if key not in self._seen:
            self._seen.add(key)
            _append(self._execution_modes, Op.ExecutionMode, (fn_id, mode) + literals)

    def name(self, rid: int, text: str) -> None:
        _append(self._debug_names, Op.Name, [rid] + string_words(text))

    def member_name(self, struct_id: int, index: int, text: str) -> None:
        _append(self._debug_names, Op.MemberName, [struct_id, index] + string_words(text))

    def decorate(self, rid: int, dec: int, *literals: int) -> None:
        key = ("dec", rid, dec, literals)
        if key not in self._seen:
            self._seen.add(key)
            _append(self._annotations, Op.Decorate, (rid, dec) + literals)

    def member_decorate(self, struct_id: int, index: int, dec: int, *literals: int) -> None:
        key = ("mdec", struct_id, index, dec, literals)
        if key not in self._seen:
            self._seen.add(key)
            _append(self._annotations, Op.MemberDecorate, (struct_id, index, dec) + literals)

    # ---- types ---------------------------------------------------------------------------------
    def _type(self, key, info: TypeInfo, op: int, *operands) -> int:
        tid = self._type_cache.get(key)
        if tid is None:
            tid = self.new_id()
            _append(self._globals, op, (tid,) + operands)
            self._type_cache[key] = tid
            self._types[tid] = info
        return tid

    def _check_type(self, tid: int, what: str) -> TypeInfo:
        info = self._types.get(tid)
        if info is None:
            raise ValueError(f"{what}: id {tid} is not a type of this module")
        return info

    def type_void(self) -> int:
        return self._type(("void",), TypeInfo("void"), Op.TypeVoid)

    def type_bool(self) -> int:
        return self._type(("bool",), TypeInfo("bool"), Op.TypeBool)

    def type_int(self, width: int, signed: bool) -> int:
        signed = bool(signed)
        key = ("int", width, signed)
        tid = self._type_cache.get(key)
        if tid is None:
            if width not in (8, 16, 32, 64):
                raise ValueError(f"type_int: unsupported width {width}")
            if width in _INT_CAPS:
                self.capability(_INT_CAPS[width])
            tid = self._type(key, TypeInfo("int", width, signed), Op.TypeInt, width, int(signed))
        return tid

    def type_float(self, width: int) -> int:
        key = ("float", width)
        tid = self._type_cache.get(key)
        if tid is None:
            if width not in _FLOAT_FORMATS:
                raise ValueError(f"type_float: unsupported width {width}")
            if width in _FLOAT_CAPS:
                self.capability(_FLOAT_CAPS[width])
            tid = self._type(key, TypeInfo("float", width), Op.TypeFloat, width)
        return tid

    def type_vector(self, elem: int, n: int) -> int:
        e = self._check_type(elem, "type_vector")
        return self._type(("vec", elem, n), TypeInfo("vector", e.width, e.signed, elem, n),
                          Op.TypeVector, elem, n)

    def type_bfloat16(self) -> int:
        """bfloat16 (SPV_KHR_bfloat16), kind "bfloat16": no constants of it (const refuses it)."""
        self.capability(Capability.BFloat16TypeKHR)
        self.extension("SPV_KHR_bfloat16")
        return self._type(("bfloat16",), TypeInfo("bfloat16", 16), Op.TypeFloat, 16, FPEncoding.BFloat16KHR)

    def type_cooperative_matrix(self, component: int, scope: int, rows: int, cols: int, use: int) -> int:
        """OpTypeCooperativeMatrixKHR (SPV_KHR_cooperative_matrix): `component` a scalar type;
        `scope`, `rows`, `cols` and `use` (CooperativeMatrixUse) are u32 constant ids."""
        e = self._check_type(component, "type_cooperative_matrix")
        self.capability(Capability.CooperativeMatrixKHR)
        self.extension("SPV_KHR_cooperative_matrix")
        if e.kind == "bfloat16":
            self.capability(Capability.BFloat16CooperativeMatrixKHR)
        return self._type(("coopmat", component, scope, rows, cols, use),
                          TypeInfo("coopmat", e.width, e.signed, component),
                          Op.TypeCooperativeMatrixKHR, component, scope, rows, cols, use)

    def type_tensor_layout(self, dims: int, clamp_mode: int) -> int:
        """OpTypeTensorLayoutNV (SPV_NV_tensor_addressing, SPIR-V 1.6): `dims` and `clamp_mode`
        (TensorClampMode) are u32 constant ids."""
        self.capability(Capability.TensorAddressingNV)
        self.extension("SPV_NV_tensor_addressing")
        return self._type(("tensor_layout", dims, clamp_mode), TypeInfo("tensor_layout"), Op.TypeTensorLayoutNV,
                          dims, clamp_mode)

    def type_array(self, elem: int, length: int, stride=None) -> int:
        """Fixed-size array; `stride` decorates ArrayStride (explicit-layout storage only)."""
        key = ("array", elem, length, stride)
        tid = self._type_cache.get(key)
        if tid is None:
            self._check_type(elem, "type_array")
            n = self.const(self.type_int(32, False), length)
            tid = self._type(key, TypeInfo("array", elem=elem, count=length), Op.TypeArray, elem, n)
            if stride is not None:
                self.decorate(tid, Decoration.ArrayStride, stride)
        return tid

    def type_struct(self, members, offsets=None) -> int:
        """A new struct type every call (structs carry decorations, so two are never merged)."""
        members = tuple(members)
        for mem in members:
            self._check_type(mem, "type_struct")
        tid = self.new_id()
        _append(self._globals, Op.TypeStruct, (tid,) + members)
        self._types[tid] = TypeInfo("struct", count=len(members), members=members)
        if offsets is not None:
            if len(offsets) != len(members):
                raise ValueError("type_struct: one offset per member")
            for i, off in enumerate(offsets):
                self.member_decorate(tid, i, Decoration.Offset, off)
        return tid

    def type_pointer(self, storage_class: int, pointee: int, array_stride=None, forward=None) -> int:
        """Pointer type; `array_stride` decorates ArrayStride, which OpPtrAccessChain needs on
        PhysicalStorageBuffer and Workgroup pointers. Pointers with different strides are distinct.
        `forward`: an id from type_forward_pointer, which this call defines."""
        key = ("ptr", storage_class, pointee, array_stride)
        tid = self._type_cache.get(key)
        if tid is None or forward is not None:
            self._check_type(pointee, "type_pointer")
            info = TypeInfo("pointer", elem=pointee, storage_class=storage_class)
            if forward is None:
                tid = self._type(key, info, Op.TypePointer, storage_class, pointee)
            else:
                if self._forward_pointers.pop(forward, None) != storage_class:
                    raise ValueError(f"type_pointer: {forward} is not a pending forward pointer "
                                     f"in storage class {storage_class}")
                tid = forward
                _append(self._globals, Op.TypePointer, (tid, storage_class, pointee))
                self._type_cache.setdefault(key, tid)
                self._types[tid] = info
            if array_stride is not None:
                self.decorate(tid, Decoration.ArrayStride, array_stride)
        return tid

    def type_forward_pointer(self, storage_class: int) -> int:
        """Id of a pointer type usable before its pointee exists (a PhysicalStorageBuffer struct
        holding pointers to its own type); define it later with type_pointer(..., forward=id)."""
        tid = self.new_id()
        _append(self._globals, Op.TypeForwardPointer, (tid, storage_class))
        self._forward_pointers[tid] = storage_class
        self._types[tid] = TypeInfo("pointer", storage_class=storage_class)
        return tid

    def type_function(self, ret: int, params=()) -> int:
        params = tuple(params)
        return self._type(("fn", ret, params), TypeInfo("function", elem=ret, members=params),
                          Op.TypeFunction, ret, *params)

    # ---- constants -----------------------------------------------------------------------------
    def _const(self, key, type_id: int, op: int, operands) -> int:
        rid = self._const_cache.get(key)
        if rid is None:
            rid = self.new_id()
            _append(self._globals, op, (type_id, rid) + tuple(operands))
            self._const_cache[key] = rid
            self._const_ids.add(rid)
            self._type_of[rid] = type_id
        return rid

    def is_constant(self, rid: int) -> bool:
        """True when `rid` is a module-level constant (the same value in every invocation)."""
        return rid in self._const_ids

    def const(self, type_id: int, value) -> int:
        info = self._check_type(type_id, "const")
        kind = info.kind
        if kind == "bool":
            return self._const(("bool", type_id, bool(value)), type_id,
                               Op.ConstantTrue if value else Op.ConstantFalse, ())
        if kind == "int":
            v = int(value)
            w = info.width
            if not -(1 << (w - 1)) <= v < (1 << w):
                raise ValueError(f"const: {value} does not fit a {w}-bit integer")
            return self.const_bits(type_id, v & ((1 << w) - 1))
        if kind == "float":
            bits = int.from_bytes(struct.pack(_FLOAT_FORMATS[info.width], float(value)), "little")
            return self.const_bits(type_id, bits)
        raise ValueError(f"const: type {type_id} is a {kind}; use const_composite or const_null")

    def const_bits(self, type_id: int, bits: int) -> int:
        """Scalar int/float constant given as its bit pattern (0 <= bits < 2**width)."""
        info = self._check_type(type_id, "const_bits")
        w = info.width
        if info.kind not in ("int", "float") or not 0 <= bits < (1 << w):
            raise ValueError(f"const_bits: {bits:#x} is not a {w}-bit pattern of a {info.kind} type")
        if w == 64:
            words = (bits & 0xFFFFFFFF, bits >> 32)
        elif w < 32 and info.signed and bits >> (w - 1):
            # Narrow signed literals are sign-extended to the full word (SPIR-V spec 2.2.1).
            words = (bits | (0xFFFFFFFF ^ ((1 << w) - 1)),)
        else:
            words = (bits,)
        return self._const(("scalar", type_id, bits), type_id, Op.Constant, words)

    def const_composite(self, type_id: int, ids) -> int:
        ids = tuple(ids)
        self._check_type(type_id, "const_composite")
        return self._const(("composite", type_id, ids), type_id, Op.ConstantComposite, ids)

    def const_null(self, type_id: int) -> int:
        self._check_type(type_id, "const_null")
        return self._const(("null", type_id), type_id, Op.ConstantNull, ())

    # ---- globals and functions -----------------------------------------------------------------
    def variable(self, ptr_type: int, storage_class: int, init=None, result_id=None) -> int:
        """result_id: an id from new_id() already referenced by code emitted earlier (a
        workgroup array whose size is known only once the function is done)."""
        info = self._check_type(ptr_type, "variable")
        if info.kind != "pointer" or info.storage_class != storage_class:
            raise ValueError(f"variable: type {ptr_type} is not a pointer in storage class {storage_class}")
        if storage_class == StorageClass.Function:
            raise ValueError("variable: Function-storage variables belong to a function (Function.variable)")
        rid = self.new_id() if result_id is None else result_id
        _append(self._globals, Op.Variable, (ptr_type, rid, storage_class) + (() if init is None else (init,)))
        self._type_of[rid] = ptr_type
        self._global_vars.append((rid, storage_class))
        return rid

    def function(self, ret_type: int, fn_type: int, control: int = 0) -> "Function":
        return Function(self, ret_type, fn_type, control)

    # ---- output --------------------------------------------------------------------------------
    def _entry_point_words(self):
        words = _words()
        for model, fn_id, name, interface in self._entry_points:
            if interface is None:
                if self.version >= (1, 4):
                    interface = [v for v, _ in self._global_vars]
                else:
                    interface = [v for v, sc in self._global_vars
                                 if sc in (StorageClass.Input, StorageClass.Output)]
            _append(words, Op.EntryPoint, [model, fn_id] + string_words(name) + list(interface))
        return words

    def assemble(self) -> bytes:
        if self._open_functions:
            raise ValueError(f"assemble: {self._open_functions} function(s) not ended")
        if self._memory_model is None:
            raise ValueError("assemble: memory_model() was never set")
        if self._forward_pointers:
            raise ValueError(f"assemble: forward pointers never defined: {sorted(self._forward_pointers)}")
        memory_model = _words()
        _append(memory_model, Op.MemoryModel, self._memory_model)
        major, minor = self.version
        out = array(_WORD, (MAGIC, major << 16 | minor << 8, _GENERATOR, self._bound, 0))
        for section in (self._capabilities, self._extensions, self._ext_imports, memory_model,
                        self._entry_point_words(), self._execution_modes, self._without_removed(self._debug_names),
                        self._without_removed(self._annotations), self._globals, self._functions):
            out.extend(section)
        if self.debug:
            self._check_defined(out)
        if sys.byteorder != "little":
            out.byteswap()
        return out.tobytes()

    def _without_removed(self, words):
        """A names or annotations section without the instructions about ids Function.end dropped."""
        if not self._removed:
            return words
        out = _words()
        i, n = 0, len(words)
        while i < n:
            count = words[i] >> 16
            if words[i + 1] not in self._removed:
                out.extend(words[i:i + count])
            i += count
        return out

    def _check_defined(self, words) -> None:
        """Every id handed out must be defined by some instruction: catches labels never begun and
        forward ids never produced (references to them would be undefined)."""
        defined = set()
        i, n = 5, len(words)
        while i < n:
            count, op = words[i] >> 16, words[i] & 0xFFFF
            if count == 0:
                raise ValueError(f"assemble: zero-length instruction at word {i}")
            if op in _HAS_RESULT_TYPE:
                defined.add(words[i + 2])
            elif op in _HAS_RESULT:
                defined.add(words[i + 1])
            i += count
        missing = sorted(set(range(1, self._bound)) - defined - self._removed)
        if missing:
            raise ValueError(f"assemble: ids allocated but never defined: {missing[:20]}")


class Function:
    """One function being emitted; see the module docstring. Blocks are kept apart until end()
    so that entry-block variables and phis can be placed where SPIR-V requires them."""

    def __init__(self, module: Module, ret_type: int, fn_type: int, control: int):
        self.module = module
        self.id = module.new_id()
        self.ret_type = ret_type
        self._head = _words()
        _append(self._head, Op.Function, (ret_type, self.id, control, fn_type))
        self._vars = _words()
        self._blocks = []        # (label, phis, words)
        self._phis = {}          # phi id -> [result type, id, value, label, ...]
        self._cur = _NO_BLOCK
        self._ended = False
        module._type_of[self.id] = ret_type
        module._open_functions += 1

    def param(self, type_id: int) -> int:
        if self._blocks:
            raise ValueError("param: parameters come before the first block")
        rid = self.module.new_id()
        _append(self._head, Op.FunctionParameter, (type_id, rid))
        self.module._type_of[rid] = type_id
        return rid

    def label(self) -> int:
        return self.module.new_id()

    def begin_block(self, label: int) -> None:
        self._cur = _words()
        self._blocks.append((label, [], self._cur))

    @contextmanager
    def in_block(self, label: int):
        """Emit at the end of the earlier block `label` for a while (values that must dominate
        code emitted before them, such as the entry block's), then where emission was."""
        saved = self._cur
        self._cur = next(words for block, _, words in self._blocks if block == label)
        try:
            yield
        finally:
            self._cur = saved

    def variable(self, ptr_type: int, init=None) -> int:
        info = self.module._check_type(ptr_type, "Function.variable")
        if info.kind != "pointer" or info.storage_class != StorageClass.Function:
            raise ValueError(f"Function.variable: type {ptr_type} is not a Function-storage pointer")
        rid = self.module.new_id()
        _append(self._vars, Op.Variable,
                (ptr_type, rid, StorageClass.Function) + (() if init is None else (init,)))
        self.module._type_of[rid] = ptr_type
        return rid

    def emit(self, op: int, result_type, *operands):
        words = self._cur
        if op in _HAS_RESULT_TYPE:
            if result_type is None:
                raise ValueError(f"{OP_NAMES.get(op, op)} needs a result type")
            # The id is taken only once the words are in, so a failed emit leaves no trace.
            m = self.module
            rid = m._bound
            start = len(words)
            words.append((len(operands) + 3) << 16 | op)
            words.append(result_type)
            words.append(rid)
            try:
                words.extend(operands)
            except (TypeError, OverflowError):
                del words[start:]
                _append(words, op, (result_type, rid) + operands)
            m._bound = rid + 1
            m._type_of[rid] = result_type
            return rid
        if result_type is not None:
            raise ValueError(f"{OP_NAMES.get(op, op)} has no result type")
        if op in _HAS_RESULT:
            m = self.module
            rid = m._bound
            _append(words, op, (rid,) + operands)
            m._bound = rid + 1
            return rid
        _append(words, op, operands)
        return None

    def glsl(self, result_type: int, inst: int, *operands) -> int:
        return self.emit(Op.ExtInst, result_type, self.module.ext_inst_import("GLSL.std.450"), inst, *operands)

    def phi(self, result_type: int, *incoming) -> int:
        if not self._blocks:
            raise ValueError("phi before begin_block")
        rid = self.module.new_id()
        entry = [result_type, rid]
        for value, parent in incoming:
            entry += (value, parent)
        self._blocks[-1][1].append(entry)
        self._phis[rid] = entry
        self.module._type_of[rid] = result_type
        return rid

    def add_incoming(self, phi_id: int, value: int, parent_label: int) -> None:
        self._phis[phi_id] += (value, parent_label)

    def _instructions(self, words):
        """(start, end, opcode, result id or None, first operand index) of each instruction in `words`."""
        i, n = 0, len(words)
        while i < n:
            count, op = words[i] >> 16, words[i] & 0xFFFF
            if op in _HAS_RESULT_TYPE:
                yield i, i + count, op, words[i + 2], i + 3
            elif op in _HAS_RESULT:
                yield i, i + count, op, words[i + 1], i + 2
            else:
                yield i, i + count, op, None, i + 1
            i += count

    def _drop_unused(self) -> None:
        """Drops the pure instructions whose results nothing with an effect uses, even through
        other pure ones (a loop-carried phi and its update keep only each other alive): marks from
        every other instruction's operands, then rebuilds the blocks without what was not reached.
        Operand words that are literals only ever keep more."""
        glsl = self.module._ext_import_ids.get("GLSL.std.450")
        operands_of = {}    # result id of a pure instruction -> its operand words
        stack = []          # operand words of the instructions kept whatever uses them
        for _, phis, words in self._blocks:
            for entry in phis:
                operands_of[entry[1]] = entry[2:]
            for start, end, op, rid, first in self._instructions(words):
                if rid is not None and (op in _PURE_OPS or (op == Op.ExtInst and words[first] == glsl)
                                        or (op == Op.Load and not (end - first > 1 and words[first + 1] & _VOLATILE))):
                    operands_of[rid] = words[first:end]
                else:
                    stack.extend(words[first:end])
        live = set()
        while stack:
            w = stack.pop()
            if w not in live:
                live.add(w)
                stack.extend(operands_of.get(w, ()))
        dead = operands_of.keys() - live
        if not dead:
            return
        self.module._removed |= dead
        for b, (label, phis, words) in enumerate(self._blocks):
            kept = _words()
            for start, end, _, rid, _ in self._instructions(words):
                if rid not in dead:
                    kept.extend(words[start:end])
            self._blocks[b] = (label, [e for e in phis if e[1] not in dead], kept)

    def end(self) -> None:
        if self._ended:
            raise ValueError("Function.end called twice")
        if not self._blocks:
            raise ValueError("Function.end: a function needs at least one block")
        self._drop_unused()
        out = self.module._functions
        out.extend(self._head)
        for i, (label, phis, words) in enumerate(self._blocks):
            _append(out, Op.Label, (label,))
            if i == 0:
                out.extend(self._vars)
            for entry in phis:
                _append(out, Op.Phi, entry)
            out.extend(words)
        _append(out, Op.FunctionEnd, ())
        self._ended = True
        self._cur = _NO_BLOCK
        self.module._open_functions -= 1
