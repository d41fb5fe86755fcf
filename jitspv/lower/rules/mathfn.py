"""Math functions: math.* ops, tt.precise_sqrt/precise_divf, tt.clampf, tt.mulhiui and
tt.extern_elementwise's libdevice symbols (`__nv_expf`, `__nv_pow`, ...), all from one table of
functions by name (FUNCS).

Precision. GLSL.std.450's transcendental instructions exist for 16- and 32-bit floats only and
Vulkan guarantees little for them (exp/exp2: 3 + 2|x| ulp, log: 3 ulp outside [0.5, 2], sin/cos:
2^-11 absolute in [-pi, pi]; tan/pow derived). fp16 is computed in fp32 and rounded once; fp64
transcendentals are refused rather than computed in fp32. Division and square root are refined
with one FMA step (correctly rounded except in the subnormal/overflow corners where the
refinement is skipped) for tt.precise_divf / div_rn and tt.precise_sqrt / sqrt_rn, since
Vulkan's OpFDiv is only 2.5 ulp and GLSL Sqrt inherits inversesqrt's error.
"""
from __future__ import annotations

from jitspv.lower.registry import register
from jitspv.lower.ttir_access import attr, type_name
from jitspv.lower.rules.common import elementwise
from jitspv.lower.spirv.grammar import Op, GLSL


class _Emit:
    """Shorthands for one scalar computation of register type `t`."""

    def __init__(self, ctx, t):
        self.ctx, self.t = ctx, t
        self.info = ctx.m.type_info(t)
        self.b = ctx.t_bool

    def op(self, spv, *xs, t=None):
        return self.ctx.emit(spv, self.t if t is None else t, *xs)

    def g(self, inst, *xs, t=None):
        return self.ctx.f.glsl(self.t if t is None else t, inst, *xs)

    def c(self, v, t=None):
        return self.ctx.const(self.t if t is None else t, v)

    def sel(self, cond, a, b, t=None):
        return self.op(Op.Select, cond, a, b, t=t)

    def fma(self, a, b, c):
        return self.g(GLSL.Fma, a, b, c)

    def lt(self, a, b):
        return self.op(Op.FOrdLessThan, a, b, t=self.b)

    def eq(self, a, b):
        return self.op(Op.FOrdEqual, a, b, t=self.b)

    def isnan(self, x):
        return self.op(Op.IsNan, x, t=self.b)

    def finite(self, x):
        bad = self.op(Op.LogicalOr, self.isnan(x), self.op(Op.IsInf, x, t=self.b), t=self.b)
        return self.op(Op.LogicalNot, bad, t=self.b)

    def uint(self):
        return self.ctx.m.type_int(self.info.width, False)


# ---- function bodies: fn(e, *xs) with e an _Emit of the result's register type ----------------
def _glsl32(inst):
    """A transcendental GLSL.std.450 instruction: 16/32-bit only; fp16 goes through fp32."""
    def fn(e, *xs):
        if e.info.width == 64:
            e.ctx.error("jitspv does not support this math function on fp64 yet "
                        "(GLSL.std.450 has no 64-bit transcendentals)")
        if e.info.width == 16:
            f32 = e.ctx.t_f32
            wide = [e.op(Op.FConvert, x, t=f32) for x in xs]
            return e.op(Op.FConvert, e.g(inst, *wide, t=f32))
        return e.g(inst, *xs)
    fn.transcendental = True
    return fn


def _glsl(inst):
    return lambda e, *xs: e.g(inst, *xs)


def _precise_div(e, a, b):
    # q = a/b, then one Newton step on the residual a - b*q (exact with FMA). Where the residual
    # is zero (q exact: also keeps -0.0) or not finite (b = 0 or inf, overflow) q stands.
    q = e.op(Op.FDiv, a, b)
    r = e.op(Op.FDiv, e.c(1.0), b)
    res = e.fma(e.op(Op.FNegate, b), q, a)
    use = e.op(Op.LogicalAnd, e.finite(res), e.op(Op.FOrdNotEqual, res, e.c(0.0), t=e.b), t=e.b)
    return e.sel(use, e.fma(res, r, q), q)


