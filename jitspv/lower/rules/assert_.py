"""tt.assert (tl.device_assert): a failed condition is recorded in the kernel's assert record.

The record is u32 words in device memory whose address arrives as a hidden argument
(`ctx.assert_record`, see lower/__init__.py): [site index + 1, program id x, y, z] (and for a
bounds violation, lower/bounds.py, [address low, high, launch id]). The first
invocation to fail anywhere claims word 0 with a compare-exchange from 0 and then writes its
program id; the host reads the record at the next synchronization (frontend/compiled.py).
Passing asserts cost one not+or per element and one branch per invocation: no barrier, no
workgroup memory, no atomic.

Other device-side failures use the same record (`add_site` + `record_failure`): a loop stopped
by the device's loop limit (rules/control.py) is a site of kind "loop_limit", an access outside the
arrays in bounds mode (lower/bounds.py) one of kind "bounds".
"""
from __future__ import annotations

from jitspv.lower.registry import register
from jitspv.lower.spirv.grammar import BuiltIn, MemoryAccess, Op, StorageClass, Scope
from jitspv.lower.ttir_access import attr


@register("tt.assert")
def _assert(ctx, op):
    cond = op.operands[0]
    regs = ctx.tensor(cond).regs if cond.type.is_tensor else [ctx.scalar(cond)]
    failed = None
    for c in regs:
        bad = ctx.emit(Op.LogicalNot, ctx.t_bool, c)
        failed = bad if failed is None else ctx.emit(Op.LogicalOr, ctx.t_bool, failed, bad)
    site = add_site(ctx, str(attr(op, "message")), op.location or ctx.loc)
    ctx.if_then(failed, lambda: record_failure(ctx, site))


def add_site(ctx, message, loc, kind="assert", **details):
    """A new failure site at `loc` (the kernel line the error names); returns its number. `details`
    are what the host needs to explain a failure of that kind (a bounds site: access, bytes, arg)."""
    site = {"message": message, "file": getattr(loc, "file", "<unknown>"), "line": getattr(loc, "line", 0),
            "function": ctx.func.sym_name, **details}
    if kind != "assert":
        site["kind"] = kind
    ctx.asserts.append(site)
    return len(ctx.asserts)


def record_failure(ctx, site, extra=()):
    """Claims the record for `site` (first failure wins) and writes this program's id, then the u32
    ids `extra` (words 4...: a bounds violation's address and launch, lower/kernel.py)."""
    m = ctx.m
    u32_ptr = m.type_pointer(StorageClass.PhysicalStorageBuffer, ctx.t_u32)
    base = ctx.assert_record

    def word(k):
        addr = base if k == 0 else ctx.emit(Op.IAdd, ctx.t_u64, base, m.const(ctx.t_u64, 4 * k))
        return ctx.emit(Op.ConvertUToPtr, u32_ptr, addr)
    relaxed = ctx.semantics(0)
    old = ctx.emit(Op.AtomicCompareExchange, ctx.t_u32, word(0), ctx.u32(Scope.Device), relaxed, relaxed,
                   ctx.u32(site), ctx.u32(0))
    first = ctx.emit(Op.IEqual, ctx.t_bool, old, ctx.u32(0))
    wg = ctx.builtin(BuiltIn.WorkgroupId, vec3=True)

    def write_program_id():
        for axis in range(3):
            pid = ctx.emit(Op.CompositeExtract, ctx.t_u32, wg, axis)
            ctx.emit(Op.Store, None, word(1 + axis), pid, MemoryAccess.Aligned, 4)
        for k, x in enumerate(extra):
            ctx.emit(Op.Store, None, word(4 + k), x, MemoryAccess.Aligned, 4)
    ctx.if_then(first, write_program_id)
