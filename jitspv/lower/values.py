"""Values and types of the lowering: a TTIR scalar maps to one SPIR-V id; a TTIR tensor to a
`DTensor` (its encoding, the layout over its shape, and one SPIR-V id per register of the
invocation). Integers are unsigned SPIR-V ints (signedness lives in the ops, as in TTIR), i1 is
OpTypeBool, pointers are uint64 device addresses, bf16 and fp8 compute in f32 registers.

`Values` is the part of LoweringContext (context.py) that maps TTIR types and values to SPIR-V
and emits instructions.
"""
from __future__ import annotations

from jitspv.lower.layout import layout_of
from jitspv.lower.op_facts import REMATERIALIZE, has
from jitspv.lower.fp8 import is_fp8
from jitspv.lower.ttir_access import type_name
from jitspv.lower.spirv.grammar import Op, StorageClass, MemoryAccess, MemorySemantics

_NON_PRIVATE = {StorageClass.PhysicalStorageBuffer, StorageClass.Workgroup}
# Memory accesses: opcode -> how many operands come before the optional memory operand (the pointer first).
_MEMORY_OPERAND_AT = {Op.Load: 1, Op.Store: 2, Op.CooperativeMatrixLoadKHR: 3, Op.CooperativeMatrixStoreKHR: 4}


class DTensor:
    __slots__ = ("enc", "layout", "regs")

    def __init__(self, enc, layout, regs):
        self.enc = enc
        self.layout = layout
        self.regs = regs


class HeldTensor:
    """A tensor kept in registers whose element placement the lowering does not know (a tt.dot result
    in cooperative matrices): a rule gets its elements through `ctx.tensor`, which calls
    `dtensor(ctx)` at the point of use; a loop may carry its ids unchanged (rules/control.py)."""
    __slots__ = ()

    def dtensor(self, ctx):
        raise NotImplementedError(type(self).__name__)

    def elementwise(self, ctx, op):
        """The result of elementwise `op` (this value among its operands) held the same way, or
        None: then the op reads the elements (dtensor)."""
        return None


class Carrier:
    """How a loop carries a HeldTensor: `carried_ids(ctx, value)` gives the ids to carry for any value
    of the loop's (an init: converted), `carried_count` how many, `from_ids(ids)` the HeldTensor back."""
    carried_count = 0

    def carried_ids(self, ctx, value):
        raise NotImplementedError(type(self).__name__)

    def from_ids(self, ids):
        raise NotImplementedError(type(self).__name__)


