"""fp8 (Triton's fp8e4nv = f8E4M3FN and fp8e5 = f8E5M2): values live in f32 registers, as bf16's do.

An fp8 register holds the exact f32 value of an fp8 number, so comparisons, selections, dots and
widening casts need nothing; memory holds the 8-bit codes (decode on load, encode on store); a
result of fp8 type is rounded to fp8 after every op, as bf16 results are (rules/common.py).

Rounding to fp8 is to nearest, ties to even (or toward zero for `fp_downcast_rounding="rtz"`), and
saturates: magnitudes above the largest finite value, infinities included, become that value
(448 for e4m3, 57344 for e5m2); NaN stays NaN. That is what Triton-CUDA gives on Hopper, whose
conversions are PTX's `cvt.rn.satfinite` (torch's own casts do not saturate: overflow becomes NaN
or inf there). An fp8e5 infinity loaded from memory stays an infinity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from jitspv.lower.spirv.grammar import GLSL, Op


@dataclass(frozen=True)
class Fp8Format:
    exp_bits: int
    man_bits: int
    bias: int
    has_inf: bool   # e5m2: IEEE-style infinities and NaNs; e4m3fn: no infinity, S.1111.111 is NaN

    @property
    def max_code(self) -> int:
        """Code of the largest finite value."""
        return 0x7B if self.has_inf else 0x7E

    @property
    def max_finite(self) -> float:
        return decode_code(self, self.max_code)

    @property
    def min_normal(self) -> float:
        return 2.0 ** (1 - self.bias)

    @property
    def sub_scale(self) -> float:
        """1 / the spacing of subnormals: a subnormal times this is its mantissa field."""
        return 2.0 ** (self.bias - 1 + self.man_bits)


FP8_FORMATS = {"f8E4M3FN": Fp8Format(4, 3, 7, False), "f8E5M2": Fp8Format(5, 2, 15, True)}
NAN_CODE = 0x7F
INF_CODE = 0x7C   # f8E5M2


def is_fp8(name: str) -> bool:
    return name in FP8_FORMATS


# ---- host side: constants and printing --------------------------------------------------------

def decode_code(fmt: Fp8Format, code: int) -> float:
    """The value of fp8 code 0..255."""
    sign = -1.0 if code & 0x80 else 1.0
    e, m = (code >> fmt.man_bits) & ((1 << fmt.exp_bits) - 1), code & ((1 << fmt.man_bits) - 1)
    if fmt.has_inf and e == (1 << fmt.exp_bits) - 1:
        return sign * math.inf if m == 0 else math.nan
    if not fmt.has_inf and code & 0x7F == 0x7F:
        return math.nan
    if e == 0:
        return sign * m / fmt.sub_scale
    return sign * (1 + m / (1 << fmt.man_bits)) * 2.0 ** (e - fmt.bias)


def round_value(fmt: Fp8Format, value: float) -> float:
    """`value` rounded to fp8 as the device rounds (nearest, ties to the even code, saturating)."""
    if math.isnan(value):
        return math.nan
    a = min(abs(value), fmt.max_finite)
    below = max((c for c in range(fmt.max_code + 1) if decode_code(fmt, c) <= a), key=lambda c: decode_code(fmt, c))
    above = min(below + 1, fmt.max_code)
    lo, hi = decode_code(fmt, below), decode_code(fmt, above)
    pick = below if a - lo < hi - a or (a - lo == hi - a and below % 2 == 0) else above
    return math.copysign(decode_code(fmt, pick), value)


def encode_value(fmt: Fp8Format, value: float) -> int:
    """The code of `value`, an fp8 value (as round_value gives)."""
    if math.isnan(value):
        return NAN_CODE
    codes = [c for c in range(256) if decode_code(fmt, c) == value and (c >> 7) == (math.copysign(1, value) < 0)]
    return codes[0]


# ---- device side ------------------------------------------------------------------------------

def _bits(ctx, x):
    return ctx.emit(Op.Bitcast, ctx.t_u32, x)


def _f32(ctx, v):
    return ctx.m.const(ctx.t_f32, v)


def round_fp8(ctx, x, name: str, toward_zero: bool = False):
    """f32 register -> the fp8 value nearest to it (or toward zero), still in an f32 register."""
    fmt, u, f, b = FP8_FORMATS[name], ctx.t_u32, ctx.t_f32, ctx.t_bool
    cut = 23 - fmt.man_bits   # f32 mantissa bits dropped
    a = ctx.emit(Op.BitwiseAnd, u, _bits(ctx, x), ctx.u32(0x7FFFFFFF))
    if toward_zero:
        kept = a
    else:   # add half an fp8 ulp less one, plus the kept lsb: ties go to even
        lsb = ctx.emit(Op.BitwiseAnd, u, ctx.emit(Op.ShiftRightLogical, u, a, ctx.u32(cut)), ctx.u32(1))
        kept = ctx.emit(Op.IAdd, u, a, ctx.emit(Op.IAdd, u, lsb, ctx.u32((1 << (cut - 1)) - 1)))
    normal = ctx.emit(Op.Bitcast, f, ctx.emit(Op.BitwiseAnd, u, kept, ctx.u32(~((1 << cut) - 1) & 0xFFFFFFFF)))
    ax = ctx.f.glsl(f, GLSL.FAbs, x)
    # Below the smallest normal the spacing is fixed: scale it to integers (exactly), round, scale back.
    steps = ctx.f.glsl(f, GLSL.Trunc if toward_zero else GLSL.RoundEven, ctx.emit(Op.FMul, f, ax, _f32(ctx, fmt.sub_scale)))
    sub = ctx.emit(Op.FMul, f, steps, _f32(ctx, 1 / fmt.sub_scale))
    y = ctx.emit(Op.Select, f, ctx.emit(Op.FOrdLessThan, b, ax, _f32(ctx, fmt.min_normal)), sub, normal)
    top = _f32(ctx, fmt.max_finite)
    y = ctx.emit(Op.Select, f, ctx.emit(Op.FOrdGreaterThan, b, y, top), top, y)
    sign = ctx.emit(Op.BitwiseAnd, u, _bits(ctx, x), ctx.u32(0x80000000))
    y = ctx.emit(Op.Bitcast, f, ctx.emit(Op.BitwiseOr, u, _bits(ctx, y), sign))
    return ctx.emit(Op.Select, f, ctx.emit(Op.IsNan, b, x), x, y)


def fp8_code(ctx, x, name: str):
    """f32 register holding an fp8 value -> its code, in the low 8 bits of a u32."""
    fmt, u, f, b = FP8_FORMATS[name], ctx.t_u32, ctx.t_f32, ctx.t_bool
    a = ctx.emit(Op.BitwiseAnd, u, _bits(ctx, x), ctx.u32(0x7FFFFFFF))
    normal = ctx.emit(Op.ISub, u, ctx.emit(Op.ShiftRightLogical, u, a, ctx.u32(23 - fmt.man_bits)),
                      ctx.u32((127 - fmt.bias) << fmt.man_bits))
    ax = ctx.f.glsl(f, GLSL.FAbs, x)
    sub = ctx.emit(Op.ConvertFToU, u, ctx.emit(Op.FMul, f, ax, _f32(ctx, fmt.sub_scale)))
    code = ctx.emit(Op.Select, u, ctx.emit(Op.FOrdLessThan, b, ax, _f32(ctx, fmt.min_normal)), sub, normal)
    # Only an e5m2 infinity lies beyond the largest finite value (rounding saturates).
    beyond = INF_CODE if fmt.has_inf else fmt.max_code
    code = ctx.emit(Op.Select, u, ctx.emit(Op.FOrdGreaterThan, b, ax, _f32(ctx, fmt.max_finite)), ctx.u32(beyond), code)
    sign = ctx.emit(Op.ShiftRightLogical, u, ctx.emit(Op.BitwiseAnd, u, _bits(ctx, x), ctx.u32(0x80000000)), ctx.u32(24))
    code = ctx.emit(Op.BitwiseOr, u, code, sign)
    return ctx.emit(Op.Select, u, ctx.emit(Op.IsNan, b, x), ctx.u32(NAN_CODE), code)


def fp8_value(ctx, code, name: str):
    """u32 holding an fp8 code in its low 8 bits -> its value in an f32 register."""
    fmt, u, f, b = FP8_FORMATS[name], ctx.t_u32, ctx.t_f32, ctx.t_bool
    e = ctx.emit(Op.BitwiseAnd, u, ctx.emit(Op.ShiftRightLogical, u, code, ctx.u32(fmt.man_bits)),
                 ctx.u32((1 << fmt.exp_bits) - 1))
    m = ctx.emit(Op.BitwiseAnd, u, code, ctx.u32((1 << fmt.man_bits) - 1))
    normal = ctx.emit(Op.BitwiseOr, u, ctx.emit(Op.ShiftLeftLogical, u, ctx.emit(Op.IAdd, u, e, ctx.u32(127 - fmt.bias)),
                                                ctx.u32(23)),
                      ctx.emit(Op.ShiftLeftLogical, u, m, ctx.u32(23 - fmt.man_bits)))
    sub = ctx.emit(Op.FMul, f, ctx.emit(Op.ConvertUToF, f, m), _f32(ctx, 1 / fmt.sub_scale))
    value = ctx.emit(Op.Select, f, ctx.emit(Op.IEqual, b, e, ctx.u32(0)), sub, ctx.emit(Op.Bitcast, f, normal))
    magnitude = ctx.emit(Op.BitwiseAnd, u, code, ctx.u32(0x7F))
    if fmt.has_inf:
        top = ctx.emit(Op.IEqual, b, e, ctx.u32((1 << fmt.exp_bits) - 1))
        special = ctx.emit(Op.Select, f, ctx.emit(Op.IEqual, b, magnitude, ctx.u32(INF_CODE)), _f32(ctx, math.inf),
                           _f32(ctx, math.nan))
        value = ctx.emit(Op.Select, f, top, special, value)
    sign = ctx.emit(Op.ShiftLeftLogical, u, ctx.emit(Op.BitwiseAnd, u, code, ctx.u32(0x80)), ctx.u32(24))
    value = ctx.emit(Op.Bitcast, f, ctx.emit(Op.BitwiseOr, u, _bits(ctx, value), sign))
    if not fmt.has_inf:
        value = ctx.emit(Op.Select, f, ctx.emit(Op.IEqual, b, magnitude, ctx.u32(NAN_CODE)), _f32(ctx, math.nan), value)
    return value
