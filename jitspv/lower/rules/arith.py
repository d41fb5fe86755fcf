"""arith.* and math.* ops: elementwise, registered from tables, a line each."""
from __future__ import annotations

from jitspv.lower.registry import register
from jitspv.lower.ttir_access import attr
from jitspv.lower.rules.common import elementwise
from jitspv.lower.spirv.grammar import Op, GLSL, Decoration

# ---- ops that map to one SPIR-V instruction -------------------------------------------------
_SIMPLE = {
    "arith.addi": Op.IAdd, "arith.subi": Op.ISub, "arith.muli": Op.IMul,
    "arith.divsi": Op.SDiv, "arith.divui": Op.UDiv, "arith.remui": Op.UMod,
    "arith.shli": Op.ShiftLeftLogical, "arith.shrsi": Op.ShiftRightArithmetic,
    "arith.shrui": Op.ShiftRightLogical,
    "arith.addf": Op.FAdd, "arith.subf": Op.FSub, "arith.mulf": Op.FMul, "arith.divf": Op.FDiv,
    "arith.remf": Op.FRem, "arith.negf": Op.FNegate,
    "arith.fptosi": Op.ConvertFToS, "arith.fptoui": Op.ConvertFToU,
    "arith.extf": Op.FConvert, "arith.truncf": Op.FConvert, "arith.bitcast": Op.Bitcast,
    "tt.bitcast": Op.Bitcast, "tt.precise_divf": Op.FDiv,
}
_CONTRACTIBLE = {Op.FAdd, Op.FSub, Op.FMul}

_GLSL = {
    "math.exp": GLSL.Exp, "math.exp2": GLSL.Exp2, "math.log": GLSL.Log, "math.log2": GLSL.Log2,
    "math.sqrt": GLSL.Sqrt, "tt.precise_sqrt": GLSL.Sqrt, "math.rsqrt": GLSL.InverseSqrt,
    "math.sin": GLSL.Sin, "math.cos": GLSL.Cos, "math.tan": GLSL.Tan, "math.tanh": GLSL.Tanh,
    "math.floor": GLSL.Floor, "math.ceil": GLSL.Ceil, "math.absf": GLSL.FAbs, "math.absi": GLSL.SAbs,
    "math.fma": GLSL.Fma, "math.round": GLSL.Round, "math.roundeven": GLSL.RoundEven,
    "math.trunc": GLSL.Trunc, "math.atan": GLSL.Atan, "math.asin": GLSL.Asin, "math.acos": GLSL.Acos,
    "math.sinh": GLSL.Sinh, "math.cosh": GLSL.Cosh, "math.atan2": GLSL.Atan2, "math.powf": GLSL.Pow,
    "arith.maxsi": GLSL.SMax, "arith.minsi": GLSL.SMin, "arith.maxui": GLSL.UMax, "arith.minui": GLSL.UMin,
    # maxnumf/minnumf return the non-NaN operand: GLSL's NMax/NMin.
    "arith.maxnumf": GLSL.NMax, "arith.minnumf": GLSL.NMin,
}

_BOOL_BITWISE = {"arith.andi": Op.LogicalAnd, "arith.ori": Op.LogicalOr, "arith.xori": Op.LogicalNotEqual}
_INT_BITWISE = {"arith.andi": Op.BitwiseAnd, "arith.ori": Op.BitwiseOr, "arith.xori": Op.BitwiseXor}

_CMPI = {"eq": Op.IEqual, "ne": Op.INotEqual, "slt": Op.SLessThan, "sle": Op.SLessThanEqual,
         "sgt": Op.SGreaterThan, "sge": Op.SGreaterThanEqual, "ult": Op.ULessThan,
         "ule": Op.ULessThanEqual, "ugt": Op.UGreaterThan, "uge": Op.UGreaterThanEqual}
_CMPI_BOOL = {"eq": Op.LogicalEqual, "ne": Op.LogicalNotEqual}
_CMPF = {"oeq": Op.FOrdEqual, "ogt": Op.FOrdGreaterThan, "oge": Op.FOrdGreaterThanEqual,
         "olt": Op.FOrdLessThan, "ole": Op.FOrdLessThanEqual, "one": Op.FOrdNotEqual,
         "ueq": Op.FUnordEqual, "ugt": Op.FUnordGreaterThan, "uge": Op.FUnordGreaterThanEqual,
         "ult": Op.FUnordLessThan, "ule": Op.FUnordLessThanEqual, "une": Op.FUnordNotEqual}


