"""tt.print (tl.device_print): records appended to the kernel's print buffer, printed by the host.

The buffer's address arrives as a hidden argument (`ctx.print_buffer`, see lower/__init__.py); its
layout is in lower/kernel.py (PRINT_*). Each invocation reserves room for all the elements it owns
of one tt.print (replicas own nothing; a scalar belongs to the program's first invocation) with
one atomic add on the cursor, then writes one 32-byte record per element as two 16-byte stores:
[site, pid x, y, z] [row-major index, value bits low, high, 0]. Records past the capacity are not
written; the cursor still counts them, so the host reports how many were dropped. The host sorts
and formats the records like Triton's printf (frontend/compiled.py) when the submission completes.
Cost per printed element: ~12 instructions and one branch; per invocation and tt.print one atomic;
no barrier, no workgroup memory.
"""
from __future__ import annotations

from jitspv.lower.fp8 import is_fp8
from jitspv.lower.movement import row_major
from jitspv.lower.kernel import PRINT_CAPACITY, PRINT_HEADER_BYTES, PRINT_RECORD_WORDS
from jitspv.lower.registry import register
from jitspv.lower.spirv.grammar import BuiltIn, MemoryAccess, Op, StorageClass, Scope
from jitspv.lower.ttir_access import attr, type_name


@register("tt.print")
def _print(ctx, op):
    prefix, hex_ = str(attr(op, "prefix")), bool(attr(op, "hex", False))
    signed = list(attr(op, "isSigned", [])) or [0] * len(op.operands)
    parts = []   # per operand: (site, owner bool id or None, [(index id, value id)], TTIR type name)
    for i, v in enumerate(op.operands):
        elem = v.type.element if v.type.is_tensor else v.type
        tname = "ptr" if elem.is_pointer else type_name(elem)
        shape = list(v.type.shape) if v.type.is_tensor else []
        if v.type.is_tensor:
            t = ctx.tensor(v)
            owner = ctx.is_owner(t.layout)
            elems = list(zip(ctx.linear_indices(t.layout, row_major(shape)), t.regs))
        else:
            owner, elems = ctx.first_invocation(), [(ctx.u32(0), ctx.scalar(v))]
        ctx.prints.append({"prefix": prefix, "hex": hex_, "signed": bool(signed[i]), "type": tname,
                           "shape": shape, "operand": i, "operands": len(op.operands)})
        parts.append((len(ctx.prints) - 1, owner, elems, tname))
    if not op.operands:
        ctx.prints.append({"prefix": prefix, "hex": hex_, "signed": False, "type": "", "shape": [],
                           "operand": -1, "operands": 0})
        parts.append((len(ctx.prints) - 1, ctx.first_invocation(), [(ctx.u32(0), None)], ""))
    _append(ctx, parts)


def _append(ctx, parts):
    u32 = ctx.t_u32
    counts = [ctx.u32(len(elems)) if owner is None else
              ctx.emit(Op.Select, u32, owner, ctx.u32(len(elems)), ctx.u32(0))
              for _, owner, elems, _ in parts]
    total = counts[0]
    for c in counts[1:]:
        total = ctx.emit(Op.IAdd, u32, total, c)
    if all(owner is None for _, owner, _, _ in parts):
        base = _reserve(ctx, total)
    else:
        some = ctx.emit(Op.INotEqual, ctx.t_bool, total, ctx.u32(0))
        base = ctx.if_then(some, lambda: [_reserve(ctx, total)], lambda: [ctx.u32(0)])[0]
    wg = ctx.builtin(BuiltIn.WorkgroupId, vec3=True)
    for (site, owner, elems, tname), count in zip(parts, counts):
        def write(site=site, elems=elems, tname=tname, start=base):
            head = ctx.emit(Op.CompositeConstruct, ctx.m.type_vector(u32, 4), ctx.u32(site),
                            *(ctx.emit(Op.CompositeExtract, u32, wg, a) for a in range(3)))
            for k, (index, value) in enumerate(elems):
                slot = start if k == 0 else ctx.emit(Op.IAdd, u32, start, ctx.u32(k))
                fits = ctx.emit(Op.ULessThan, ctx.t_bool, slot, ctx.u32(PRINT_CAPACITY))
                ctx.if_then(fits, lambda slot=slot, index=index, value=value:
                            _store_record(ctx, slot, head, index, _bits(ctx, value, tname)))
        if owner is None:
            write()
        else:
            ctx.if_then(owner, write)
        base = ctx.emit(Op.IAdd, u32, base, count)


def _reserve(ctx, count):
    cursor = ctx.emit(Op.ConvertUToPtr, ctx.m.type_pointer(StorageClass.PhysicalStorageBuffer, ctx.t_u32),
                      ctx.print_buffer)
    return ctx.emit(Op.AtomicIAdd, ctx.t_u32, cursor, ctx.u32(Scope.Device), ctx.semantics(0), count)


def _bits(ctx, value, tname):
    """(low, high) u32 words of a printed value; f16, bf16 and fp8 travel as the f32 bits of their value."""
    u32, u64 = ctx.t_u32, ctx.t_u64
    if value is None:
        return ctx.u32(0), ctx.u32(0)
    if tname == "i1":
        return ctx.emit(Op.Select, u32, value, ctx.u32(1), ctx.u32(0)), ctx.u32(0)
    if tname in ("f16", "bf16", "f32") or is_fp8(tname):
        if tname == "f16":
            value = ctx.emit(Op.FConvert, ctx.t_f32, value)
        return ctx.emit(Op.Bitcast, u32, value), ctx.u32(0)
    if tname == "f64":
        value = ctx.emit(Op.Bitcast, u64, value)
    width = ctx.m.type_info(ctx.m.type_of(value)).width
    if width < 64:
        return (value if width == 32 else ctx.emit(Op.UConvert, u32, value)), ctx.u32(0)
    high = ctx.emit(Op.ShiftRightLogical, u64, value, ctx.m.const(u64, 32))
    return ctx.emit(Op.UConvert, u32, value), ctx.emit(Op.UConvert, u32, high)


def _store_record(ctx, slot, head, index, bits):
    m, u64 = ctx.m, ctx.t_u64
    v4 = m.type_vector(ctx.t_u32, 4)
    v4_ptr = m.type_pointer(StorageClass.PhysicalStorageBuffer, v4)
    offset = ctx.emit(Op.ShiftLeftLogical, u64, ctx.emit(Op.UConvert, u64, slot),
                      m.const(u64, (4 * PRINT_RECORD_WORDS).bit_length() - 1))
    start = ctx.emit(Op.IAdd, u64, ctx.print_buffer, ctx.emit(Op.IAdd, u64, offset, m.const(u64, PRINT_HEADER_BYTES)))
    tail = ctx.emit(Op.CompositeConstruct, v4, index, bits[0], bits[1], ctx.u32(0))
    for k, words in enumerate((head, tail)):
        addr = start if k == 0 else ctx.emit(Op.IAdd, u64, start, m.const(u64, 16))
        ctx.emit(Op.Store, None, ctx.emit(Op.ConvertUToPtr, v4_ptr, addr), words, MemoryAccess.Aligned, 16)
