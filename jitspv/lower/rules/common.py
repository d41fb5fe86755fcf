"""Helpers shared by the rules: map a per-register function over an op's operands."""
from __future__ import annotations

from jitspv.lower.context import DTensor


def elementwise(ctx, op, fn):
    """Lower an op whose result element i depends only on operand elements i.
    `fn(rtype, *ids) -> id` emits the scalar computation; rtype is the result's register type."""
    res = op.results[0]
    rtype = ctx.stype(res.type)
    if res.type.is_tensor:
        enc = ctx.encoding_of(res)
        ins = [ctx.tensor(v, enc).regs for v in op.operands]
        regs = [fn(rtype, *xs) for xs in zip(*ins)]
        ctx.set(res, ctx.make(res, regs, enc))
    else:
        ctx.set(res, fn(rtype, *(ctx.scalar(v) for v in op.operands)))


def operand_stype(ctx, op, i=0):
    return ctx.stype(op.operands[i].type)


def regs_of(ctx, value, enc):
    v = ctx.get(value)
    if isinstance(v, DTensor) or value.type.is_tensor:
        return ctx.tensor(value, enc).regs
    return None