def _simple_rule(spv_op):
    def rule(ctx, op):
        contract = spv_op in _CONTRACTIBLE and not ctx.fp_fusion

        def fn(rtype, *xs):
            r = ctx.emit(spv_op, rtype, *xs)
            if contract:
                ctx.m.decorate(r, Decoration.NoContraction)
            return r
        elementwise(ctx, op, fn)
    return rule


def _glsl_rule(inst):
    def rule(ctx, op):
        elementwise(ctx, op, lambda rtype, *xs: ctx.f.glsl(rtype, inst, *xs))
    return rule


for _name, _op in _SIMPLE.items():
    register(_name)(_simple_rule(_op))
for _name, _inst in _GLSL.items():
    register(_name)(_glsl_rule(_inst))


def _operand_is_bool(ctx, op, i=0):
    return ctx.m.type_info(ctx.stype(op.operands[i].type)).kind == "bool"


@register("arith.andi", "arith.ori", "arith.xori")
def _bitwise(ctx, op):
    table = _BOOL_BITWISE if _operand_is_bool(ctx, op) else _INT_BITWISE
    elementwise(ctx, op, lambda rtype, a, b: ctx.emit(table[op.name], rtype, a, b))


@register("arith.cmpi")
def _cmpi(ctx, op):
    pred = attr(op, "predicate")
    if _operand_is_bool(ctx, op):
        if pred in _CMPI_BOOL:
            spv = _CMPI_BOOL[pred]
            elementwise(ctx, op, lambda rtype, a, b: ctx.emit(spv, rtype, a, b))
            return
        # Order on i1 as integers: signed true = -1 < false = 0, unsigned false = 0 < true = 1.
        def widen(x):
            return ctx.emit(Op.Select, ctx.t_u32, x, ctx.u32(-1 if pred[0] == "s" else 1), ctx.u32(0))
        spv = _CMPI[pred]
        elementwise(ctx, op, lambda rtype, a, b: ctx.emit(spv, rtype, widen(a), widen(b)))
        return
    spv = _CMPI[pred]
    elementwise(ctx, op, lambda rtype, a, b: ctx.emit(spv, rtype, a, b))


@register("arith.cmpf")
def _cmpf(ctx, op):
    pred = attr(op, "predicate")
    if pred in _CMPF:
        spv = _CMPF[pred]
        elementwise(ctx, op, lambda rtype, a, b: ctx.emit(spv, rtype, a, b))
        return

    def unordered(rtype, a, b):
        return ctx.emit(Op.LogicalOr, rtype, ctx.emit(Op.IsNan, rtype, a), ctx.emit(Op.IsNan, rtype, b))
    if pred == "uno":
        elementwise(ctx, op, unordered)
    elif pred == "ord":
        elementwise(ctx, op, lambda rtype, a, b: ctx.emit(Op.LogicalNot, rtype, unordered(rtype, a, b)))
    elif pred in ("true", "false"):
        elementwise(ctx, op, lambda rtype, a, b: ctx.m.const(rtype, pred == "true"))
    else:
        ctx.error(f"arith.cmpf predicate '{pred}' is not supported")


@register("arith.select")
def _select(ctx, op):
    elementwise(ctx, op, lambda rtype, c, a, b: ctx.emit(Op.Select, rtype, c, a, b))


@register("arith.maximumf", "arith.minimumf")
def _nan_propagating_minmax(ctx, op):
    inst = GLSL.FMax if op.name == "arith.maximumf" else GLSL.FMin

    def fn(rtype, a, b):
        r = ctx.f.glsl(rtype, inst, a, b)
        bool_t = ctx.t_bool
        nan = ctx.emit(Op.LogicalOr, bool_t, ctx.emit(Op.IsNan, bool_t, a), ctx.emit(Op.IsNan, bool_t, b))
        return ctx.emit(Op.Select, rtype, nan, ctx.emit(Op.FAdd, rtype, a, b), r)
    elementwise(ctx, op, fn)


@register("arith.remsi")
def _remsi(ctx, op):
    # NVIDIA's Vulkan compiler gets 64-bit OpSRem wrong for negative operands: a - (a / b) * b
    # (OpSDiv truncates toward zero, so this is the C remainder) is right everywhere.
    def fn(rtype, a, b):
        if ctx.m.type_info(rtype).width == 64:
            q = ctx.emit(Op.SDiv, rtype, a, b)
            return ctx.emit(Op.ISub, rtype, a, ctx.emit(Op.IMul, rtype, q, b))
        return ctx.emit(Op.SRem, rtype, a, b)
    elementwise(ctx, op, fn)


def _bool_to_int(ctx, rtype, x, true_value):
    return ctx.emit(Op.Select, rtype, x, ctx.const(rtype, true_value), ctx.const(rtype, 0))


