"""Helpers shared by the rules: map a per-register function over an op's operands."""
from __future__ import annotations

from jitspv.lower.fp8 import is_fp8, round_fp8
from jitspv.lower.spirv.grammar import Op
from jitspv.lower.layout import layout_of
from jitspv.lower.op_facts import BF16_EXACT, has
from jitspv.lower.ttir_access import type_name
from jitspv.lower.values import HeldTensor


def elementwise(ctx, op, fn):
    """Lower an op whose result element i depends only on operand elements i.
    `fn(rtype, *ids) -> id` emits the scalar computation; rtype is the result's register type.
    bf16 and fp8 compute in f32 registers: such a result is rounded to its type after every op,
    as Triton's bf16 (fp8) arithmetic would round it."""
    res = op.results[0]
    rtype = ctx.stype(res.type)
    rname = type_name(res.type)
    if (rname == "bf16" or is_fp8(rname)) and not has(op.name, BF16_EXACT):
        inner = fn

        def fn(rtype, *xs):
            x = inner(rtype, *xs)
            return round_bf16(ctx, x) if rname == "bf16" else round_fp8(ctx, x, rname)
    if res.type.is_tensor:
        held = next((h for h in map(ctx.get, op.operands) if isinstance(h, HeldTensor)), None)
        kept = held.elementwise(ctx, op) if held is not None else None
        if kept is not None:
            ctx.set(res, kept)
            return
        enc = ctx.encoding_of(res)
        # A scalar operand (arith.select's i1 condition may be one) is the same in every register.
        n = len(layout_of(enc, res.type.shape).regs)
        ins = [ctx.tensor(v, enc).regs if v.type.is_tensor else [ctx.scalar(v)] * n for v in op.operands]
        regs = [fn(rtype, *xs) for xs in zip(*ins)]
        ctx.set(res, ctx.make(res, regs, enc))
    else:
        ctx.set(res, fn(rtype, *(ctx.scalar(v) for v in op.operands)))


def bf16_bits(ctx, x):
    """f32 register -> u32 whose high half is the nearest bf16 (ties to even); infinities stay, a
    NaN stays a NaN of the same sign, made quiet so that dropping the low half cannot turn it into
    an infinity. The low half is not cleared."""
    u = ctx.t_u32
    bits = ctx.emit(Op.Bitcast, u, x)
    lsb = ctx.emit(Op.BitwiseAnd, u, ctx.emit(Op.ShiftRightLogical, u, bits, ctx.u32(16)), ctx.u32(1))
    rounded = ctx.emit(Op.IAdd, u, bits, ctx.emit(Op.IAdd, u, lsb, ctx.u32(0x7FFF)))
    nan = ctx.emit(Op.IsNan, ctx.t_bool, x)
    return ctx.emit(Op.Select, u, nan, ctx.emit(Op.BitwiseOr, u, bits, ctx.u32(0x400000)), rounded)


def round_bf16(ctx, x):
    """f32 register -> the nearest bf16 value, still in an f32 register (its low half zero, as a
    bf16 converted to f32 has it)."""
    high = ctx.emit(Op.BitwiseAnd, ctx.t_u32, bf16_bits(ctx, x), ctx.u32(0xFFFF0000))
    return ctx.emit(Op.Bitcast, ctx.t_f32, high)


def pack_word(ctx, kind, regs):
    """One u32 of registers `regs` (lowest address first) of TTIR element type `kind`: two 16-bit
    ones (f16, i16; bf16, whose f32 registers hold it in their high halves), four i8, one 32-bit."""
    u32 = ctx.t_u32
    if kind in ("f16", "i16"):
        pair = ctx.m.type_vector(ctx.m.type_of(regs[0]), 2)
        return ctx.emit(Op.Bitcast, u32, ctx.emit(Op.CompositeConstruct, pair, *regs))
    if kind == "bf16":
        lo, hi = (ctx.emit(Op.Bitcast, u32, x) for x in regs)
        return ctx.emit(Op.BitwiseOr, u32, ctx.emit(Op.ShiftRightLogical, u32, lo, ctx.u32(16)),
                        ctx.emit(Op.BitwiseAnd, u32, hi, ctx.u32(0xFFFF0000)))
    if len(regs) == 4:   # i8
        word = None
        for i, x in enumerate(regs):
            b = ctx.emit(Op.UConvert, u32, x)
            b = ctx.emit(Op.ShiftLeftLogical, u32, b, ctx.u32(8 * i)) if i else b
            word = b if word is None else ctx.emit(Op.BitwiseOr, u32, word, b)
        return word
    return regs[0] if kind[0] == "i" else ctx.emit(Op.Bitcast, u32, regs[0])


def word_element(ctx, kind, rtype, word, i):
    """Register i (lowest address first) of TTIR element type `kind` (32- or 16-bit) in u32 `word`,
    as pack_word put it there; `rtype` is the register type."""
    u32 = ctx.t_u32
    if kind == "i32":
        return word
    if kind == "f32":
        return ctx.emit(Op.Bitcast, rtype, word)
    if kind == "bf16":
        high = ctx.emit(Op.ShiftLeftLogical, u32, word, ctx.u32(16)) if i == 0 else \
            ctx.emit(Op.BitwiseAnd, u32, word, ctx.u32(0xFFFF0000))
        return ctx.emit(Op.Bitcast, rtype, high)
    return ctx.emit(Op.CompositeExtract, rtype, ctx.emit(Op.Bitcast, ctx.m.type_vector(rtype, 2), word), i)
