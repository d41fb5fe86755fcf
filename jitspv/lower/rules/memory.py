"""Pointer arithmetic and global memory: tt.addptr, tt.load, tt.store, atomics.

Pointers are uint64 device addresses. A load or store is split into groups of v consecutive
registers that are contiguous in memory, aligned to v * element size, and under a mask constant
over the group (jitspv.lower.axis_info): each group is one vector access of up to 16 bytes.
A masked-off group branches around the access: it never touches memory.

Atomics are one SPIR-V atomic per element (vector width 1), performed by the invocation that owns
the element (masked-off lanes and replicas skip it); a scalar atomic happens once per program and
its old value reaches every invocation through workgroup memory, as in Triton's NVIDIA backend.
16-bit atomics (fp16/bf16 add, 16-bit compare-exchange and exchange) have no Vulkan equivalent
that every device has (bf16 none at all), so they loop on a 32-bit compare-exchange of the aligned
word holding the element, its other half written back unchanged (_Atomic.emit_loop). Arrays are
allocated in multiples of 4 bytes or more, so that word lies inside the element's allocation.
fp32/fp64 atomic add where the device has no float atomic add (VK_EXT_shader_atomic_float: lavapipe
has no fp64 one) loops the same way on a compare-exchange of the element's own bits (fp64: a 64-bit
integer atomic). Without 64-bit integer atomics, a 64-bit integer add/and/or/xor whose old value
the kernel does not use runs as two 32-bit atomics (the add carrying from the low word into the
high one): memory ends as the 64-bit atomics would leave it, though a concurrent reader may see one
word updated before the other. Any other 64-bit atomic needs them.

tl.atomic_load / tl.atomic_store (tt.atomic_load/store) are OpAtomicLoad / OpAtomicStore on the
element's bits; elements narrower than 32 bits load their aligned word and are stored by the
compare-exchange loop (Vulkan has no 8/16-bit atomics everywhere). tl.atomic_poll (tt.atomic_poll)
loads each element until it reads the expected value, in one loop that the whole program passes
through (the program waits for all its polls, as Triton's); timeout_ns=0 loads each element once.
"""
from __future__ import annotations

from math import gcd

from jitspv.lower.fp8 import fp8_code, fp8_value, is_fp8
from jitspv.lower.layout import Blocked
from jitspv.lower.movement import row_major
from jitspv.lower.values import DTensor, aligned
from jitspv.lower.registry import register
from jitspv.lower.rules.common import bf16_bits, elementwise, round_bf16
from jitspv.lower.ttir_access import attr, bits, elem_bytes, pointee, type_name
from jitspv.lower.spirv.grammar import GLSL, Op, StorageClass, Capability, MemorySemantics, Scope
from jitspv.ttir import ir

PSB = StorageClass.PhysicalStorageBuffer
MAX_ACCESS_BYTES = 16


@register("tt.addptr")
def _addptr(ctx, op):
    res = op.results[0]
    esize = elem_bytes(pointee(res.type))
    off_type = ctx.stype(op.operands[1].type)
    widen = ctx.m.type_info(off_type).width < 64

    def fn(rtype, p, off):
        if widen:
            off = ctx.emit(Op.SConvert, ctx.t_u64, off)
        if esize != 1:
            off = ctx.emit(Op.IMul, ctx.t_u64, off, ctx.m.const(ctx.t_u64, esize))
        return ctx.emit(Op.IAdd, ctx.t_u64, p, off)
    elementwise(ctx, op, fn)


@register("tt.int_to_ptr", "tt.ptr_to_int")
def _ptr_int(ctx, op):
    elementwise(ctx, op, lambda rtype, x: x if rtype == ctx.m.type_of(x) else ctx.emit(Op.UConvert, rtype, x))