@register("arith.extsi", "arith.extui")
def _ext(ctx, op):
    src_bool = _operand_is_bool(ctx, op)
    spv = Op.SConvert if op.name == "arith.extsi" else Op.UConvert

    def fn(rtype, x):
        if src_bool:
            return _bool_to_int(ctx, rtype, x, -1 if op.name == "arith.extsi" else 1)
        return ctx.emit(spv, rtype, x)
    elementwise(ctx, op, fn)


@register("arith.trunci")
def _trunci(ctx, op):
    src = ctx.stype(op.operands[0].type)

    def fn(rtype, x):
        if ctx.m.type_info(rtype).kind == "bool":
            low = ctx.emit(Op.BitwiseAnd, src, x, ctx.const(src, 1))
            return ctx.emit(Op.INotEqual, rtype, low, ctx.const(src, 0))
        return ctx.emit(Op.UConvert, rtype, x)
    elementwise(ctx, op, fn)


@register("arith.sitofp", "arith.uitofp")
def _itofp(ctx, op):
    src_bool = _operand_is_bool(ctx, op)
    spv = Op.ConvertSToF if op.name == "arith.sitofp" else Op.ConvertUToF

    def fn(rtype, x):
        if src_bool:
            one = -1.0 if op.name == "arith.sitofp" else 1.0
            return ctx.emit(Op.Select, rtype, x, ctx.m.const(rtype, one), ctx.m.const(rtype, 0.0))
        return ctx.emit(spv, rtype, x)
    elementwise(ctx, op, fn)


@register("arith.constant")
def _constant(ctx, op):
    res = op.results[0]
    value = attr(op, "value")
    rtype = ctx.stype(res.type)
    if isinstance(value, (list, tuple)):   # non-splat dense tensor: one constant per element
        enc = ctx.encoding_of(res)
        lay = ctx.make(res, [], enc).layout
        shape = tuple(res.type.shape)
        flat = list(value)
        strides = [1] * len(shape)
        for d in range(len(shape) - 2, -1, -1):
            strides[d] = strides[d + 1] * shape[d + 1]
        # Coordinates depend on the invocation: select per register from a small table is
        # costly; only uniform-per-register tensors (no thread terms) are cheap and supported.
        if any(lay.terms[d] for d in range(len(shape))):
            ctx.error("non-splat dense tensor constants spread over invocations are not supported yet")
        regs = [ctx.const(rtype, flat[sum(o * s for o, s in zip(r, strides))]) for r in lay.regs]
        ctx.set(res, ctx.make(res, regs, enc))
        return
    c = ctx.const(rtype, value)
    if res.type.is_tensor:
        enc = ctx.encoding_of(res)
        lay = ctx.make(res, [], enc).layout
        ctx.set(res, ctx.make(res, [c] * len(lay.regs), enc))
    else:
        ctx.set(res, c)


@register("math.erf")
def _erf(ctx, op):
    # |x| < 0.5: Taylor series (keeps the relative error small near 0, where 1 - erfc cancels);
    # otherwise 1 - erfc(|x|) with Numerical Recipes' erfc (relative error < 1.2e-7), sign restored.
    coeffs = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
              0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277]
    taylor = [1.0, -1.0 / 3, 1.0 / 10, -1.0 / 42, 1.0 / 216, -1.0 / 1320]

    def fn(rtype, x):
        e, fma = ctx.emit, (lambda a, b, c: ctx.f.glsl(rtype, GLSL.Fma, a, b, c))
        c = lambda v: ctx.m.const(rtype, v)  # noqa: E731
        ax = ctx.f.glsl(rtype, GLSL.FAbs, x)
        t = e(Op.FDiv, rtype, c(1.0), fma(c(0.5), ax, c(1.0)))
        p = c(coeffs[-1])
        for k in reversed(coeffs[:-1]):
            p = fma(p, t, c(k))
        erfc = e(Op.FMul, rtype, t, ctx.f.glsl(rtype, GLSL.Exp, e(Op.FSub, rtype, p, e(Op.FMul, rtype, ax, ax))))
        big = e(Op.FSub, rtype, c(1.0), erfc)
        big = e(Op.Select, rtype, e(Op.FOrdLessThan, ctx.t_bool, x, c(0.0)), e(Op.FNegate, rtype, big), big)
        x2 = e(Op.FMul, rtype, x, x)
        s = c(taylor[-1])
        for k in reversed(taylor[:-1]):
            s = fma(s, x2, c(k))
        small = e(Op.FMul, rtype, e(Op.FMul, rtype, x, c(1.1283791670955126)), s)
        return e(Op.Select, rtype, e(Op.FOrdLessThan, ctx.t_bool, ax, c(0.5)), small, big)
    elementwise(ctx, op, fn)
