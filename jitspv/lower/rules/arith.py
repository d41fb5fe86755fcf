"""arith.* and math.* ops: elementwise, registered from tables, a line each."""
from __future__ import annotations

from jitspv.lower.registry import register
from jitspv.lower.ttir_access import attr, type_name
from jitspv.lower.fp8 import FP8_FORMATS, fp8_code, fp8_value, is_fp8, round_fp8, round_value
from jitspv.lower.rules.common import elementwise, round_bf16
from jitspv.lower.spirv.grammar import Op, GLSL, Decoration

# ---- ops that map to one SPIR-V instruction -------------------------------------------------
_SIMPLE = {
    "arith.addi": Op.IAdd, "arith.subi": Op.ISub, "arith.muli": Op.IMul,
    "arith.divsi": Op.SDiv, "arith.divui": Op.UDiv, "arith.remui": Op.UMod,
    "arith.addf": Op.FAdd, "arith.subf": Op.FSub, "arith.mulf": Op.FMul, "arith.divf": Op.FDiv,
    "arith.negf": Op.FNegate,
}
_CONTRACTIBLE = {Op.FAdd, Op.FSub, Op.FMul}
# Integer ops that read an i1 `true` as 1; the others read it as -1 (LLVM's i1, what Triton's CUDA
# backend computes with).
_UNSIGNED = {"arith.divui", "arith.remui", "arith.maxui", "arith.minui", "arith.shrui"}