def _precise_sqrt(e, x):
    s = e.g(GLSL.Sqrt, x)
    res = e.fma(e.op(Op.FNegate, s), s, x)
    use = e.op(Op.LogicalAnd, e.finite(res), e.op(Op.FOrdNotEqual, res, e.c(0.0), t=e.b), t=e.b)
    use = e.op(Op.LogicalAnd, use, e.op(Op.FOrdGreaterThan, s, e.c(0.0), t=e.b), t=e.b)
    step = e.op(Op.FDiv, res, e.op(Op.FAdd, s, s))
    return e.sel(use, e.op(Op.FAdd, s, step), s)


def _round_half_away(e, x):
    # GLSL Round leaves the direction of .5 to the implementation; C round() goes away from 0.
    t = e.g(GLSL.Trunc, x)
    frac = e.g(GLSL.FAbs, e.op(Op.FSub, x, t))
    away = e.op(Op.FOrdGreaterThanEqual, frac, e.c(0.5), t=e.b)
    return e.sel(away, e.op(Op.FAdd, t, e.g(GLSL.FSign, x)), t)


def _copysign(e, x, y):
    u = e.uint()
    sign = e.c(1 << (e.info.width - 1), u)
    mag = e.op(Op.BitwiseAnd, e.op(Op.Bitcast, x, t=u), e.c((1 << (e.info.width - 1)) - 1, u), t=u)
    s = e.op(Op.BitwiseAnd, e.op(Op.Bitcast, y, t=u), sign, t=u)
    return e.op(Op.Bitcast, e.op(Op.BitwiseOr, mag, s, t=u))


def _pow(e, x, y):
    # GLSL Pow is undefined for x < 0 and for x = 0, y <= 0: compute |x|^y and fix the sign and
    # the special cases as C pow does.
    ax = e.g(GLSL.FAbs, x)
    r = _glsl32(GLSL.Pow)(e, ax, y)
    y_int = e.eq(e.g(GLSL.Trunc, y), y)
    half = e.op(Op.FMul, y, e.c(0.5))
    y_odd = e.op(Op.LogicalAnd, y_int, e.op(Op.FOrdNotEqual, e.g(GLSL.Trunc, half), half, t=e.b), t=e.b)
    zero = e.eq(ax, e.c(0.0))
    r = e.sel(zero, e.sel(e.lt(y, e.c(0.0)), e.c(float("inf")), e.c(0.0)), r)
    neg = e.lt(x, e.c(0.0))
    neg = e.op(Op.LogicalOr, neg, e.op(Op.LogicalAnd, zero, e.lt(_copysign(e, e.c(1.0), x), e.c(0.0)), t=e.b), t=e.b)
    r = e.sel(e.op(Op.LogicalAnd, neg, y_odd, t=e.b), e.op(Op.FNegate, r), r)
    bad = e.op(Op.LogicalAnd, e.lt(x, e.c(0.0)), e.op(Op.LogicalNot, y_int, t=e.b), t=e.b)
    bad = e.op(Op.LogicalAnd, bad, e.finite(x), t=e.b)
    r = e.sel(bad, e.c(float("nan")), r)
    one = e.op(Op.LogicalOr, e.eq(y, e.c(0.0)), e.eq(x, e.c(1.0)), t=e.b)
    return e.sel(one, e.c(1.0), r)


def _powi(e, x, n):
    sint = e.ctx.m.type_int(32, False)
    return _pow(e, x, e.op(Op.ConvertSToF, n) if e.ctx.m.type_of(n) == sint else n)


def _log1p(e, x):
    # log(u) * x / (u - 1) with u = 1 + x corrects the rounding of 1 + x (Goldberg's trick).
    u = e.op(Op.FAdd, e.c(1.0), x)
    d = e.op(Op.FSub, u, e.c(1.0))
    lg = _glsl32(GLSL.Log)(e, u)
    r = e.op(Op.FDiv, e.op(Op.FMul, lg, x), d)
    return e.sel(e.eq(d, e.c(0.0)), x, e.sel(e.finite(u), r, lg))


def _expm1(e, x):
    # (u - 1) * x / log(u) with u = exp(x) (Kahan's trick); exact x where u rounds to 1.
    u = _glsl32(GLSL.Exp)(e, x)
    d = e.op(Op.FSub, u, e.c(1.0))
    lg = _glsl32(GLSL.Log)(e, u)
    r = e.op(Op.FDiv, e.op(Op.FMul, d, x), lg)
    r = e.sel(e.eq(u, e.c(1.0)), x, r)
    return e.sel(e.op(Op.LogicalOr, e.eq(d, e.c(-1.0)), e.op(Op.IsInf, u, t=e.b), t=e.b), d, r)