class Values:
    # ---- types and constants -----------------------------------------------------------------
    def stype(self, t):
        """SPIR-V register type of a TTIR scalar or pointer type (the element type for tensors)."""
        if t.is_tensor:
            t = t.element
        if t.is_pointer:
            return self.t_u64
        name = type_name(t)
        if name == "i1":
            return self.t_bool
        if name[0] == "i":
            bits = int(name[1:])
            self._need_int(bits)
            return self.m.type_int(bits, False)
        if name in ("f16", "f32", "f64"):
            bits = int(name[1:])
            self._need_float(bits)
            return self.m.type_float(bits)
        if name == "bf16":
            return self.t_f32
        if is_fp8(name):
            if not self.target.has_int8:
                self.error(f"{name} (fp8) values need 8-bit storage, which this device lacks (shaderInt8, "
                           "storageBuffer8BitAccess)")
            return self.t_f32
        self.error(f"jitspv does not support the type {name} yet (fp8: fp8e4nv and fp8e5 only)"
                   if name.startswith("f8") else f"jitspv does not support the type {name} yet")

    def _need_int(self, bits):
        if bits == 8 and not self.target.has_int8 or bits == 16 and not self.target.has_int16:
            self.error(f"this device has no {bits}-bit integer arithmetic (shaderInt{bits})")

    def _need_float(self, bits):
        if bits == 16 and not self.target.has_float16 or bits == 64 and not self.target.has_float64:
            self.error(f"this device has no {bits}-bit float arithmetic (shaderFloat{bits})")

    def const(self, t, value):
        """Constant of TTIR scalar type `t` (or a SPIR-V type id)."""
        tid = t if isinstance(t, int) else self.stype(t)
        info = self.m.type_info(tid)
        if info.kind == "int":
            value = int(value) & ((1 << info.width) - 1)
        elif info.kind == "bool":
            value = bool(value)
        return self.m.const(tid, value)

    def u32(self, v):
        return self.m.const(self.t_u32, int(v) & 0xFFFFFFFF)

    def emit(self, op, rtype, *operands):
        if self.vmm and op in _MEMORY_OPERAND_AT:
            operands = self._non_private(op, operands)
        return self.f.emit(op, rtype, *operands)

    def _non_private(self, op, operands):
        """Under the Vulkan memory model, accesses to shared (buffer, workgroup) memory take part
        in the availability/visibility that barriers and atomics provide only when NonPrivatePointer."""
        sc = self.m.type_info(self.m.type_of(operands[0])).storage_class
        if sc not in _NON_PRIVATE:
            return operands
        n = _MEMORY_OPERAND_AT[op]
        if len(operands) > n:
            return operands[:n] + (operands[n] | MemoryAccess.NonPrivatePointer,) + operands[n + 1:]
        return operands + (MemoryAccess.NonPrivatePointer,)

    def semantics(self, bits):
        """Memory-semantics constant; under the Vulkan memory model acquire/release also make
        writes available / visible (what they imply under GLSL450)."""
        if self.vmm:
            if bits & (MemorySemantics.Release | MemorySemantics.AcquireRelease):
                bits |= MemorySemantics.MakeAvailable
            if bits & (MemorySemantics.Acquire | MemorySemantics.AcquireRelease):
                bits |= MemorySemantics.MakeVisible
        return self.u32(bits)

    # ---- values ------------------------------------------------------------------------------
    def set(self, value, lowered):
        self.values[value] = lowered

    def get(self, value):
        try:
            return self.values[value]
        except KeyError:
            self.error(f"internal: value {value} used before it was lowered")

    def scalar(self, value):
        v = self.get(value)
        if isinstance(v, (DTensor, HeldTensor)):
            self.error("internal: tensor used where a scalar was expected")
        return v

    def encoding_of(self, value):
        return self.enc[value]

    def tensor(self, value, enc=None):
        """`value` as a DTensor in encoding `enc` (default: its assigned encoding)."""
        v = self.get(value)
        if enc is None:
            enc = self.enc[value]
        shape = tuple(value.type.shape)
        if isinstance(v, HeldTensor):
            v = v.dtensor(self)
        if not isinstance(v, DTensor):   # a scalar used as a tensor: every register holds it
            lay = layout_of(enc, shape)
            return DTensor(enc, lay, [v] * len(lay.regs))
        if v.enc == enc:
            return v
        if has(getattr(value.owner, "name", ""), REMATERIALIZE):
            return self._rematerialize(value, enc)
        return self.convert(v, enc, shape, value.type)

    def _rematerialize(self, value, enc):
        """Lower the (cheap, pure) op defining `value` again, here, with its result in `enc`:
        index and mask arithmetic recomputed in registers instead of moved through memory
        (a broadcast moves only its small source)."""
        saved_value, saved_enc = self.values[value], self.enc[value]
        self.enc[value] = enc
        try:
            self.lower_op(value.owner)
            return self.values[value]
        finally:
            self.values[value], self.enc[value] = saved_value, saved_enc

    def make(self, value, regs, enc=None):
        enc = self.enc[value] if enc is None else enc
        return DTensor(enc, layout_of(enc, tuple(value.type.shape)), regs)


def aligned(nbytes):
    """Memory operands of a PhysicalStorageBuffer access: Aligned with a power-of-2 alignment."""
    return (MemoryAccess.Aligned, nbytes)