_GLSL = {
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


def _wrapping(ctx, op, fn):
    """`elementwise` for integer arithmetic. i1 is a 1-bit integer whose results wrap mod 2 (SPIR-V
    has no arithmetic on OpTypeBool): its operands are widened to u32 (true is -1, or 1 for an
    unsigned op), `fn` runs at that width and the low bit is kept, as arith.trunci would. 4
    instructions more per i1 element; other types go straight through."""
    if not _operand_is_bool(ctx, op):
        elementwise(ctx, op, fn)
        return
    u32, true = ctx.t_u32, 1 if op.name in _UNSIGNED else -1

    def on_u32(rtype, *xs):
        r = fn(u32, *(_bool_to_int(ctx, u32, x, true) for x in xs))
        return ctx.emit(Op.INotEqual, rtype, ctx.emit(Op.BitwiseAnd, u32, r, ctx.u32(1)), ctx.u32(0))
    elementwise(ctx, op, on_u32)


def _simple_rule(spv_op):
    def rule(ctx, op):
        contract = spv_op in _CONTRACTIBLE and not ctx.fp_fusion

        def fn(rtype, *xs):
            r = ctx.emit(spv_op, rtype, *xs)
            if contract:
                ctx.m.decorate(r, Decoration.NoContraction)
            return r
        _wrapping(ctx, op, fn)
    return rule


def _glsl_rule(inst):
    def rule(ctx, op):
        _wrapping(ctx, op, lambda rtype, *xs: ctx.f.glsl(rtype, inst, *xs))
    return rule


for _name, _op in _SIMPLE.items():
    register(_name)(_simple_rule(_op))
for _name, _inst in _GLSL.items():
    register(_name)(_glsl_rule(_inst))


@register("arith.remf")
def _remf(ctx, op):
    # C fmod: the sign of x, |r| < |y|. NVIDIA's OpFRem divides approximately, so where x is an
    # exact multiple of y (common with bf16/f16 operands) its truncated quotient can be one short
    # and r comes out as y. OpFRem on the magnitudes, then one step of ay back into [0, ay) (exact:
    # r and r -+ ay are multiples of the operands' ulp below 2*ay), then x's sign; fmod(x, inf) = x;
    # NaN where x is infinite or NaN or y is 0 or NaN (OpFRem's result by 0 is undefined: lavapipe
    # gives 0 for fp64 on some CPUs). 15 instructions more than OpFRem.
    b = ctx.t_bool

    def fn(rtype, x, y):
        ax, ay = ctx.f.glsl(rtype, GLSL.FAbs, x), ctx.f.glsl(rtype, GLSL.FAbs, y)
        defined = ctx.emit(Op.LogicalAnd, b, ctx.emit(Op.FOrdLessThan, b, ax, ctx.m.const(rtype, float("inf"))),
                           ctx.emit(Op.FOrdGreaterThan, b, ay, ctx.m.const(rtype, 0.0)))
        r = ctx.emit(Op.FRem, rtype, ax, ay)
        r = ctx.emit(Op.Select, rtype, ctx.emit(Op.FOrdGreaterThanEqual, b, r, ay), ctx.emit(Op.FSub, rtype, r, ay), r)
        r = ctx.emit(Op.Select, rtype, ctx.emit(Op.FOrdLessThan, b, r, ctx.m.const(rtype, 0.0)),
                     ctx.emit(Op.FAdd, rtype, r, ay), r)
        ut = _float_bits(ctx, rtype)
        sign = ctx.emit(Op.BitwiseXor, ut, ctx.emit(Op.Bitcast, ut, x), ctx.emit(Op.Bitcast, ut, ax))
        r = ctx.emit(Op.Bitcast, rtype, ctx.emit(Op.BitwiseOr, ut, ctx.emit(Op.Bitcast, ut, r), sign))
        r = ctx.emit(Op.Select, rtype, defined, r, ctx.m.const(rtype, float("nan")))
        finite_x = ctx.emit(Op.LogicalNot, b, ctx.emit(Op.IsInf, b, x))
        keep_x = ctx.emit(Op.LogicalAnd, b, ctx.emit(Op.IsInf, b, y), finite_x)
        return ctx.emit(Op.Select, rtype, keep_x, x, r)
    elementwise(ctx, op, fn)


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
    # NVIDIA's Vulkan compiler gets OpSRem wrong for negative operands (64-bit as reported, and
    # 8/16/32-bit as measured on an H100 with driver 580): a - (a / b) * b (OpSDiv truncates toward
    # zero, so this is the C remainder Triton defines) is right everywhere.
    def fn(rtype, a, b):
        q = ctx.emit(Op.SDiv, rtype, a, b)
        return ctx.emit(Op.ISub, rtype, a, ctx.emit(Op.IMul, rtype, q, b))
    _wrapping(ctx, op, fn)


def _bool_to_int(ctx, rtype, x, true_value):
    return ctx.emit(Op.Select, rtype, x, ctx.const(rtype, true_value), ctx.const(rtype, 0))


@register("arith.extsi", "arith.extui")
def _ext(ctx, op):
    src_bool = _operand_is_bool(ctx, op)
    signed = op.name == "arith.extsi"
    src_width = ctx.m.type_info(ctx.stype(op.operands[0].type)).width

    def fn(rtype, x):
        if src_bool:
            return _bool_to_int(ctx, rtype, x, -1 if signed else 1)
        if signed and src_width == 32 and ctx.m.type_info(rtype).width == 64:
            return _sign_extend_32_to_64(ctx, rtype, x)
        return ctx.emit(Op.SConvert if signed else Op.UConvert, rtype, x)
    elementwise(ctx, op, fn)


def _sign_extend_32_to_64(ctx, rtype, x):
    """Zero extension, then the sign bit shifted in: lavapipe of Mesa 22.3 (LLVM 15) compares an
    OpSConvert i32 -> i64 result with a constant wrongly (`sext(x) < 3` false for every x, `> 3`
    true), which is every tensor descriptor's bounds mask once Triton rewrites it into pointers
    (offsets extended to i64, compared with the shape). Two instructions more."""
    thirty_two = ctx.const(rtype, 32)
    high = ctx.emit(Op.ShiftLeftLogical, rtype, ctx.emit(Op.UConvert, rtype, x), thirty_two)
    return ctx.emit(Op.ShiftRightArithmetic, rtype, high, thirty_two)


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
    if is_fp8(type_name(res.type)):   # held as the f32 value of the fp8 number nearest it
        fmt = FP8_FORMATS[type_name(res.type)]
        value = [round_value(fmt, float(v)) for v in value] if isinstance(value, (list, tuple)) \
            else round_value(fmt, float(value))
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


@register("ub.poison")
def _poison(ctx, op):
    # Any value will do (Triton returns one where a function falls off its end without a return):
    # zero, which reads the same in every invocation.
    res = op.results[0]
    zero = ctx.m.const_null(ctx.stype(res.type))
    if res.type.is_tensor:
        ctx.set(res, ctx.make(res, [zero] * len(ctx.make(res, []).layout.regs)))
    else:
        ctx.set(res, zero)


@register("arith.shli", "arith.shrui", "arith.shrsi")
def _shift(ctx, op):
    # SPIR-V leaves shifts by >= the width undefined; PTX (what Triton runs on) clamps the
    # amount: shl/shr.u give 0, shr.s fills with the sign bit. 2 extra instructions.
    def fn(rtype, x, s):
        width = ctx.m.type_info(rtype).width
        w = ctx.const(rtype, width)
        if op.name == "arith.shrsi":
            return ctx.emit(Op.ShiftRightArithmetic, rtype, x, ctx.f.glsl(rtype, GLSL.UMin, s, ctx.const(rtype, width - 1)))
        spv = Op.ShiftLeftLogical if op.name == "arith.shli" else Op.ShiftRightLogical
        big = ctx.emit(Op.UGreaterThanEqual, ctx.t_bool, s, w)
        return ctx.emit(Op.Select, rtype, big, ctx.const(rtype, 0), ctx.emit(spv, rtype, x, s))
    _wrapping(ctx, op, fn)


def _float_const(ctx, ftype, value):
    """`value` as a float constant of ftype, inf where it exceeds ftype's range (fp16)."""
    if ctx.m.type_info(ftype).width == 16 and abs(value) > 65504:
        value = float("inf") if value > 0 else float("-inf")
    return ctx.m.const(ftype, float(value))


@register("arith.fptosi", "arith.fptoui")
def _fptoi(ctx, op):
    # SPIR-V leaves out-of-range conversions undefined; Triton on NVIDIA (cvt.rzi) saturates and
    # maps NaN to 0. 3 compares + 3 selects.
    signed = op.name == "arith.fptosi"
    src = ctx.stype(op.operands[0].type)
    spv = Op.ConvertFToS if signed else Op.ConvertFToU

    def fn(rtype, x):
        info = ctx.m.type_info(rtype)
        if info.kind == "bool":
            ctx.error(f"{op.name} to i1 is not supported")
        w = info.width
        lo, hi = (-(1 << (w - 1)), (1 << (w - 1)) - 1) if signed else (0, (1 << w) - 1)
        b = ctx.t_bool
        r = ctx.emit(spv, rtype, x)
        over = ctx.emit(Op.FOrdGreaterThanEqual, b, x, _float_const(ctx, src, hi + 1))
        r = ctx.emit(Op.Select, rtype, over, ctx.const(rtype, hi), r)
        under = ctx.emit(Op.FOrdLessThan, b, x, _float_const(ctx, src, lo))
        r = ctx.emit(Op.Select, rtype, under, ctx.const(rtype, lo), r)
        return ctx.emit(Op.Select, rtype, ctx.emit(Op.IsNan, b, x), ctx.const(rtype, 0), r)
    elementwise(ctx, op, fn)


def _float_bits(ctx, t):
    return ctx.m.type_int(ctx.m.type_info(t).width, False)


_FLOAT_FIELDS = {16: (5, 10), 32: (8, 23), 64: (11, 52)}   # width: (exponent bits, mantissa bits)


def _toward_zero(ctx, x, dst):
    """x rounded toward zero to the narrower float type dst, and whether that was inexact.
    Done on the bit pattern: NVIDIA's compiler folds the round trip f32 -> f16 -> f32 to x, so
    comparing a float conversion with its input cannot detect the rounding direction there.
    Finite values beyond dst's range give its largest finite value, infinities stay, NaN gives
    a quiet NaN, dst subnormals are exact. About 20 instructions."""
    b = ctx.t_bool
    src = ctx.m.type_of(x)
    ws, wd = ctx.m.type_info(src).width, ctx.m.type_info(dst).width
    (es, ms), (ed, md) = _FLOAT_FIELDS[ws], _FLOAT_FIELDS[wd]
    us, ud = _float_bits(ctx, src), _float_bits(ctx, dst)
    c = lambda v: ctx.const(us, v)  # noqa: E731
    rebias = ((1 << (es - 1)) - (1 << (ed - 1))) << ms
    cut = ms - md
    bits = ctx.emit(Op.Bitcast, us, x)
    a = ctx.emit(Op.BitwiseAnd, us, bits, c((1 << (ws - 1)) - 1))
    # dst normal range: rebias the exponent, drop the low mantissa bits
    normal = ctx.emit(Op.ShiftRightLogical, us, ctx.emit(Op.ISub, us, a, c(rebias)), c(cut))
    # dst subnormal range: |x| in units of dst's smallest subnormal, truncated (the scaling is exact)
    scaled = ctx.emit(Op.FMul, src, ctx.f.glsl(src, GLSL.FAbs, x), ctx.m.const(src, 2.0 ** ((1 << (ed - 1)) - 2 + md)))
    sub = ctx.emit(Op.ConvertFToU, us, scaled)
    is_sub = ctx.emit(Op.ULessThan, b, a, c(rebias + (1 << ms)))
    h = ctx.emit(Op.Select, us, is_sub, sub, normal)
    inf_s, inf_d = ((1 << es) - 1) << ms, ((1 << ed) - 1) << md
    max_s = rebias + (((1 << ed) - 2) << ms) + (((1 << md) - 1) << cut)
    h = ctx.emit(Op.Select, us, ctx.emit(Op.UGreaterThanEqual, b, a, c(max_s)), c(inf_d - 1), h)
    h = ctx.emit(Op.Select, us, ctx.emit(Op.IEqual, b, a, c(inf_s)), c(inf_d), h)
    h = ctx.emit(Op.Select, us, ctx.emit(Op.UGreaterThan, b, a, c(inf_s)), c(inf_d | (1 << (md - 1))), h)
    sign = ctx.emit(Op.ShiftRightLogical, us, ctx.emit(Op.BitwiseXor, us, bits, a), c(ws - wd))
    h = ctx.emit(Op.UConvert, ud, ctx.emit(Op.BitwiseOr, us, h, sign))
    low = ctx.emit(Op.INotEqual, b, ctx.emit(Op.BitwiseAnd, us, a, c((1 << cut) - 1)), c(0))
    sub_inexact = ctx.emit(Op.FOrdNotEqual, b, scaled, ctx.emit(Op.ConvertUToF, src, sub))
    return ctx.emit(Op.Bitcast, dst, h), ctx.emit(Op.Select, b, is_sub, sub_inexact, low)


def _f64_to_f32_odd(ctx, x):
    """fp64 -> fp32 rounded to odd (toward zero, then the last bit set where inexact), so that a
    further rounding to bf16 rounds once, as a direct fp64 -> bf16 rounding would."""
    f, inexact = _toward_zero(ctx, x, ctx.t_f32)
    u = ctx.t_u32
    odd = ctx.emit(Op.Bitcast, ctx.t_f32, ctx.emit(Op.BitwiseOr, u, ctx.emit(Op.Bitcast, u, f), ctx.u32(1)))
    return ctx.emit(Op.Select, ctx.t_f32, inexact, odd, f)


def _fp_cast(ctx, x, src_name, dst_name, rtype, rtz=False):
    """Float -> float conversion between TTIR types (bf16 and fp8 live in f32 registers)."""
    if src_name == dst_name:
        return x
    if is_fp8(src_name):   # its f32 register holds the value exactly
        src_name = "f32"
    if is_fp8(dst_name):
        if src_name == "f64":   # to odd first: the rounding to fp8 is then the only one
            f = _f64_to_f32_odd(ctx, x) if not rtz else _toward_zero(ctx, x, ctx.t_f32)[0]
        else:
            f = ctx.emit(Op.FConvert, ctx.t_f32, x) if src_name == "f16" else x
        return round_fp8(ctx, f, dst_name, rtz)
    if src_name == dst_name:
        return x
    widths = {"f16": 16, "bf16": 16, "f32": 32, "f64": 64}
    if dst_name == "bf16":
        if src_name == "f64":
            f = _f64_to_f32_odd(ctx, x) if not rtz else _toward_zero(ctx, x, ctx.t_f32)[0]
        elif src_name == "f16":
            f = ctx.emit(Op.FConvert, ctx.t_f32, x)
        else:
            f = x
        if not rtz:
            return round_bf16(ctx, f)
        u = ctx.t_u32
        cut = ctx.emit(Op.Bitcast, ctx.t_f32, ctx.emit(Op.BitwiseAnd, u, ctx.emit(Op.Bitcast, u, f), ctx.u32(0xFFFF0000)))
        return ctx.emit(Op.Select, ctx.t_f32, ctx.emit(Op.IsNan, ctx.t_bool, f), f, cut)
    if src_name == "bf16" and dst_name == "f32":
        return x
    if rtz and widths[dst_name] < widths[src_name]:
        return _toward_zero(ctx, x, rtype)[0]
    return ctx.emit(Op.FConvert, rtype, x)


@register("arith.extf", "arith.truncf")
def _extf_truncf(ctx, op):
    src, dst = type_name(op.operands[0].type), type_name(op.results[0].type)
    elementwise(ctx, op, lambda rtype, x: _fp_cast(ctx, x, src, dst, rtype))


@register("tt.fp_to_fp")
def _fp_to_fp(ctx, op):
    src, dst = type_name(op.operands[0].type), type_name(op.results[0].type)
    for name in (src, dst):
        if name not in ("f16", "bf16", "f32", "f64") and not is_fp8(name):
            ctx.error(f"jitspv does not support conversions with {name} (fp8: fp8e4nv and fp8e5 only)")
    rtz = attr(op, "rounding", "rtne") == "rtz"
    elementwise(ctx, op, lambda rtype, x: _fp_cast(ctx, x, src, dst, rtype, rtz))


@register("arith.bitcast", "tt.bitcast")
def _bitcast(ctx, op):
    src, dst = type_name(op.operands[0].type), type_name(op.results[0].type)
    src_t = ctx.stype(op.operands[0].type)

    def fn(rtype, x):
        if is_fp8(src) or is_fp8(dst):   # through the code (fp8 registers hold values)
            code = fp8_code(ctx, x, src) if is_fp8(src) else ctx.emit(Op.UConvert, ctx.t_u32, x)
            return fp8_value(ctx, code, dst) if is_fp8(dst) else ctx.emit(Op.UConvert, rtype, code)
        if src_t == rtype:
            return x
        u = ctx.t_u32
        if src == "bf16":   # f32 register holding a bf16 value: its high half is the bf16 bits
            bits = ctx.emit(Op.ShiftRightLogical, u, ctx.emit(Op.Bitcast, u, x), ctx.u32(16))
            bits = ctx.emit(Op.UConvert, ctx.m.type_int(16, False), bits)
            return bits if ctx.m.type_info(rtype).kind == "int" else ctx.emit(Op.Bitcast, rtype, bits)
        if dst == "bf16":
            if ctx.m.type_info(src_t).kind != "int":
                x = ctx.emit(Op.Bitcast, ctx.m.type_int(16, False), x)
            wide = ctx.emit(Op.ShiftLeftLogical, u, ctx.emit(Op.UConvert, u, x), ctx.u32(16))
            return ctx.emit(Op.Bitcast, rtype, wide)
        return ctx.emit(Op.Bitcast, rtype, x)
    elementwise(ctx, op, fn)