def _log10(e, x):
    return e.op(Op.FMul, _glsl32(GLSL.Log2)(e, x), e.c(0.30102999566398120))


def _exp10(e, x):
    return _glsl32(GLSL.Exp2)(e, e.op(Op.FMul, x, e.c(3.3219280948873623)))


def _cbrt(e, x):
    # |x|^(1/3) with the sign restored, then one Newton step r -= (r^3 - x) / (3 r^2).
    r = _copysign(e, _glsl32(GLSL.Pow)(e, e.g(GLSL.FAbs, x), e.c(1.0 / 3.0)), x)
    r2 = e.op(Op.FMul, r, r)
    step = e.op(Op.FDiv, e.fma(r2, r, e.op(Op.FNegate, x)), e.op(Op.FMul, r2, e.c(3.0)))
    ok = e.op(Op.LogicalAnd, e.finite(step), e.op(Op.FOrdNotEqual, r, e.c(0.0), t=e.b), t=e.b)
    return e.sel(ok, e.op(Op.FSub, r, step), r)


def _erf(e, x):
    if e.info.width == 64:
        e.ctx.error("jitspv does not support erf on fp64 yet")
    if e.info.width == 16:
        f32 = e.ctx.t_f32
        return e.op(Op.FConvert, _erf(_Emit(e.ctx, f32), e.op(Op.FConvert, x, t=f32)))
    # |x| < 0.5: Taylor series (keeps the relative error small near 0, where 1 - erfc cancels);
    # otherwise 1 - erfc(|x|) with Numerical Recipes' erfc (relative error < 1.2e-7), sign restored.
    coeffs = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
              0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277]
    taylor = [1.0, -1.0 / 3, 1.0 / 10, -1.0 / 42, 1.0 / 216, -1.0 / 1320]
    ax = e.g(GLSL.FAbs, x)
    t = e.op(Op.FDiv, e.c(1.0), e.fma(e.c(0.5), ax, e.c(1.0)))
    p = e.c(coeffs[-1])
    for k in reversed(coeffs[:-1]):
        p = e.fma(p, t, e.c(k))
    erfc = e.op(Op.FMul, t, e.g(GLSL.Exp, e.op(Op.FSub, p, e.op(Op.FMul, ax, ax))))
    big = _copysign(e, e.op(Op.FSub, e.c(1.0), erfc), x)
    x2 = e.op(Op.FMul, x, x)
    s = e.c(taylor[-1])
    for k in reversed(taylor[:-1]):
        s = e.fma(s, x2, e.c(k))
    small = e.op(Op.FMul, e.op(Op.FMul, x, e.c(1.1283791670955126)), s)
    return e.sel(e.lt(ax, e.c(0.5)), small, big)


def _saturate(e, x):
    return e.sel(e.isnan(x), e.c(0.0), e.g(GLSL.FClamp, x, e.c(0.0), e.c(1.0)))


# ---- integer bit functions (GLSL FindUMsb/FindILsb and OpBitCount are 32-bit only) ------------
def _to_u32_parts(e, x):
    """x as u32 words, low first."""
    ctx, w = e.ctx, e.info.width
    if w == 32:
        return [x]
    if w < 32:
        return [e.op(Op.UConvert, x, t=ctx.t_u32)]
    hi = e.op(Op.UConvert, e.op(Op.ShiftRightLogical, x, ctx.u32(32)), t=ctx.t_u32)
    return [e.op(Op.UConvert, x, t=ctx.t_u32), hi]


def _clz(e, x):
    u = e.ctx.t_u32
    parts = _to_u32_parts(e, x)
    # 31 - FindUMsb(v) counts v's leading zeros in 32 bits (FindUMsb(0) = -1 gives 32).
    counts = [e.op(Op.ISub, e.ctx.u32(31), e.g(GLSL.FindUMsb, p, t=u), t=u) for p in parts]
    n = counts[0]
    if len(parts) == 2:
        hi_zero = e.op(Op.IEqual, parts[1], e.ctx.u32(0), t=e.b)
        n = e.sel(hi_zero, e.op(Op.IAdd, counts[0], e.ctx.u32(32), t=u), counts[1], t=u)
    elif e.info.width < 32:
        n = e.op(Op.ISub, n, e.ctx.u32(32 - e.info.width), t=u)
    return n