# ---- typed memory access ---------------------------------------------------------------------
class _Access:
    """How registers of one TTIR element type travel to and from memory."""

    def __init__(self, ctx, elem_type):
        self.ctx = ctx
        m = ctx.m
        self.reg_type = ctx.stype(elem_type)
        self.esize = elem_bytes(elem_type)
        name = type_name(elem_type)
        self.kind = name
        if name in ("i1", "i8") or is_fp8(name):
            ctx.m.capability(Capability.StorageBuffer8BitAccess)
            self.mem_type = m.type_int(8, False)
        elif name in ("i16", "bf16"):
            m.capability(Capability.StorageBuffer16BitAccess)
            self.mem_type = m.type_int(16, False)
        elif name == "f16":
            m.capability(Capability.StorageBuffer16BitAccess)
            self.mem_type = self.reg_type
        else:
            self.mem_type = self.reg_type

    def to_reg(self, x):
        ctx = self.ctx
        if self.kind == "i1":
            return ctx.emit(Op.INotEqual, ctx.t_bool, x, ctx.m.const(self.mem_type, 0))
        if self.kind == "bf16":
            wide = ctx.emit(Op.ShiftLeftLogical, ctx.t_u32, ctx.emit(Op.UConvert, ctx.t_u32, x), ctx.u32(16))
            return ctx.emit(Op.Bitcast, ctx.t_f32, wide)
        if is_fp8(self.kind):
            return fp8_value(ctx, ctx.emit(Op.UConvert, ctx.t_u32, x), self.kind)
        return x

    def to_mem(self, x):
        ctx = self.ctx
        if self.kind == "i1":
            return ctx.emit(Op.Select, self.mem_type, x, ctx.m.const(self.mem_type, 1), ctx.m.const(self.mem_type, 0))
        if self.kind == "bf16":
            high = ctx.emit(Op.ShiftRightLogical, ctx.t_u32, bf16_bits(ctx, x), ctx.u32(16))
            return ctx.emit(Op.UConvert, self.mem_type, high)
        if is_fp8(self.kind):
            return ctx.emit(Op.UConvert, self.mem_type, fp8_code(ctx, x, self.kind))
        return x

    def vector_type(self, v):
        """(word type, elements per word, SPIR-V type) of v consecutive elements in memory: whole
        u32 words for elements narrower than 4 bytes, a vector where there is more than one word."""
        word = self.mem_type if self.esize >= 4 else self.ctx.t_u32
        per_word = max(1, 4 // self.esize)
        n = v * self.esize // max(4, self.esize)
        return word, per_word, self.ctx.m.type_vector(word, n) if n > 1 else word

    def load(self, addr, v):
        """Load v consecutive elements at addr (aligned to v * esize); returns register ids."""
        return self.unpacked(self.load_memory(addr, v), v)

    def load_memory(self, addr, v):
        """The memory form (vector_type; mem_type when v is 1) of v elements at addr, one load."""
        ctx, m = self.ctx, self.ctx.m
        if v == 1:
            p = ctx.emit(Op.ConvertUToPtr, m.type_pointer(PSB, self.mem_type), addr)
            return ctx.emit(Op.Load, self.mem_type, p, *aligned(self.esize))
        vt = self.vector_type(v)[2]
        p = ctx.emit(Op.ConvertUToPtr, m.type_pointer(PSB, vt), addr)
        return ctx.emit(Op.Load, vt, p, *aligned(v * self.esize))

    def unpacked(self, vec, v):
        """Registers of the v elements in memory form `vec`."""
        ctx, m = self.ctx, self.ctx.m
        if v == 1:
            return [self.to_reg(vec)]
        word, per_word, vt = self.vector_type(v)
        words = [ctx.emit(Op.CompositeExtract, word, vec, i) for i in range(m.type_info(vt).count)] \
            if vt != word else [vec]
        if per_word == 1:
            return [self.to_reg(w) for w in words]
        et = m.type_vector(self.mem_type, per_word)
        out = []
        for w in words:
            parts = ctx.emit(Op.Bitcast, et, w)
            out += [self.to_reg(ctx.emit(Op.CompositeExtract, self.mem_type, parts, i)) for i in range(per_word)]
        return out

    def packed(self, values):
        """The memory form of registers `values` (what load_memory reads for them)."""
        ctx, m = self.ctx, self.ctx.m
        mem = [self.to_mem(x) for x in values]
        if len(values) == 1:
            return mem[0]
        word, per_word, vt = self.vector_type(len(values))
        if per_word == 1:
            words = mem
        else:
            et = m.type_vector(self.mem_type, per_word)
            words = [ctx.emit(Op.Bitcast, word, ctx.emit(Op.CompositeConstruct, et, *mem[i:i + per_word]))
                     for i in range(0, len(mem), per_word)]
        return ctx.emit(Op.CompositeConstruct, vt, *words) if len(words) > 1 else words[0]

    def store(self, addr, values):
        ctx, m = self.ctx, self.ctx.m
        v = len(values)
        vt = self.mem_type if v == 1 else self.vector_type(v)[2]
        p = ctx.emit(Op.ConvertUToPtr, m.type_pointer(PSB, vt), addr)
        ctx.emit(Op.Store, None, p, self.packed(values), *aligned(v * self.esize))


def _fast_dim(enc):
    if isinstance(enc, Blocked):
        return enc.order[0]
    inner = _fast_dim(enc.parent)
    if inner is None or inner == enc.dim:
        return None
    return inner - (inner > enc.dim)


def _vector_widths(ctx, op, layout, enc, esize):
    """(registers per access, registers per access where all of them are in the mask): consecutive
    registers along the fastest dimension that the axis analysis proves contiguous and aligned, and
    for the first also uniformly masked. Where the second is wider, a group of its width is one
    access when its mask bits are all true (an array's interior) and goes by the first otherwise
    (its ragged edge: `offs < n` with n not a multiple of the width). Unmasked accesses, and all in
    bounds mode (each access checked alone), have the two equal."""
    c = _fast_dim(enc)
    if c is None or esize > MAX_ACCESS_BYTES:
        return 1, 1
    run = 1
    regs = layout.regs
    while run < len(regs) and regs[run][c] == regs[0][c] + run and \
            all(regs[run][d] == regs[0][d] for d in range(len(regs[0])) if d != c):
        run += 1
    ptr = ctx.axis.get(op.operands[0])
    v = min(run, ptr.contiguity[c], MAX_ACCESS_BYTES // esize)
    align = gcd(ptr.divisibility[c], MAX_ACCESS_BYTES)
    while v > 1 and align % (v * esize):   # the address must be divisible by the access size
        v //= 2
    mask_idx = 1 if op.name == "tt.load" else 2
    if len(op.operands) <= mask_idx:
        masked = v
    else:
        masked = gcd(v, ctx.axis.get(op.operands[mask_idx]).constancy[c])
        if ctx.bounds is not None:
            v = masked

    def whole(v):
        # Registers must split into whole groups, and a vector has at most 4 components of >= 4 bytes;
        # narrower elements move in whole u32 words (_Access), so a group of them fills at least one.
        v = 1 << (v.bit_length() - 1)
        while v > 1 and (len(regs) % v or (esize >= 4 and v > 4)):
            v //= 2
        return v if v * esize >= 4 else 1
    return whole(masked), whole(v)


def _all_true(ctx, conds):
    """The AND of the distinct bool ids `conds`."""
    distinct = list(dict.fromkeys(conds))
    out = distinct[0]
    for c in distinct[1:]:
        out = ctx.emit(Op.LogicalAnd, ctx.t_bool, out, c)
    return out


def _checked(ctx, op, ptr, addr, nbytes, access, skipped):
    """access() (-> list of ids); in bounds mode only when [addr, addr + nbytes) is in bounds,
    skipped() otherwise (lower/bounds.py). `ptr` is the TTIR pointer value addr belongs to."""
    if ctx.bounds is None:
        return access()
    return ctx.bounds.guard(op, ptr, addr, nbytes, access, skipped)


@register("tt.load")
def _load(ctx, op):
    res = op.results[0]
    ptr = op.operands[0]
    acc = _Access(ctx, pointee(ptr.type))
    if not res.type.is_tensor:
        addr, other = ctx.scalar(ptr), None
        if len(op.operands) > 1:
            other = ctx.scalar(op.operands[2]) if len(op.operands) > 2 else ctx.m.const_null(acc.reg_type)

        def load():
            return _checked(ctx, op, ptr, addr, acc.esize, lambda: acc.load(addr, 1),
                            lambda: [other or ctx.m.const_null(acc.reg_type)])
        if len(op.operands) > 1:
            out, = ctx.if_then(ctx.scalar(op.operands[1]), load, lambda: [other])
        else:
            out, = load()
        ctx.set(res, out)
        return
    enc = ctx.encoding_of(res)
    P = ctx.tensor(ptr, enc)
    M = ctx.tensor(op.operands[1], enc).regs if len(op.operands) > 1 else None
    O = ctx.tensor(op.operands[2], enc).regs if len(op.operands) > 2 else None
    v, v_all = _vector_widths(ctx, op, P.layout, enc, acc.esize)
    zero = ctx.m.const_null(acc.reg_type)

    def group(g):
        """Registers g .. g + v - 1 (their mask bits equal)."""
        addr = P.regs[g]
        others = O[g:g + v] if O is not None else [zero] * v

        def load():
            return _checked(ctx, op, ptr, addr, v * acc.esize, lambda: acc.load(addr, v), lambda: others)
        if M is None:
            return load()
        if v > 1 and ctx.bounds is None:   # one merged vector, unpacked after the branch
            vec, = ctx.if_then(M[g], lambda: [acc.load_memory(addr, v)], lambda: [acc.packed(others)])
            return acc.unpacked(vec, v)
        return ctx.if_then(M[g], load, lambda: others)
    regs = []
    if v_all == v:
        for g in range(0, len(P.regs), v):
            regs += group(g)
    else:
        for g in range(0, len(P.regs), v_all):   # one merged vector, unpacked after the branch
            vec, = ctx.if_then(_all_true(ctx, M[g:g + v_all]), lambda: [acc.load_memory(P.regs[g], v_all)],
                               lambda: [acc.packed([r for h in range(g, g + v_all, v) for r in group(h)])])
            regs += acc.unpacked(vec, v_all)
    ctx.set(res, DTensor(enc, P.layout, regs))


@register("tt.store")
def _store(ctx, op):
    ptr, val = op.operands[0], op.operands[1]
    acc = _Access(ctx, pointee(ptr.type))
    if not ptr.type.is_tensor:
        # Every invocation holds the scalar; one stores it (Triton's semantics: once per program).
        p, x = ctx.scalar(ptr), ctx.scalar(val)
        cond = ctx.first_invocation()
        if len(op.operands) > 2:
            cond = ctx.emit(Op.LogicalAnd, ctx.t_bool, ctx.scalar(op.operands[2]), cond)
        ctx.if_then(cond, lambda: _checked(ctx, op, ptr, p, acc.esize, lambda: acc.store(p, [x]), list))
        return
    enc = ctx.encoding_of(ptr)
    P = ctx.tensor(ptr, enc)
    V = ctx.tensor(val, enc).regs
    M = ctx.tensor(op.operands[2], enc).regs if len(op.operands) > 2 else None
    v, v_all = _vector_widths(ctx, op, P.layout, enc, acc.esize)
    # Replicas do not store: a read-modify-write kernel would otherwise apply its update twice.
    owner = ctx.is_owner(P.layout)

    def group(g):
        """Registers g .. g + v - 1 (their mask bits equal)."""
        addr, vals = P.regs[g], V[g:g + v]
        cond = M[g] if M is not None else None
        if owner is not None:
            cond = owner if cond is None else ctx.emit(Op.LogicalAnd, ctx.t_bool, cond, owner)

        def store():
            return _checked(ctx, op, ptr, addr, v * acc.esize, lambda: acc.store(addr, vals), list)
        if cond is None:
            store()
        else:
            ctx.if_then(cond, store)
    if v_all == v:
        for g in range(0, len(P.regs), v):
            group(g)
    else:
        for g in range(0, len(P.regs), v_all):
            def edge():
                for h in range(g, g + v_all, v):
                    group(h)
            every = _all_true(ctx, M[g:g + v_all] + ([owner] if owner is not None else []))
            ctx.if_then(every, lambda: acc.store(P.regs[g], V[g:g + v_all]), edge)


# ---- atomics ---------------------------------------------------------------------------------
# Vulkan forbids CrossDevice scope; Device is the widest scope shader memory has ("sys" included:
# the host sees device writes once the submission completes).
_SCOPES = {"gpu": Scope.Device, "sys": Scope.Device, "cta": Scope.Workgroup}
# In the GLSL450 memory model, UniformMemory semantics cover PhysicalStorageBuffer memory.
_ORDER = {"relaxed": 0, "acquire": MemorySemantics.Acquire, "release": MemorySemantics.Release,
          "acq_rel": MemorySemantics.AcquireRelease}
_RMW_INT = {"add": Op.AtomicIAdd, "max": Op.AtomicSMax, "min": Op.AtomicSMin, "umax": Op.AtomicUMax,
            "umin": Op.AtomicUMin, "and": Op.AtomicAnd, "or": Op.AtomicOr, "xor": Op.AtomicXor,
            "exch": Op.AtomicExchange}
_RMW16 = ("fadd", None)   # None: compare-exchange (Triton's frontend allows no other 16-bit atomic)
# tt.atomic_load / tt.atomic_poll read (OpAtomicLoad), tt.atomic_store writes (OpAtomicStore); elements
# narrower than 32 bits read their aligned 32-bit word, and are stored by the compare-exchange loop.
_READ_KINDS = ("load", "poll")
_FADD = {32: ("has_float32_atomic_add", Capability.AtomicFloat32AddEXT),
         64: ("has_float64_atomic_add", Capability.AtomicFloat64AddEXT)}


def _semantics(ctx, sem):
    order = _ORDER[sem]
    return ctx.semantics(order | MemorySemantics.UniformMemory if order else 0)


class _Atomic:
    """One kind of atomic on one element type: emit(addr, value[, comparator]) -> old value.

    Exchange and compare-exchange of floats run on the same-width unsigned int (bit patterns), so
    they need no float-atomics feature; float add uses SPV_EXT_shader_atomic_float_add where the
    device has it. 16-bit elements, and float add without it, run a compare-exchange loop
    (emit_loop): on the element's 32-bit word, or on the element's own bits."""

    def __init__(self, ctx, op, elem_type, kind, old_used=True, timeout_ns=None):
        self.ctx = ctx
        m = ctx.m
        name = type_name(elem_type)
        what = f"{op.name} {kind}" if kind and not op.name.endswith(kind) else op.name
        self.reg_type = ctx.stype(elem_type)
        self.name, self.kind = name, kind
        width = bits(elem_type)
        self.nbytes = width // 8
        info = m.type_info(self.reg_type)
        sub_word = width < 32 and kind not in _READ_KINDS   # a compare-exchange loop on the word
        if width == 16 and kind not in _RMW16 + ("store",) + _READ_KINDS:
            ctx.error(f"{what} on {name} is not supported (16-bit atomics: float add, compare-exchange)")
        if width == 16 and kind == "fadd" and name == "i16":
            ctx.error(f"{what} on {name}: float add needs a float element type")
        if name == "i1" or width not in ((8, 16, 32, 64) if kind in _READ_KINDS + ("store",) else (16, 32, 64)):
            ctx.error(f"{what} on {name} is not supported (atomics need 16-, 32- or 64-bit elements)")
        self.looped, self.split = sub_word, False
        if width < 32:
            self.atype = ctx.t_u32
        elif kind == "fadd":
            if info.kind != "float":
                ctx.error(f"{what} on {name}: float add needs a float element type")
            feature, cap = _FADD[width]
            if getattr(ctx.target, feature):
                m.extension("SPV_EXT_shader_atomic_float_add")
                m.capability(cap)
                self.spv_op, self.atype = Op.AtomicFAddEXT, self.reg_type
            else:   # compare-exchange of the element's bits
                self.looped, self.atype = True, m.type_int(width, False)
        else:
            if info.kind == "float" and kind not in ("exch", None, "load", "store"):
                ctx.error(f"{what} on {name} is not supported (Triton lowers float max/min to integer atomics)")
            self.spv_op = Op.AtomicCompareExchange if kind is None else _RMW_INT.get(kind)
            self.atype = m.type_int(width, False)
        if width == 64 and not ctx.target.has_int64_atomics:
            if kind not in ("add", "and", "or", "xor") or info.kind != "int" or old_used:
                ctx.error(f"{what} on {name}: this device has no 64-bit integer atomics (shaderBufferInt64Atomics); "
                          "without them only 64-bit integer add/and/or/xor whose old value is unused run")
            self.split, self.atype = True, ctx.t_u32   # two 32-bit atomics (emit_split)
        elif width == 64:
            m.capability(Capability.Int64Atomics)
        self.bitcast = self.atype != self.reg_type and not self.looped
        sem = attr(op, "sem")
        self.acquires = sem in ("acquire", "acq_rel")
        self.timeout_ns = timeout_ns   # tt.atomic_poll's budget: None, 0 or a u64 id
        self.scope = ctx.u32(_SCOPES[attr(op, "scope")])
        self.sem = _semantics(ctx, sem)
        # A failed compare-exchange only reads: it keeps the acquire half of the ordering.
        self.sem_unequal = _semantics(ctx, {"acq_rel": "acquire", "release": "relaxed"}.get(sem, sem))
        self.ptr_type = m.type_pointer(PSB, self.atype)

    def emit(self, addr, value, comparator=None):
        ctx = self.ctx
        if self.split:
            return self.emit_split(addr, value)
        if self.kind in _READ_KINDS:
            return self.load(addr)
        if self.kind == "store":
            p = ctx.emit(Op.ConvertUToPtr, self.ptr_type, addr)
            ctx.emit(Op.AtomicStore, None, p, self.scope, self.sem,
                     ctx.emit(Op.Bitcast, self.atype, value) if self.bitcast else value)
            return ctx.m.const_null(self.reg_type)
        if self.bitcast:
            value = ctx.emit(Op.Bitcast, self.atype, value)
            if comparator is not None:
                comparator = ctx.emit(Op.Bitcast, self.atype, comparator)
        p = ctx.emit(Op.ConvertUToPtr, self.ptr_type, addr)
        if comparator is None:
            old = ctx.emit(self.spv_op, self.atype, p, self.scope, self.sem, value)
        else:
            old = ctx.emit(Op.AtomicCompareExchange, self.atype, p, self.scope, self.sem, self.sem_unequal,
                           value, comparator)
        return ctx.emit(Op.Bitcast, self.reg_type, old) if self.bitcast else old

    def load(self, addr):
        """The element at addr by one OpAtomicLoad (of its aligned 32-bit word if narrower)."""
        ctx = self.ctx
        shift = None
        if self.nbytes < 4:
            shift, addr = self.word_of(addr)
        p = ctx.emit(Op.ConvertUToPtr, self.ptr_type, addr)
        x = ctx.emit(Op.AtomicLoad, self.atype, p, self.scope, self.sem)
        if shift is not None:
            return self.from_bits(self.element_of(x, shift))
        return ctx.emit(Op.Bitcast, self.reg_type, x) if self.bitcast else x

    def word_of(self, addr):
        """(shift of the element in its word, the word's address) for elements narrower than 32 bits."""
        ctx, u64 = self.ctx, self.ctx.t_u64
        shift = ctx.emit(Op.ShiftLeftLogical, ctx.t_u32, ctx.emit(Op.UConvert, ctx.t_u32, ctx.emit(
            Op.BitwiseAnd, u64, addr, ctx.m.const(u64, 4 - self.nbytes))), ctx.u32(3))   # bit offset
        return shift, ctx.emit(Op.BitwiseAnd, u64, addr, ctx.m.const(u64, ~3 & (2 ** 64 - 1)))

    def emit_split(self, addr, value):
        """A 64-bit integer add/and/or/xor as one 32-bit atomic per word; the old value is unused
        (the constructor checked): zero is returned."""
        ctx, u, u64 = self.ctx, self.ctx.t_u32, self.ctx.t_u64
        lo = ctx.emit(Op.UConvert, u, value)
        hi = ctx.emit(Op.UConvert, u, ctx.emit(Op.ShiftRightLogical, u64, value, ctx.m.const(u64, 32)))
        p_lo = ctx.emit(Op.ConvertUToPtr, self.ptr_type, addr)
        p_hi = ctx.emit(Op.ConvertUToPtr, self.ptr_type, ctx.emit(Op.IAdd, u64, addr, ctx.m.const(u64, 4)))
        old_lo = ctx.emit(self.spv_op, u, p_lo, self.scope, self.sem, lo)
        if self.kind == "add":   # the low word wrapped: carry one into the high word
            wrapped = ctx.emit(Op.ULessThan, ctx.t_bool, ctx.emit(Op.IAdd, u, old_lo, lo), old_lo)
            hi = ctx.emit(Op.IAdd, u, hi, ctx.emit(Op.Select, u, wrapped, ctx.u32(1), ctx.u32(0)))
        ctx.emit(self.spv_op, u, p_hi, self.scope, self.sem, hi)
        return ctx.m.const_null(self.reg_type)

    def emit_loop(self, items):
        """Looped atomics, items [(active, addr, value, comparator)] (active: a bool id; value and
        comparator registers, comparator None for add): per element, read its word (a 16-bit
        element's aligned 32-bit word, else the element itself), compute the new element from the
        old one and compare-exchange the word until no other write came in between. Returns the old
        elements (zero where not active).

        One _workgroup_loop for all the elements: passes go on while any invocation of the
        workgroup has an element pending. Loop state lives in Function variables."""
        ctx, u, t_bool = self.ctx, self.ctx.t_u32, self.ctx.t_bool
        w, sub = self.atype, self.nbytes < 4   # the word type; a narrower element is part of it
        fn_ptr, word_ptr = (ctx.m.type_pointer(StorageClass.Function, t) for t in (u, w))
        elems = []
        for active, addr, value, comparator in items:
            shift = None
            if sub:
                shift, addr = self.word_of(addr)
            p = ctx.emit(Op.ConvertUToPtr, self.ptr_type, addr)
            seed, = ctx.if_then(active, lambda: [ctx.emit(Op.Load, w, p, *aligned(max(self.nbytes, 4)))],
                                lambda: [ctx.m.const_null(w)])
            word_var, pending_var = ctx.f.variable(word_ptr), ctx.f.variable(fn_ptr)
            ctx.emit(Op.Store, None, word_var, seed)
            ctx.emit(Op.Store, None, pending_var, ctx.emit(Op.Select, u, active, ctx.u32(1), ctx.u32(0)))
            elems.append((shift, p, self.to_bits(value), None if comparator is None else self.to_bits(comparator),
                          word_var, pending_var))

        def one_pass():
            any_pending = ctx.u32(0)
            for shift, p, value, comparator, word_var, pending_var in elems:
                def attempt():
                    cur = ctx.emit(Op.Load, w, word_var)
                    old = self.element_of(cur, shift)
                    if comparator is not None:   # Triton compares bit patterns
                        new = ctx.emit(Op.Select, w, ctx.emit(Op.IEqual, t_bool, old, comparator), value, old)
                    elif self.kind == "store":
                        new = value
                    else:
                        new = self.to_bits(self.add(self.from_bits(old), self.from_bits(value)))
                    word = new
                    if sub:
                        others = ctx.emit(Op.Not, u, ctx.emit(Op.ShiftLeftLogical, u, self.element_mask(), shift))
                        word = ctx.emit(Op.BitwiseOr, u, ctx.emit(Op.BitwiseAnd, u, cur, others),
                                        ctx.emit(Op.ShiftLeftLogical, u, new, shift))
                    got = ctx.emit(Op.AtomicCompareExchange, w, p, self.scope, self.sem, self.sem_unequal, word, cur)
                    ctx.emit(Op.Store, None, word_var, got)
                    ctx.emit(Op.Store, None, pending_var, ctx.emit(Op.Select, u, ctx.emit(
                        Op.INotEqual, t_bool, got, cur), ctx.u32(1), ctx.u32(0)))
                pending = ctx.emit(Op.Load, u, pending_var)
                ctx.if_then(ctx.emit(Op.INotEqual, t_bool, pending, ctx.u32(0)), attempt)
                any_pending = ctx.emit(Op.BitwiseOr, u, any_pending, ctx.emit(Op.Load, u, pending_var))
            return any_pending
        _workgroup_loop(ctx, one_pass, "looped atomic flag")
        olds = []
        for (active, *_), (shift, *_, word_var, _) in zip(items, elems):
            # The variable holds the word as the successful exchange found it.
            old = self.from_bits(self.element_of(ctx.emit(Op.Load, w, word_var), shift))
            olds.append(ctx.emit(Op.Select, self.reg_type, active, old, ctx.m.const_null(self.reg_type)))
        return olds

    def emit_poll(self, items):
        """tt.atomic_poll, items [(active, addr, expected, None)]: every active element is loaded
        (OpAtomicLoad) until it reads `expected`, all of them in one _workgroup_loop; a pass that
        finds the time budget (self.timeout_ns: None, 0 or a u64 id) spent ends the polling, each
        element loaded at least once. Returns bools, true where `expected` was read."""
        ctx, u, t_bool = self.ctx, self.ctx.t_u32, self.ctx.t_bool
        fn_ptr = ctx.m.type_pointer(StorageClass.Function, u)
        elems = []
        for active, addr, expected, _ in items:
            pending_var = ctx.f.variable(fn_ptr)
            ctx.emit(Op.Store, None, pending_var, ctx.emit(Op.Select, u, active, ctx.u32(1), ctx.u32(0)))
            elems.append((addr, expected, pending_var))
        spent = self.budget_spent()

        def one_pass():
            left = ctx.u32(0)
            for addr, expected, pending_var in elems:
                def attempt():
                    seen = ctx.emit(Op.IEqual, t_bool, self.load(addr), expected)
                    ctx.emit(Op.Store, None, pending_var, ctx.emit(Op.Select, u, seen, ctx.u32(0), ctx.u32(1)))
                ctx.if_then(ctx.emit(Op.INotEqual, t_bool, ctx.emit(Op.Load, u, pending_var), ctx.u32(0)), attempt)
                left = ctx.emit(Op.BitwiseOr, u, left, ctx.emit(Op.Load, u, pending_var))
            return left if spent is None else ctx.emit(Op.Select, u, spent(), ctx.u32(0), left)
        _workgroup_loop(ctx, one_pass, "atomic poll flag")
        if self.acquires:   # what the pollers acquired, every invocation of the program sees
            ctx.barrier(device=True)
        return [ctx.emit(Op.LogicalAnd, t_bool, active, ctx.emit(Op.IEqual, t_bool, ctx.emit(Op.Load, u, pending_var),
                                                                  ctx.u32(0)))
                for (active, *_), (_, _, pending_var) in zip(items, elems)]

    def budget_spent(self):
        """None (no timeout), or a function emitting "the poll's time budget is spent" (a bool id):
        the Device-scope shader clock, read here and at each pass, against timeout_ns converted to
        clock ticks by the measured rate (the hidden argument clock_rate, ticks per ns)."""
        ctx = self.ctx
        if self.timeout_ns is None:
            return None
        if self.timeout_ns == 0:
            return lambda: ctx.m.const(ctx.t_bool, True)
        if not ctx.target.has_device_clock:
            ctx.error("tl.atomic_poll with a timeout_ns needs the device's shader clock (VK_KHR_shader_clock, "
                      "shaderDeviceClock), which this device lacks; a constant timeout_ns=0 or none work")
        m, u64, f32 = ctx.m, ctx.t_u64, ctx.t_f32
        m.extension("SPV_KHR_shader_clock")
        m.capability(Capability.ShaderClockKHR)

        def clock():
            return ctx.emit(Op.ReadClockKHR, u64, ctx.u32(Scope.Device))
        start = clock()
        ticks = ctx.emit(Op.FMul, f32, ctx.emit(Op.ConvertUToF, f32, self.timeout_ns), ctx.clock_rate)
        budget = ctx.emit(Op.ConvertFToU, u64, ctx.f.glsl(f32, GLSL.FMin, ticks, m.const(f32, 1.8e19)))   # in u64's range
        return lambda: ctx.emit(Op.UGreaterThanEqual, ctx.t_bool, ctx.emit(Op.ISub, u64, clock(), start), budget)

    def element_of(self, word, shift):
        """The element's bits in its word: the part at `shift` (elements narrower than 32 bits) or the word."""
        if shift is None:
            return word
        ctx = self.ctx
        return ctx.emit(Op.BitwiseAnd, ctx.t_u32, ctx.emit(Op.ShiftRightLogical, ctx.t_u32, word, shift),
                        self.element_mask())

    def element_mask(self):
        return self.ctx.u32((1 << 8 * self.nbytes) - 1)

    def add(self, a, b):
        """fp16/fp32/fp64 add in their type; bf16 (f32 registers) adds in f32 and rounds once to bf16."""
        s = self.ctx.emit(Op.FAdd, self.reg_type, a, b)
        return round_bf16(self.ctx, s) if self.name == "bf16" else s

    def to_bits(self, x):
        """A register -> the word type holding its bit pattern (16-bit ones: in the low half)."""
        ctx = self.ctx
        if self.nbytes > 2:
            return ctx.emit(Op.Bitcast, self.atype, x)
        if self.name == "bf16":
            return ctx.emit(Op.ShiftRightLogical, ctx.t_u32, bf16_bits(ctx, x), ctx.u32(16))
        if self.name == "f16":   # through a 2 x f16 vector: no 16-bit integer type needed
            pair = ctx.m.type_vector(self.reg_type, 2)
            x = ctx.emit(Op.CompositeConstruct, pair, x, ctx.m.const_null(self.reg_type))
            return ctx.emit(Op.Bitcast, ctx.t_u32, x)
        if is_fp8(self.name):
            return fp8_code(ctx, x, self.name)
        return ctx.emit(Op.UConvert, ctx.t_u32, x)

    def from_bits(self, b):
        ctx = self.ctx
        if self.nbytes > 2:
            return ctx.emit(Op.Bitcast, self.reg_type, b)
        if self.name == "bf16":
            return ctx.emit(Op.Bitcast, ctx.t_f32, ctx.emit(Op.ShiftLeftLogical, ctx.t_u32, b, ctx.u32(16)))
        if self.name == "f16":
            pair = ctx.emit(Op.Bitcast, ctx.m.type_vector(self.reg_type, 2), b)
            return ctx.emit(Op.CompositeExtract, self.reg_type, pair, 0)
        if is_fp8(self.name):
            return fp8_value(ctx, b, self.name)
        return ctx.emit(Op.UConvert, self.reg_type, b)

    def run(self, op, ptr, items):
        """Old values for items [(cond, addr, value, comparator)], cond a bool id or None
        (everywhere): the atomic where cond holds and, in bounds mode, the address is in bounds;
        zero elsewhere, where memory is not touched."""
        ctx = self.ctx
        zero = ctx.m.const_null(self.reg_type)
        yes, no = ctx.m.const(ctx.t_bool, True), ctx.m.const(ctx.t_bool, False)

        def checked(addr, access, skipped):
            return _checked(ctx, op, ptr, addr, self.nbytes, access, skipped)
        if self.looped or self.kind == "poll":
            actives = []
            for cond, addr, _, _ in items:
                active = cond or yes
                if ctx.bounds is not None:
                    active, = ctx.if_then(active, lambda: checked(addr, lambda: [yes], lambda: [no]), lambda: [no])
                actives.append(active)
            items = [(a,) + item[1:] for a, item in zip(actives, items)]
            return self.emit_poll(items) if self.kind == "poll" else self.emit_loop(items)
        olds = []
        for cond, addr, value, comparator in items:
            def access():
                return checked(addr, lambda: [self.emit(addr, value, comparator)], lambda: [zero])
            olds += access() if cond is None else ctx.if_then(cond, access, lambda: [zero])
        return olds


def _workgroup_loop(ctx, one_pass, what):
    """A loop that every invocation of the workgroup passes through equally often (outside any
    branch): one_pass() emits a pass and returns a u32 id, nonzero where this invocation has work
    left; passes go on while any invocation has (their OR through a workgroup-memory flag: cleared,
    barrier, raised, barrier, read, barrier before the next pass clears it again). On lavapipe
    (Mesa 22.3) a loop whose pass count differs between the subgroups of a workgroup, or between
    lanes, stopped the shader or lost updates."""
    u = ctx.t_u32
    ctx.workgroup.scratch(1, what)
    flag = ctx.workgroup.scratch_ptr(ctx.u32(0))
    header, body, cont, merge = (ctx.new_label() for _ in range(4))
    ctx.branch(header)
    ctx.start_block(header)
    ctx.emit(Op.LoopMerge, None, merge, cont, 0)
    ctx.branch(body)
    ctx.start_block(body)
    left = one_pass()
    wg, relaxed = ctx.u32(Scope.Workgroup), ctx.u32(0)

    def clear():
        ctx.emit(Op.AtomicStore, None, flag, wg, relaxed, ctx.u32(0))
    ctx.if_then(ctx.first_invocation(), clear)
    ctx.barrier()
    ctx.emit(Op.AtomicOr, u, flag, wg, relaxed, left)
    ctx.barrier()
    again = ctx.emit(Op.INotEqual, ctx.t_bool, ctx.emit(Op.AtomicLoad, u, flag, wg, relaxed), ctx.u32(0))
    ctx.barrier()
    ctx.branch(cont)
    ctx.start_block(cont)
    ctx.emit(Op.BranchConditional, None, again, header, merge)
    ctx.start_block(merge)


def _is_used(ctx, value):
    return any(value in op.operands for op in ctx.func.walk())


def _share_from(ctx, cond, indices, regs, rtype, numel):
    """Every invocation gets the registers that the invocations where `cond` holds computed:
    those write them to workgroup memory at `indices`, all read back (barrier before and after)."""
    nw = ctx.word_count(rtype)
    ctx.workgroup.scratch(numel * nw, "atomic result sharing")

    def at(idx, w):
        return idx if w == 0 else ctx.emit(Op.IAdd, ctx.t_u32, idx, ctx.u32(w * numel))

    def write():
        for idx, x in zip(indices, regs):
            for w, word in enumerate(ctx.to_words(rtype, x)):
                ctx.emit(Op.Store, None, ctx.workgroup.scratch_ptr(at(idx, w)), word)
    ctx.barrier()
    ctx.if_then(cond, write)
    ctx.barrier(device=True)   # readers also see what the atomic's acquire made visible
    return [ctx.from_words(rtype, [ctx.emit(Op.Load, ctx.t_u32, ctx.workgroup.scratch_ptr(at(idx, w)))
                                   for w in range(nw)])
            for idx in indices]


def _lower_atomic(ctx, op, kind, ptr, values, comparators, mask, timeout=None):
    """One atomic per element of ptr (where mask holds), performed by the element's owner; the
    results (old values, loaded values, poll outcomes) reach the element's replicas."""
    res = op.results[0] if op.results else None
    used = res is not None and _is_used(ctx, res)
    # A bool is a byte in memory: its atomics run on that byte, converted as tt.load/tt.store do.
    memory = _Access(ctx, pointee(ptr.type)) if type_name(pointee(ptr.type)) == "i1" else None
    atomic = _Atomic(ctx, op, ir.IntType(8) if memory else pointee(ptr.type), kind, used, timeout)

    def stored(x):
        return x if memory is None or x is None else memory.to_mem(x)

    def result(old):
        return memory.to_reg(old) if memory is not None and kind == "load" else old
    shared_type = ctx.t_bool if kind == "poll" else atomic.reg_type
    if not ptr.type.is_tensor:
        addr, x = ctx.scalar(ptr), None if values is None else stored(ctx.scalar(values))
        cmp = ctx.scalar(comparators) if comparators is not None else None
        cond = ctx.first_invocation()
        if mask is not None:
            cond = ctx.emit(Op.LogicalAnd, ctx.t_bool, ctx.scalar(mask), cond)
        old, = atomic.run(op, ptr, [(cond, addr, x, cmp)])
        if used:
            old, = _share_from(ctx, cond, [ctx.u32(0)], [old], shared_type, 1)
            ctx.set(res, result(old))
        return
    enc = ctx.encoding_of(ptr)
    P = ctx.tensor(ptr, enc)
    n = len(P.regs)

    def regs(v):
        if v is None:
            return [None] * n
        return ctx.tensor(v, enc).regs if v.type.is_tensor else [ctx.scalar(v)] * n
    X, C, M = [stored(x) for x in regs(values)], regs(comparators), regs(mask)
    owner = ctx.is_owner(P.layout)
    items = []
    for addr, x, cmp, m in zip(P.regs, X, C, M):
        cond = m if owner is None else owner if m is None else ctx.emit(Op.LogicalAnd, ctx.t_bool, m, owner)
        items.append((cond, addr, x, cmp))
    old = atomic.run(op, ptr, items)
    if not used:
        return
    if owner is not None:
        # Replicas read the old values their owner got (they hold the same elements).
        indices = ctx.linear_indices(P.layout, row_major(P.layout.shape))
        old = _share_from(ctx, owner, indices, old, shared_type, _numel(P.layout.shape))
    ctx.set(res, DTensor(enc, P.layout, [result(x) for x in old]))


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


@register("tt.atomic_rmw")
def _atomic_rmw(ctx, op):
    ptr, val = op.operands[0], op.operands[1]
    mask = op.operands[2] if len(op.operands) > 2 else None
    _lower_atomic(ctx, op, attr(op, "atomic_rmw_op"), ptr, val, None, mask)


@register("tt.atomic_cas")
def _atomic_cas(ctx, op):
    ptr, cmp, val = op.operands
    _lower_atomic(ctx, op, None, ptr, val, cmp, None)


@register("tt.atomic_load")
def _atomic_load(ctx, op):
    ptr, mask = op.operands[0], op.operands[1] if len(op.operands) > 1 else None
    _lower_atomic(ctx, op, "load", ptr, None, None, mask)


@register("tt.atomic_store")
def _atomic_store(ctx, op):
    ptr, val = op.operands[0], op.operands[1]
    _lower_atomic(ctx, op, "store", ptr, val, None, op.operands[2] if len(op.operands) > 2 else None)


def poll_timeout(op):
    """tt.atomic_poll's timeout_ns: None (none), 0 (the constant zero: one load each) or its Value
    (the budget is measured with the device's shader clock)."""
    if len(op.operands) < 3:
        return None
    t = op.operands[2]
    zero = isinstance(t.owner, ir.Operation) and t.owner.name == "arith.constant" and int(attr(t.owner, "value")) == 0
    return 0 if zero else t


@register("tt.atomic_poll")
def _atomic_poll(ctx, op):
    ptr, expected = op.operands[0], op.operands[1]
    timeout = poll_timeout(op)
    _lower_atomic(ctx, op, "poll", ptr, expected, None, None,
                  ctx.scalar(timeout) if isinstance(timeout, ir.Value) else timeout)