def _ctz(e, x):
    u = e.ctx.t_u32
    parts = _to_u32_parts(e, x)
    w = min(32, e.info.width)

    def one(p, width):
        lsb = e.g(GLSL.FindILsb, p, t=u)
        return e.sel(e.op(Op.IEqual, p, e.ctx.u32(0), t=e.b), e.ctx.u32(width), lsb, t=u)
    if len(parts) == 2:
        lo_zero = e.op(Op.IEqual, parts[0], e.ctx.u32(0), t=e.b)
        return e.sel(lo_zero, e.op(Op.IAdd, one(parts[1], 32), e.ctx.u32(32), t=u), one(parts[0], 32), t=u)
    return one(parts[0], w)


def _popc(e, x):
    u = e.ctx.t_u32
    counts = [e.op(Op.BitCount, p, t=u) for p in _to_u32_parts(e, x)]
    return counts[0] if len(counts) == 1 else e.op(Op.IAdd, counts[0], counts[1], t=u)


def _mulhi(signed):
    def fn(e, a, b):
        st = e.ctx.m.type_struct([e.t, e.t])
        pair = e.op(Op.SMulExtended if signed else Op.UMulExtended, a, b, t=st)
        return e.op(Op.CompositeExtract, pair, 1)
    return fn


def _iabs(e, x):
    return e.g(GLSL.SAbs, x)


FUNCS = {
    "exp": _glsl32(GLSL.Exp), "exp2": _glsl32(GLSL.Exp2), "log": _glsl32(GLSL.Log),
    "log2": _glsl32(GLSL.Log2), "sin": _glsl32(GLSL.Sin), "cos": _glsl32(GLSL.Cos),
    "tan": _glsl32(GLSL.Tan), "asin": _glsl32(GLSL.Asin), "acos": _glsl32(GLSL.Acos),
    "atan": _glsl32(GLSL.Atan), "atan2": _glsl32(GLSL.Atan2), "sinh": _glsl32(GLSL.Sinh),
    "cosh": _glsl32(GLSL.Cosh), "tanh": _glsl32(GLSL.Tanh), "asinh": _glsl32(GLSL.Asinh),
    "acosh": _glsl32(GLSL.Acosh), "atanh": _glsl32(GLSL.Atanh),
    "log10": _log10, "exp10": _exp10, "log1p": _log1p, "expm1": _expm1, "cbrt": _cbrt,
    "pow": _pow, "powi": _powi, "erf": _erf,
    "sqrt": _glsl(GLSL.Sqrt), "rsqrt": _glsl(GLSL.InverseSqrt), "floor": _glsl(GLSL.Floor),
    "ceil": _glsl(GLSL.Ceil), "trunc": _glsl(GLSL.Trunc), "fabs": _glsl(GLSL.FAbs),
    "fma": _glsl(GLSL.Fma), "rint": _glsl(GLSL.RoundEven), "nearbyint": _glsl(GLSL.RoundEven),
    "roundeven": _glsl(GLSL.RoundEven), "round": _round_half_away,
    "fmin": _glsl(GLSL.NMin), "fmax": _glsl(GLSL.NMax), "copysign": _copysign,
    "fmod": lambda e, a, b: e.op(Op.FRem, a, b), "saturate": _saturate,
    "div_rn": _precise_div, "sqrt_rn": _precise_sqrt,
    "fast_div": lambda e, a, b: e.op(Op.FDiv, a, b),
    "rcp_rn": lambda e, x: _precise_div(e, e.c(1.0), x),
    "clz": _clz, "ctz": _ctz, "popc": _popc, "umulhi": _mulhi(False), "mulhi": _mulhi(True),
    "abs": _iabs,
}

_MATH_OPS = {
    "math.exp": "exp", "math.exp2": "exp2", "math.log": "log", "math.log2": "log2", "math.sin": "sin",
    "math.cos": "cos", "math.tan": "tan", "math.tanh": "tanh", "math.atan": "atan", "math.asin": "asin",
    "math.acos": "acos", "math.sinh": "sinh", "math.cosh": "cosh", "math.atan2": "atan2",
    "math.asinh": "asinh", "math.acosh": "acosh", "math.atanh": "atanh", "math.powf": "pow",
    "math.log1p": "log1p", "math.expm1": "expm1", "math.cbrt": "cbrt", "math.erf": "erf",
    "math.sqrt": "sqrt", "math.rsqrt": "rsqrt", "math.floor": "floor", "math.ceil": "ceil",
    "math.trunc": "trunc", "math.absf": "fabs", "math.absi": "abs", "math.fma": "fma",
    "math.round": "round", "math.roundeven": "roundeven", "math.copysign": "copysign",
    "math.ctlz": "clz", "math.cttz": "ctz", "math.ctpop": "popc",
    "tt.precise_divf": "div_rn", "tt.precise_sqrt": "sqrt_rn", "tt.mulhiui": "umulhi",
}

# libdevice symbols whose name is not `__nv_<FUNCS name>[f]`.
_NV_ALIASES = {
    "fast_expf": "exp", "fast_exp10f": "exp10", "fast_logf": "log", "fast_log2f": "log2",
    "fast_log10f": "log10", "fast_sinf": "sin", "fast_cosf": "cos", "fast_tanf": "tan",
    "fast_powf": "pow", "fast_fdividef": "fast_div", "fdiv_rn": "div_rn", "ddiv_rn": "div_rn",
    "fsqrt_rn": "sqrt_rn", "dsqrt_rn": "sqrt_rn", "frcp_rn": "rcp_rn", "drcp_rn": "rcp_rn",
    "saturatef": "saturate", "clzll": "clz", "popcll": "popc", "llabs": "abs",
    "umul64hi": "umulhi", "mul64hi": "mulhi", "powif": "powi", "powi": "powi",
}


def _math_rule(name):
    fn = FUNCS[name]

    def rule(ctx, op):
        elementwise(ctx, op, lambda rtype, *xs: fn(_Emit(ctx, rtype), *xs))
    return rule


for _op, _name in _MATH_OPS.items():
    register(_op)(_math_rule(_name))


def _nv_function(ctx, symbol, operand_type):
    if not symbol.startswith("__nv_"):
        return None
    base = symbol[5:]
    if base in _NV_ALIASES:
        return _NV_ALIASES[base]
    if type_name(operand_type) in ("f32", "f16", "bf16") and base.endswith("f") and base[:-1] in FUNCS:
        return base[:-1]
    return base if base in FUNCS else None


_CLASSIFY = {"isnan", "isnanf", "isnand", "isinf", "isinff", "isinfd", "finitef", "isfinited", "signbitf",
             "signbitd"}


@register("tt.extern_elementwise")
def _extern(ctx, op):
    symbol = attr(op, "symbol")
    base = symbol[5:] if symbol.startswith("__nv_") else None
    if base in _CLASSIFY:   # libdevice's predicates return i32 0/1
        _classify(ctx, op, base)
        return
    name = _nv_function(ctx, symbol, op.operands[0].type)
    if name is None:
        ctx.error(f"jitspv does not support the external function '{symbol}' "
                  f"(tt.extern_elementwise, libname '{attr(op, 'libname', '')}')")
    _math_rule(name)(ctx, op)


def _classify(ctx, op, base):
    src = ctx.stype(op.operands[0].type)

    def fn(rtype, x):
        e = _Emit(ctx, src)
        if base.startswith("isnan"):
            b = e.isnan(x)
        elif base.startswith("isinf"):
            b = e.op(Op.IsInf, x, t=e.b)
        elif base.startswith("signbit"):
            b = e.lt(_copysign(e, e.c(1.0), x), e.c(0.0))
        else:
            b = e.finite(x)
        return ctx.emit(Op.Select, rtype, b, ctx.const(rtype, 1), ctx.const(rtype, 0))
    elementwise(ctx, op, fn)


@register("tt.clampf")
def _clampf(ctx, op):
    propagate = attr(op, "propagateNan") == "all"

    def fn(rtype, x, lo, hi):
        e = _Emit(ctx, rtype)
        # NMin/NMax: a NaN x gives a bound, as Triton's clamp with propagate_nan=NONE does.
        r = e.g(GLSL.NMin, e.g(GLSL.NMax, x, lo), hi)
        return e.sel(e.isnan(x), x, r) if propagate else r
    elementwise(ctx, op, fn)
