"""Math functions: math.* ops, tt.precise_sqrt/precise_divf, tt.clampf, tt.mulhiui and
tt.extern_elementwise's libdevice symbols (`__nv_expf`, `__nv_pow`, ...), all from one table of
functions by name (FUNCS).

Precision. fp32 exp, exp2, exp10, log, log2, log10, log1p, expm1, tanh, sin, cos, tan, pow, erf,
asin, acos, atan, atan2, sinh, cosh, asinh, acosh and atanh are our own sequences (range reduction +
float32 minimax polynomials in FMA form, double-floats where a rounding would cost an ulp;
coefficients from tools/math_coeffs.py), each within ~1-2 ulp (bounds measured on lavapipe, stated
per function, checked by tests/test_lower_arith.py), like Triton's libdevice; cbrt refines the
device's Pow with a Newton step (0.95 ulp). The GLSL.std.450 instructions are not used for them:
Vulkan promises little (exp: 3 + 2|x| ulp, log: 3 ulp outside [0.5, 2] and 2^-21 absolute inside,
sin/cos: 2^-11 absolute) and NVIDIA maps them to its approximate hardware units; lavapipe's asinh,
acosh and atanh are the textbook logarithms (0 below 3e-8, inf from 2e19) and its tan was 62 ulp
off. They remain behind libdevice's `fast_*` functions. fp16 computes in fp32 and rounds once.
fp64 (GLSL.std.450 has no 64-bit transcendentals) uses fdlibm's algorithms and coefficients with
double-double steps that need no fused Fma: exp, exp2, exp10, expm1, log, log1p, sin, cos, erf, pow,
sinh, cosh, tanh, cbrt, asin, acos, atan, atan2 within 1 ulp (atan2 takes the rounding error of
y / x in exactly), tan and the inverse hyperbolics 1.6 ulp, log2/log10 2 ulp (measured on lavapipe
against mpmath, stated per function); only the fast_* functions (the device's fp32 instructions)
are refused on fp64 rather than computed in fp32. Results in the subnormal range may be flushed to
zero by the device (Vulkan leaves it to the driver).
tt.precise_divf / div_rn is correctly rounded (fp32: two Newton steps on a refined reciprocal; fp64:
one step on the device's quotient) and tt.precise_sqrt / sqrt_rn refined with one step, both with
exact residuals from Dekker products.
"""
from __future__ import annotations

from jitspv.lower.registry import register
from jitspv.lower.ttir_access import attr, type_name
from jitspv.lower.rules.common import elementwise
from jitspv.lower.spirv.grammar import Op, GLSL, Decoration


class _Emit:
    """Shorthands for one scalar computation of register type `t`."""

    def __init__(self, ctx, t):
        self.ctx, self.t = ctx, t
        self.info = ctx.m.type_info(t)
        self.t_bool = ctx.t_bool

    def op(self, spv, *xs, t=None):
        return self.ctx.emit(spv, self.t if t is None else t, *xs)

    def glsl(self, inst, *xs, t=None):
        return self.ctx.f.glsl(self.t if t is None else t, inst, *xs)

    def const(self, v, t=None):
        return self.ctx.const(self.t if t is None else t, v)

    def sel(self, cond, a, b, t=None):
        return self.op(Op.Select, cond, a, b, t=t)

    def fma(self, a, b, c):
        r = self.glsl(GLSL.Fma, a, b, c)
        self.ctx.m.decorate(r, Decoration.NoContraction)
        return r

    def exact(self, spv, *xs, t=None):
        """An arithmetic op the driver must not contract or reassociate (error-free sequences)."""
        r = self.op(spv, *xs, t=t)
        self.ctx.m.decorate(r, Decoration.NoContraction)
        return r

    def poly(self, x, coeffs):
        """Horner in FMA form, coefficients low degree first."""
        p = self.const(coeffs[-1])
        for k in reversed(coeffs[:-1]):
            p = self.fma(p, x, self.const(k))
        return p

    def ucast(self, x):
        return self.op(Op.Bitcast, x, t=self.ctx.t_u32)

    def fcast(self, x):
        return self.op(Op.Bitcast, x, t=self.ctx.t_f32)

    def lt(self, a, b):
        return self.op(Op.FOrdLessThan, a, b, t=self.t_bool)

    def eq(self, a, b):
        return self.op(Op.FOrdEqual, a, b, t=self.t_bool)

    def isnan(self, x):
        return self.op(Op.IsNan, x, t=self.t_bool)

    def finite(self, x):
        bad = self.op(Op.LogicalOr, self.isnan(x), self.op(Op.IsInf, x, t=self.t_bool), t=self.t_bool)
        return self.op(Op.LogicalNot, bad, t=self.t_bool)

    def uint(self):
        return self.ctx.m.type_int(self.info.width, False)


# ---- function bodies: fn(e, *xs) with e an _Emit of the result's register type ----------------
def _glsl32(inst):
    """A transcendental GLSL.std.450 instruction (the fast_* functions): 16/32-bit only; fp16 goes
    through fp32; fp64 is refused."""
    def fn(e, *xs):
        if e.info.width == 64:
            e.ctx.error("jitspv does not support this math function on fp64 "
                        "(GLSL.std.450 has no 64-bit transcendentals)")
        if e.info.width == 16:
            f32 = e.ctx.t_f32
            wide = [e.op(Op.FConvert, x, t=f32) for x in xs]
            return e.op(Op.FConvert, e.glsl(inst, *wide, t=f32))
        return e.glsl(inst, *xs)
    return fn


def _glsl(inst):
    return lambda e, *xs: e.glsl(inst, *xs)


# ---- accurate fp32 sequences (coefficients: tools/math_coeffs.py, float32, low degree first) ----
EXP2_Q = [0.6931471824645996, 0.24022649228572845, 0.05550358444452286, 0.009618442505598068,
          0.0013390366220846772, 0.00015337576041929424]                      # rel. 2^-26.6
LOG_Q = [0.3333333134651184, -0.250008225440979, 0.20001226663589478, -0.16623355448246002,
         0.14201760292053223, -0.1316019892692566, 0.12761570513248444, -0.07634443044662476]  # 2^-26.9
TANH_Q = [-0.33333316445350647, 0.1333269476890564, -0.053892724215984344, 0.021452030166983604,
          -0.007657247595489025, 0.0017369311535730958]                        # rel. 2^-26.9
SIN_Q = [-0.1666666716337204, 0.008333329111337662, -0.00019839162996504456, 2.716712060646387e-06]
COS_Q = [0.0416666679084301, -0.0013888883404433727, 2.4799295715638436e-05, -2.7192444918000547e-07]
EXP_Q = [0.4999999403953552, 0.16666515171527863, 0.04166845604777336, 0.00836941134184599,
         0.001381315873004496]                                                  # rel. 2^-27.6
ATAN_Q = [-0.33333298563957214, 0.19998548924922943, -0.14264240860939026, 0.10952180624008179,
          -0.08403436094522476, 0.057957351207733154, -0.03117760643362999, 0.010914476588368416,
          -0.0017935929354280233]                                                # rel. 2^-26.3 on [0, 1]
ASIN_Q = [0.16666631400585175, 0.07502113282680511, 0.04423029348254204, 0.03402137756347656,
          0.006714836694300175, 0.04751140624284744]                            # rel. 2^-28.2 on [0, 0.5625]
SINH_Q = [0.1666666716337204, 0.008333349600434303, 0.0001983615948120132, 2.8169513370812638e-06]  # 2^-27.5, [0, 1]
TAN_Q = [0.3333333134651184, 0.13333438336849213, 0.05395040288567543, 0.022014830261468887, 0.00821718666702509,
         0.005228880792856216, -0.0008475198410451412, 0.0021492864470928907]   # rel. 2^-31.3 on [0, 0.8]
ASINH_Q = [-0.1666664332151413, 0.0749865174293518, -0.044384513050317764, 0.02816910669207573,
           -0.013237498700618744]                                                # rel. 2^-29.2 on [0, 0.5]
ATANH_Q = [0.3333333730697632, 0.19999727606773376, 0.14294852316379547, 0.10967182368040085, 0.10282686352729797,
           0.024522027000784874, 0.17594240605831146]                            # rel. 2^-28.4 on [0, 0.5]
# Vulkan does not promise a fused Fma (lavapipe computes it as a multiply and an add), so no
# sequence here relies on FMA exactness: constants are split hi + lo with hi short enough that its
# products with the small integers met here are exact (Cody-Waite), other exact products use
# Dekker's split (_two_product). On NVIDIA Fma is fused; the results are the same.
LN2 = (0.693145751953125, 1.428606765330187e-06)          # hi: 16 bits (k has at most 8)
LOG10_2 = (0.301025390625, 4.605039066518657e-06)         # hi: 16 bits
LOG2E = (1.4423828125, 0.00031222839606925845)            # hi: 12 bits (times f's 12-bit head)
LN10 = 2.3025851249694824
PIO2_F64 = (1.5707963267341256, 6.077100506506192e-11)    # hi: 33 bits (k has at most 20)
PIO2_F32 = (1.5707963705062866, -4.371138828673793e-08)   # pi/2 = hi + lo in float32
PI_F32 = (3.1415927410125732, -8.742277657347586e-08)
# pi/2 as a sum of float32 chunks of 7 significant bits (the last one 24), largest first: k has at
# most 17 bits below SINCOS_MAX, so every k * chunk is exact (remainder of the sum ~2.7e-24).
PIO2_CHUNKS = (1.578125, -0.00732421875, -4.470348358154297e-06, 1.5832483768463135e-08,
               6.093614501878619e-11, -1.652011860642233e-13, 6.123234262925839e-17)
SINCOS_MAX = 105615.0   # |x| up to which the sequence is used (as CUDA's sinf fast path)


def _two_product(e, a, b):
    """(p, err) with p = a*b rounded and a*b = p + err exactly (Dekker; fp32 |a|, |b| < 2^115)."""
    def split(v):   # Veltkamp: 2^12 + 1 splits a float32, 2^27 + 1 a float64
        c = e.exact(Op.FMul, v, e.const(4097.0 if e.info.width == 32 else 134217729.0))
        hi = e.exact(Op.FSub, c, e.exact(Op.FSub, c, v))
        return hi, e.exact(Op.FSub, v, hi)
    p = e.exact(Op.FMul, a, b)
    (ah, al), (bh, bl) = split(a), split(b)
    err = e.exact(Op.FSub, e.exact(Op.FMul, ah, bh), p)
    err = e.exact(Op.FAdd, err, e.exact(Op.FMul, ah, bl))
    err = e.exact(Op.FAdd, err, e.exact(Op.FMul, al, bh))
    return p, e.exact(Op.FAdd, err, e.exact(Op.FMul, al, bl))


def _two_sum(e, a, b):
    """(s, err) with s = a + b rounded and a + b = s + err exactly (Knuth)."""
    s = e.exact(Op.FAdd, a, b)
    bb = e.exact(Op.FSub, s, a)
    return s, e.exact(Op.FAdd, e.exact(Op.FSub, a, e.exact(Op.FSub, s, bb)), e.exact(Op.FSub, b, bb))


def _f32(fn, f64):
    """An fp32 sequence: fp16 computes through it and rounds once; fp64 takes `f64`."""
    def wrapped(e, *xs):
        if e.info.width == 64:
            return f64(e, *xs)
        if e.info.width == 16:
            f32 = e.ctx.t_f32
            return e.op(Op.FConvert, fn(_Emit(e.ctx, f32), *[e.op(Op.FConvert, x, t=f32) for x in xs]))
        return fn(e, *xs)
    return wrapped


def _pow2i(e, n):
    """2^n as f32 for a signed int n (u32 register) in [-126, 127]."""
    return e.fcast(e.op(Op.ShiftLeftLogical, e.op(Op.IAdd, n, e.ctx.u32(127), t=e.ctx.t_u32),
                        e.ctx.u32(23), t=e.ctx.t_u32))


def _exp2_df(e, hi, lo=None, p=None):
    """2^(hi + lo), hi + lo a double-float (or, given p, p 2^hi for an integral hi).
    f = hi - round(hi) is exact; 2^f = 1 + f q(f) on [-1/2, 1/2]; 2^n is applied as two exact
    power-of-two factors so that subnormal results round once."""
    u = e.ctx.t_u32
    n = e.glsl(GLSL.RoundEven, hi)
    if p is None:
        f = e.exact(Op.FSub, hi, n)
        if lo is not None:
            f = e.exact(Op.FAdd, f, lo)
        p = e.fma(f, e.poly(f, EXP2_Q), e.const(1.0))
    ni = e.op(Op.ConvertFToS, n, t=u)
    n1 = e.op(Op.ShiftRightArithmetic, ni, e.ctx.u32(1), t=u)
    n2 = e.op(Op.ISub, ni, n1, t=u)
    r = e.exact(Op.FMul, e.exact(Op.FMul, p, _pow2i(e, n1)), _pow2i(e, n2))
    # Outside [-151, 129] the result is 0 or inf (also where hi = +-inf makes lo NaN); NaN passes.
    r = e.sel(e.op(Op.FOrdGreaterThan, hi, e.const(129.0), t=e.t_bool), e.const(float("inf")), r)
    return e.sel(e.lt(hi, e.const(-151.0)), e.const(0.0), r)


def _exp2(e, x):
    # max 1.1 ulp measured over [-150, 128] (subnormal results: exact before any device flush).
    return _exp2_df(e, x)


def _scale_exp(e, n, r):
    """2^n e^r for integral n (an f32) and |r| <= 0.35: e^r = 1 + r + r^2 q(r)."""
    p = e.exact(Op.FAdd, e.const(1.0), e.fma(e.exact(Op.FMul, r, r), e.poly(r, EXP_Q), r))
    return _exp2_df(e, n, None, p)


def _exp(e, x, halved=False):
    # Cody-Waite: n = round(x log2 e), r = x - n ln2_hi - n ln2_lo (the first product exact).
    # Max 1 ulp measured over [-104, 89]. halved: e^x / 2, finite up to x ~ 89.4 (sinh, cosh).
    n = e.glsl(GLSL.RoundEven, e.exact(Op.FMul, x, e.const(1.4426950408889634)))
    r = e.exact(Op.FSub, e.exact(Op.FSub, x, e.exact(Op.FMul, n, e.const(LN2[0]))),
                e.exact(Op.FMul, n, e.const(LN2[1])))
    big = e.op(Op.FOrdGreaterThan, e.glsl(GLSL.FAbs, x), e.const(200.0), t=e.t_bool)
    # |x| > 200: n alone decides (0 or inf); keeps n's conversion to an integer in range.
    n = e.sel(big, e.op(Op.FMul, x, e.const(1.5)), n)
    if halved:
        n = e.exact(Op.FSub, n, e.const(1.0))
    return _scale_exp(e, n, e.sel(big, e.const(0.0), r))


# fp64 exp and log: fdlibm's algorithms (e_exp.c, e_log.c) and Remez coefficients; no Fma.
EXP_P64 = [1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05,
           -1.65339022054652515390e-06, 4.13813679705723846039e-08]
LOG_LG64 = [6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
            2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
            1.479819860511658591e-01]
LN2_F64 = (6.93147180369123816490e-01, 1.90821492927058770002e-10)   # hi: 32 bits (n has at most 11)


def _pow2i_f64(e, n):
    """2^n as f64 for a signed int n (u64 register) in [-1022, 1023]."""
    u64 = e.uint()
    return e.op(Op.Bitcast, e.op(Op.ShiftLeftLogical, e.op(Op.IAdd, n, e.const(1023, u64), t=u64),
                                 e.const(52, u64), t=u64))


def _exp_f64(e, x):
    # n = round(x / ln2), r = hi - lo = x - n ln2 (n ln2_hi exact), then fdlibm's rational form
    # e^r = 1 - ((lo - r c / (2 - c)) - hi), c = r - r^2 P(r^2); 2^n in two exact factors so that
    # subnormal results round once. Max 1 ulp measured.
    y = _exp_f64_core(e, *_exp_f64_reduce(e, e.glsl(GLSL.FClamp, x, e.const(-760.0), e.const(720.0))))
    y = e.sel(e.op(Op.FOrdGreaterThan, x, e.const(709.782712893384), t=e.t_bool), e.const(float("inf")), y)
    y = e.sel(e.lt(x, e.const(-745.1332191019412)), e.const(0.0), y)
    return e.sel(e.isnan(x), x, y)


def _exp2_f64(e, x):
    # n = round(x), f = x - n (exact), f ln2 = hi - lo as a double-double (Dekker product, ln2 in
    # two parts), then exp's core. Max 1 ulp measured.
    xc = e.glsl(GLSL.FClamp, x, e.const(-1100.0), e.const(1100.0))
    n = e.glsl(GLSL.RoundEven, xc)
    f = e.exact(Op.FSub, xc, n)
    hi, err = _two_product(e, f, e.const(0.6931471805599453))
    lo = e.op(Op.FNegate, e.exact(Op.FAdd, err, e.exact(Op.FMul, f, e.const(2.3190468138462996e-17))))
    y = _exp_f64_core(e, n, hi, lo)
    y = e.sel(e.op(Op.FOrdGreaterThanEqual, x, e.const(1024.0), t=e.t_bool), e.const(float("inf")), y)
    y = e.sel(e.lt(x, e.const(-1075.0)), e.const(0.0), y)
    return e.sel(e.isnan(x), x, y)


def _exp_f64_reduce(e, x):
    """(n, hi, lo) with x = n ln2 + hi - lo, n = round(x / ln2), hi exact (n ln2_hi is)."""
    n = e.glsl(GLSL.RoundEven, e.exact(Op.FMul, x, e.const(1.4426950408889634)))
    return n, e.exact(Op.FSub, x, e.exact(Op.FMul, n, e.const(LN2_F64[0]))), e.exact(Op.FMul, n, e.const(LN2_F64[1]))


def _exp_f64_tail(e, hi, lo):
    """m with e^(hi - lo) = 1 + (hi - m), |hi - lo| <= ~0.35 (fdlibm's rational form)."""
    r = e.exact(Op.FSub, hi, lo)
    t = e.exact(Op.FMul, r, r)
    c = e.exact(Op.FSub, r, e.exact(Op.FMul, t, e.poly(t, EXP_P64)))
    frac = e.exact(Op.FDiv, e.exact(Op.FMul, r, c), e.exact(Op.FSub, e.const(2.0), c))
    return e.exact(Op.FSub, lo, frac)


def _exp_f64_core(e, n, hi, lo):
    """2^n e^(hi - lo) for integral n and |hi - lo| <= ~0.35."""
    u64 = e.uint()
    y = e.exact(Op.FSub, e.const(1.0), e.exact(Op.FSub, _exp_f64_tail(e, hi, lo), hi))
    ni = e.op(Op.ConvertFToS, n, t=u64)
    n1 = e.op(Op.ShiftRightArithmetic, ni, e.const(1, u64), t=u64)
    return e.exact(Op.FMul, e.exact(Op.FMul, y, _pow2i_f64(e, n1)), _pow2i_f64(e, e.op(Op.ISub, ni, n1, t=u64)))


def _expm1_dd_f64(e, x):
    """e^x - 1 as a double-double (value, error) for x <= 700: (2^n - 1) + 2^n hi - 2^n m from exp's
    reduction and tail, the first two terms summed exactly; x < -60 gives -1."""
    n, hi, lo = _exp_f64_reduce(e, e.glsl(GLSL.FClamp, x, e.const(-60.0), e.const(700.0)))
    p2 = _pow2i_f64(e, e.op(Op.ConvertFToS, n, t=e.uint()))
    a, a_err = _two_sum(e, p2, e.const(-1.0))
    s, s_err = _two_sum(e, a, e.exact(Op.FMul, p2, hi))
    tail = e.exact(Op.FSub, e.exact(Op.FAdd, a_err, s_err), e.exact(Op.FMul, p2, _exp_f64_tail(e, hi, lo)))
    return _fast_two_sum(e, s, tail)


def _expm1_f64(e, x):
    # Above 700 e^x (the 1 is far below an ulp); |x| < 2^-54 is x (-0 included). Max 0.75 ulp measured.
    r = e.sel(e.lt(x, e.const(700.0)), _expm1_dd_f64(e, x)[0], _exp_f64(e, x))
    return e.sel(e.lt(e.glsl(GLSL.FAbs, x), e.const(2.0**-54)), x, e.sel(e.isnan(x), x, r))


def _log1p_f64(e, x):
    # log(u) for u = 1 + x with the rounding error of u, d = (1 + x) - u (exact), added as d / u
    # before log's last rounding (fdlibm's log1p); |x| < 2^-54 is x (-0 included). Max 0.7 ulp measured.
    u, d = _two_sum(e, e.const(1.0), x)
    r = _log_f64(e, u, extra=e.op(Op.FDiv, d, u))
    return e.sel(e.lt(e.glsl(GLSL.FAbs, x), e.const(2.0**-54)), x, r)


def _tanh_f64(e, x):
    # tanh a = t / (t + 2) with t = expm1(2a) from a = 1 on, -t / (t + 2) with t = expm1(-2a) below
    # (no cancellation either way), a double-double quotient of t's double-double; 1 from 22 on;
    # the sign from x. Max 0.7 ulp measured.
    a = e.glsl(GLSL.FAbs, x)
    big = e.op(Op.FOrdGreaterThanEqual, a, e.const(1.0), t=e.t_bool)
    a2 = e.exact(Op.FMul, e.glsl(GLSL.FMin, a, e.const(22.0)), e.const(2.0))
    t_hi, t_lo = _expm1_dd_f64(e, e.sel(big, a2, e.op(Op.FNegate, a2)))
    d_hi, d_err = _two_sum(e, t_hi, e.const(2.0))
    num = (e.sel(big, t_hi, e.op(Op.FNegate, t_hi)), e.sel(big, t_lo, e.op(Op.FNegate, t_lo)))
    r = _dd_div(e, num, (d_hi, e.exact(Op.FAdd, d_err, t_lo)))
    return e.sel(e.isnan(x), x, _copysign(e, r, x))


def _dd_div(e, num, den):
    """num / den rounded, for double-doubles (value, error): q = n / d, then q += (n - q d) / d
    with q d's head product exact (Dekker)."""
    (n_hi, n_lo), (d_hi, d_lo) = num, den
    q = e.op(Op.FDiv, n_hi, d_hi)
    p, p_err = _two_product(e, q, d_hi)
    res = e.exact(Op.FSub, e.exact(Op.FAdd, e.exact(Op.FSub, e.exact(Op.FSub, n_hi, p), p_err), n_lo),
                  e.exact(Op.FMul, q, d_lo))
    return e.exact(Op.FAdd, q, e.op(Op.FDiv, res, d_hi))


def _log_f64(e, x, scale=None, extra=None):
    # x = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)); s = f / (2 + f), log(1 + f) = f - (hfsq -
    # s (hfsq + R(s^2))) with hfsq = f^2 / 2 (fdlibm); subnormal x scaled by 2^54. Max 1 ulp measured.
    u64 = e.uint()
    sub = e.lt(x, e.const(2.0**-1022))
    xs = e.sel(sub, e.exact(Op.FMul, x, e.const(2.0**54)), x)
    bits = e.op(Op.Bitcast, xs, t=u64)
    k = e.op(Op.ShiftRightArithmetic, e.op(Op.ISub, bits, e.const(0x3FE6A09E667F3BCD, u64), t=u64),
             e.const(52, u64), t=u64)
    m = e.op(Op.Bitcast, e.op(Op.ISub, bits, e.op(Op.ShiftLeftLogical, k, e.const(52, u64), t=u64), t=u64))
    kf = e.exact(Op.FSub, e.op(Op.ConvertSToF, k), e.sel(sub, e.const(54.0), e.const(0.0)))
    f = e.exact(Op.FSub, m, e.const(1.0))
    s = e.exact(Op.FDiv, f, e.exact(Op.FAdd, e.const(2.0), f))
    z = e.exact(Op.FMul, s, s)
    w = e.exact(Op.FMul, z, z)
    big_r = e.exact(Op.FAdd, e.exact(Op.FMul, z, e.poly(w, LOG_LG64[0::2])),
                    e.exact(Op.FMul, w, e.poly(w, LOG_LG64[1::2])))
    hfsq = e.exact(Op.FMul, e.const(0.5), e.exact(Op.FMul, f, f))
    corr = e.exact(Op.FMul, s, e.exact(Op.FAdd, hfsq, big_r))   # log(1 + f) = f - (hfsq - corr)
    if scale is not None:
        # log_b x = k log_b 2 + log(1 + f) / ln b (a rounded product and sum: 2 ulp measured)
        lg = e.exact(Op.FMul, e.exact(Op.FSub, f, e.exact(Op.FSub, hfsq, corr)), e.const(scale[1]))
        return _log_specials(e, x, e.exact(Op.FAdd, e.exact(Op.FMul, kf, e.const(scale[0])), lg))
    tail = e.exact(Op.FMul, kf, e.const(LN2_F64[1]))
    if extra is not None:   # a small addend to log x (log1p's correction)
        tail = e.exact(Op.FAdd, tail, extra)
    inner = e.exact(Op.FAdd, corr, tail)
    r = e.exact(Op.FSub, e.exact(Op.FMul, kf, e.const(LN2_F64[0])),
                e.exact(Op.FSub, e.exact(Op.FSub, hfsq, inner), f))
    return _log_specials(e, x, r)


SIN_S64 = [-1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
           2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10]
COS_C64 = [4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
           -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11]
# pi/2 in three 33-bit parts, each with its tail (fdlibm's e_rem_pio2.c: k * part exact for k < 2^20).
PIO2_PARTS64 = ((1.57079632673412561417e+00, 6.07710050650619224932e-11),
                (6.07710050630396597660e-11, 2.02226624879595063154e-21),
                (2.02226624871116645580e-21, 8.47842766036889956997e-32))
SINCOS_MAX64 = 1.6e6   # |x| up to which the reduction is exact (k < 2^20); beyond it: NaN


def _sincos_parts_f64(e, x):
    """(near, quadrant, sin y, cos y) with x = k pi/2 + y, quadrant = k as an integer, sin y and
    cos y double-doubles (rounded value, its error): x = k pi/2 + (y0 + y1) with fdlibm's three-round Cody-Waite
    (every round, not only after cancellation), then __kernel_sin/__kernel_cos (FreeBSD's forms).
    near: |x| <= SINCOS_MAX64 (no Payne-Hanek reduction beyond; inf and NaN are not near)."""
    near = e.op(Op.FOrdLessThanEqual, e.glsl(GLSL.FAbs, x), e.const(SINCOS_MAX64), t=e.t_bool)
    xc = e.sel(near, x, e.const(0.0))
    k = e.glsl(GLSL.RoundEven, e.exact(Op.FMul, xc, e.const(6.36619772367581382433e-01)))
    r = e.exact(Op.FSub, xc, e.exact(Op.FMul, k, e.const(PIO2_PARTS64[0][0])))
    w = e.exact(Op.FMul, k, e.const(PIO2_PARTS64[0][1]))
    for hi, lo in PIO2_PARTS64[1:]:
        t, w = r, e.exact(Op.FMul, k, e.const(hi))
        r = e.exact(Op.FSub, t, w)
        w = e.exact(Op.FSub, e.exact(Op.FMul, k, e.const(lo)), e.exact(Op.FSub, e.exact(Op.FSub, t, r), w))
    y0 = e.exact(Op.FSub, r, w)
    y1 = e.exact(Op.FSub, e.exact(Op.FSub, r, y0), w)
    z = e.exact(Op.FMul, y0, y0)
    v = e.exact(Op.FMul, z, y0)
    # sin(y0 + y1) = y0 - ((z (y1/2 - v q) - y1) - v S1)
    q = e.poly(z, SIN_S64[1:])
    s = e.exact(Op.FSub, e.exact(Op.FMul, e.const(0.5), y1), e.exact(Op.FMul, v, q))
    s_lo = e.exact(Op.FSub, e.exact(Op.FSub, e.exact(Op.FMul, z, s), y1), e.exact(Op.FMul, v, e.const(SIN_S64[0])))
    # cos(y0 + y1) = w + (((1 - w) - z/2) + (z r - y0 y1)), w = 1 - z/2, r = z C(z)
    hz = e.exact(Op.FMul, e.const(0.5), z)
    w1 = e.exact(Op.FSub, e.const(1.0), hz)
    zr = e.exact(Op.FMul, z, e.exact(Op.FMul, z, e.poly(z, COS_C64)))
    c_lo = e.exact(Op.FAdd, e.exact(Op.FSub, e.exact(Op.FSub, e.const(1.0), w1), hz),
                   e.exact(Op.FSub, zr, e.exact(Op.FMul, y0, y1)))
    return near, e.op(Op.ConvertFToS, k, t=e.uint()), _fast_two_sum(e, y0, e.op(Op.FNegate, s_lo)), \
        _fast_two_sum(e, w1, c_lo)


def _fast_two_sum(e, a, b):
    """(s, err) with s = a + b rounded and a + b = s + err exactly, for |a| >= |b| (Dekker)."""
    s = e.exact(Op.FAdd, a, b)
    return s, e.exact(Op.FSub, b, e.exact(Op.FSub, s, a))


def _quadrant_is(e, quad, bit):
    u64 = e.uint()
    return e.op(Op.INotEqual, e.op(Op.BitwiseAnd, quad, e.const(bit, u64), t=u64), e.const(0, u64), t=e.t_bool)


def _sincos_f64(e, x, cos):
    # The kernels' sum by quadrant. Max 1 ulp measured for |x| <= SINCOS_MAX64; larger |x|, inf
    # and NaN give NaN. sin(+-0) is x (k = -0 loses the sign).
    near, quad, (s_hi, _), (c_hi, _) = _sincos_parts_f64(e, x)
    if cos:
        quad = e.op(Op.IAdd, quad, e.const(1, e.uint()), t=e.uint())
    val = e.sel(_quadrant_is(e, quad, 1), c_hi, s_hi)
    val = e.sel(_quadrant_is(e, quad, 2), e.op(Op.FNegate, val), val)
    if not cos:
        val = e.sel(e.eq(x, e.const(0.0)), x, val)
    return e.sel(near, val, e.const(float("nan")))


def _tan_f64(e, x):
    # sin y / cos y (-cos y / sin y in odd quadrants) as a double-double quotient; the kernels'
    # sums are good to ~0.3 ulp each. Max 1.6 ulp measured for |x| <= SINCOS_MAX64; beyond, NaN
    # as sin and cos.
    near, quad, s, c = _sincos_parts_f64(e, x)
    odd = _quadrant_is(e, quad, 1)
    q = _dd_div(e, tuple(e.sel(odd, a, b) for a, b in zip(c, s)), tuple(e.sel(odd, a, b) for a, b in zip(s, c)))
    q = e.sel(odd, e.op(Op.FNegate, q), q)
    return e.sel(near, e.sel(e.eq(x, e.const(0.0)), x, q), e.const(float("nan")))

def _sinh_cosh_f64(e, x, cosh):
    # a = |x| below 22, from t = expm1(a) as double-doubles: sinh = (t + t / (t + 1)) / 2, cosh =
    # ((1 + t) + 1 / (1 + t)) / 2 (no cancellation); from 22 on 2^(n-1) e^r (exp's reduction, one
    # less in the exponent: finite up to ~710.47). Max 0.83 ulp measured.
    a = e.glsl(GLSL.FAbs, x)
    t = _expm1_dd_f64(e, e.glsl(GLSL.FMin, a, e.const(22.0)))
    u_hi, u_err = _two_sum(e, t[0], e.const(1.0))
    u = (u_hi, e.exact(Op.FAdd, u_err, t[1]))   # e^a
    first = u if cosh else t
    v = _dd_div(e, (e.const(1.0), e.const(0.0)) if cosh else t, u)
    s, err = _two_sum(e, first[0], v)
    mid = e.exact(Op.FMul, e.const(0.5), e.exact(Op.FAdd, s, e.exact(Op.FAdd, err, first[1])))
    n, hi, lo = _exp_f64_reduce(e, e.glsl(GLSL.FMin, a, e.const(720.0)))
    r = e.sel(e.lt(a, e.const(22.0)), mid, _exp_f64_core(e, e.exact(Op.FSub, n, e.const(1.0)), hi, lo))
    return e.sel(e.isnan(x), x, r if cosh else _copysign(e, r, x))


LN10_F64 = (2.302585092994046, -2.1707562233822494e-16)   # ln 10 = hi + lo


def _exp10_f64(e, x):
    # x ln10 = h + l as a double-double (Dekker product), then exp's reduction of h (h - n ln2_hi
    # is exact) with l folded into the tail. Max 0.82 ulp measured.
    xc = e.glsl(GLSL.FClamp, x, e.const(-330.0), e.const(310.0))
    h, h_err = _two_product(e, xc, e.const(LN10_F64[0]))
    n, hi, lo = _exp_f64_reduce(e, h)
    lo = e.exact(Op.FSub, lo, e.exact(Op.FAdd, h_err, e.exact(Op.FMul, xc, e.const(LN10_F64[1]))))
    y = _exp_f64_core(e, n, hi, lo)
    y = e.sel(e.op(Op.FOrdGreaterThan, x, e.const(308.2547155599167), t=e.t_bool), e.const(float("inf")), y)
    y = e.sel(e.lt(x, e.const(-323.6)), e.const(0.0), y)
    return e.sel(e.isnan(x), x, y)


def _asinh_f64(e, x):
    # a = |x|: log1p(a + a^2 / (1 + sqrt(1 + a^2))) up to 2, log(2a + 1 / (a + sqrt(a^2 + 1)))
    # up to 2^28, log(a) + ln 2 above (fdlibm's s_asinh.c); the sign from x. Max 1.6 ulp measured
    # (the arguments' rounding adds to log's).
    a = e.glsl(GLSL.FAbs, x)
    a2 = e.exact(Op.FMul, a, a)
    root = e.glsl(GLSL.Sqrt, e.exact(Op.FAdd, a2, e.const(1.0)))
    small = _log1p_f64(e, e.exact(Op.FAdd, a, e.op(Op.FDiv, a2, e.exact(Op.FAdd, e.const(1.0), root))))
    mid = _log_f64(e, e.exact(Op.FAdd, e.exact(Op.FMul, a, e.const(2.0)),
                              e.op(Op.FDiv, e.const(1.0), e.exact(Op.FAdd, a, root))))
    big = e.exact(Op.FAdd, _log_f64(e, a), e.const(0.6931471805599453))
    r = e.sel(e.lt(a, e.const(2.0**28)), mid, big)
    r = e.sel(e.op(Op.FOrdLessThanEqual, a, e.const(2.0), t=e.t_bool), small, r)
    return e.sel(e.isnan(x), x, _copysign(e, r, x))


def _acosh_f64(e, x):
    # log1p(t + sqrt(2t + t^2)), t = x - 1 (exact) up to 2, log(2x - 1 / (x + sqrt(x^2 - 1)))
    # up to 2^28, log(x) + ln 2 above (fdlibm's e_acosh.c); NaN below 1. Max 1.6 ulp measured.
    t = e.exact(Op.FSub, x, e.const(1.0))
    small = _log1p_f64(e, e.exact(Op.FAdd, t, e.glsl(GLSL.Sqrt, e.exact(
        Op.FAdd, e.exact(Op.FMul, t, e.const(2.0)), e.exact(Op.FMul, t, t)))))
    root = e.glsl(GLSL.Sqrt, e.exact(Op.FSub, e.exact(Op.FMul, x, x), e.const(1.0)))
    mid = _log_f64(e, e.exact(Op.FSub, e.exact(Op.FMul, x, e.const(2.0)),
                              e.op(Op.FDiv, e.const(1.0), e.exact(Op.FAdd, x, root))))
    big = e.exact(Op.FAdd, _log_f64(e, x), e.const(0.6931471805599453))
    r = e.sel(e.lt(x, e.const(2.0**28)), mid, big)
    r = e.sel(e.op(Op.FOrdLessThanEqual, x, e.const(2.0), t=e.t_bool), small, r)
    return e.sel(e.op(Op.FUnordLessThan, x, e.const(1.0), t=e.t_bool), e.const(float("nan")), r)


def _atanh_f64(e, x):
    # a = |x|: log1p(2a + 2a^2 / (1 - a)) / 2 below 0.5, log1p(2a / (1 - a)) / 2 above (fdlibm's
    # e_atanh.c; 1 - a exact there); the sign from x; |x| > 1 NaN, +-1 +-inf. Max 1.5 ulp measured.
    a = e.glsl(GLSL.FAbs, x)
    one_minus = e.exact(Op.FSub, e.const(1.0), a)
    a2 = e.exact(Op.FMul, a, e.const(2.0))
    small = e.exact(Op.FAdd, a2, e.op(Op.FDiv, e.exact(Op.FMul, a2, a), one_minus))
    arg = e.sel(e.lt(a, e.const(0.5)), small, e.op(Op.FDiv, a2, one_minus))
    r = _copysign(e, e.exact(Op.FMul, e.const(0.5), _log1p_f64(e, arg)), x)
    return e.sel(e.op(Op.FUnordGreaterThan, a, e.const(1.0), t=e.t_bool), e.const(float("nan")), r)


def _cbrt_f64(e, x):
    # r = |x|^(1/3) by pow (relative error ~|ln x| 2^-54 from 1/3's rounding), then one Newton step
    # r -= (r^3 - a) / (3 r^2) with r^3 - a from Dekker products; |x| scaled by 2^-+600 outside
    # [2^-500, 2^500] (the result by 2^+-200) so that the products neither overflow nor underflow;
    # the sign from x. Max 0.5 ulp measured.
    a = e.glsl(GLSL.FAbs, x)
    tiny, huge = e.lt(a, e.const(2.0**-500)), e.op(Op.FOrdGreaterThan, a, e.const(2.0**500), t=e.t_bool)
    scale = e.sel(tiny, e.const(2.0**600), e.sel(huge, e.const(2.0**-600), e.const(1.0)))
    a = e.exact(Op.FMul, a, scale)
    r = _pow_f64(e, a, e.const(1.0 / 3.0))
    p, p_err = _two_product(e, r, r)
    q, q_err = _two_product(e, p, r)
    res = e.exact(Op.FAdd, e.exact(Op.FSub, q, a), e.exact(Op.FAdd, q_err, e.exact(Op.FMul, p_err, r)))
    r = e.exact(Op.FSub, r, e.op(Op.FDiv, res, e.exact(Op.FMul, p, e.const(3.0))))
    r = e.exact(Op.FMul, r, e.sel(tiny, e.const(2.0**-200), e.sel(huge, e.const(2.0**200), e.const(1.0))))
    special = e.op(Op.LogicalOr, e.op(Op.LogicalNot, e.finite(x), t=e.t_bool), e.eq(x, e.const(0.0)), t=e.t_bool)
    return e.sel(special, x, _copysign(e, r, x))


def _hi_half(e, v):
    """v with the low 32 bits of its fp64 encoding cleared (21 significant bits: the product of two
    such heads, or of one and a 32-bit value, is exact)."""
    u64 = e.uint()
    return e.op(Op.Bitcast, e.op(Op.BitwiseAnd, e.op(Op.Bitcast, v, t=u64), e.const(0xFFFFFFFF00000000, u64), t=u64))


# fdlibm's s_erf.c rational approximations (numerator, denominator; low degree first).
ERF_ERX = 8.45062911510467529297e-01   # erf(1) in 24 bits
ERF_SMALL = ([1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
              -5.77027029648944159157e-03, -2.37630166566501626084e-05],
             [1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
              1.32494738004321644526e-04, -3.96022827877536812320e-06])   # erf(x)/x - 1 of x^2, |x| < 0.84375
ERF_MID = ([-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
            3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
            -2.16637559486879084300e-03],
           [1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
            1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02])  # of |x| - 1
ERF_TAIL_NEAR = ([-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
                  -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
                  -8.12874355063065934246e+01, -9.81432934416914548592e+00],
                 [1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
                  6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
                  6.57024977031928170135e+00, -6.04244152148580987438e-02])   # of 1/x^2, 1.25 <= |x| < 1/0.35
ERF_TAIL_FAR = ([-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
                 -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
                 -4.83519191608651397019e+02],
                [1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
                 3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
                 -2.24409524465858183362e+01])   # of 1/x^2, |x| >= 1/0.35


def _rational(e, x, num_den):
    return e.op(Op.FDiv, e.poly(x, num_den[0]), e.poly(x, num_den[1]))


def _erf_f64(e, x):
    # fdlibm's erf on a = |x|: below 0.84375 a + a P/Q(a^2), computed on 8a so that subnormal
    # results round once; below 1.25 erf(1) + P/Q(a - 1); below 6 1 - e^(-z^2 - 0.5625)
    # e^((z - a)(z + a) + R/S(1/a^2)) / a with z = a's 21-bit head (z^2 exact); 1 above. The sign
    # from x (erf(-0) = -0).
    a = e.glsl(GLSL.FAbs, x)
    a8 = e.exact(Op.FMul, a, e.const(8.0))
    small = e.exact(Op.FMul, e.const(0.125), e.exact(Op.FAdd, a8, e.exact(
        Op.FMul, a8, _rational(e, e.exact(Op.FMul, a, a), ERF_SMALL))))
    mid = e.exact(Op.FAdd, e.const(ERF_ERX), _rational(e, e.exact(Op.FSub, a, e.const(1.0)), ERF_MID))
    w = e.op(Op.FDiv, e.const(1.0), e.exact(Op.FMul, a, a))
    rs = e.sel(e.lt(a, e.const(1 / 0.35)), _rational(e, w, ERF_TAIL_NEAR), _rational(e, w, ERF_TAIL_FAR))
    z = _hi_half(e, a)
    q = e.exact(Op.FMul, _exp_f64(e, e.exact(Op.FSub, e.op(Op.FNegate, e.exact(Op.FMul, z, z)), e.const(0.5625))),
                _exp_f64(e, e.exact(Op.FAdd, e.exact(Op.FMul, e.exact(Op.FSub, z, a), e.exact(Op.FAdd, z, a)), rs)))
    tail = e.exact(Op.FSub, e.const(1.0), e.op(Op.FDiv, q, a))
    r = e.sel(e.lt(a, e.const(6.0)), tail, e.const(1.0))
    r = e.sel(e.lt(a, e.const(1.25)), mid, r)
    r = e.sel(e.lt(a, e.const(0.84375)), small, r)
    return e.sel(e.isnan(x), x, _copysign(e, r, x))


# fdlibm's e_pow.c: (3/2)(log(m) - 2s - 2s^3/3) / s^4 as a polynomial of s^2 (low degree first);
# 2/(3 ln 2), log2(1.5) and ln 2 as a rounded value and a 21-bit head + tail.
POW_L64 = [5.99999999999994648725e-01, 4.28571428578550184252e-01, 3.33333329818377432918e-01,
           2.72728123808534006489e-01, 2.30660745775561754067e-01, 2.06975017800338417784e-01]
POW_CP = (9.61796693925975554329e-01, 9.61796700954437255859e-01, -7.02846165095275826516e-09)
POW_LOG2_1P5 = (5.84962487220764160156e-01, 1.35003920212974897128e-08)
POW_LN2 = (6.93147180559945286227e-01, 6.93147182464599609375e-01, -1.90465429995776804525e-09)


def _log2_dd_f64(e, ax):
    """log2(ax) = t1 + t2 (t1 a 21-bit head, relative error ~2^-64) for finite ax > 0: ax = 2^n m,
    s = (m - b) / (m + b) with b = 1 or 1.5 by m's interval (|s| < 0.11), log(m/b) = 2s + s^3 (2/3
    + s^2 L(s^2)), each product split into exact head products and rounded tails (fdlibm)."""
    u64 = e.uint()
    sub = e.lt(ax, e.const(2.0**-1022))
    bits = e.op(Op.Bitcast, e.sel(sub, e.exact(Op.FMul, ax, e.const(2.0**53)), ax), t=u64)
    n = e.op(Op.ISub, e.op(Op.ShiftRightLogical, bits, e.const(52, u64), t=u64), e.const(1023, u64), t=u64)
    m = e.op(Op.Bitcast, e.op(Op.BitwiseOr, e.op(Op.BitwiseAnd, bits, e.const((1 << 52) - 1, u64), t=u64),
                              e.const(0x3FF0000000000000, u64), t=u64))   # in [1, 2)
    nf = e.exact(Op.FSub, e.op(Op.ConvertSToF, n), e.sel(sub, e.const(53.0), e.const(0.0)))
    above = e.op(Op.FOrdGreaterThanEqual, m, e.const(1.7320508075688772), t=e.t_bool)   # sqrt(3): m/2 with b = 1
    m = e.sel(above, e.exact(Op.FMul, m, e.const(0.5)), m)
    nf = e.exact(Op.FAdd, nf, e.sel(above, e.const(1.0), e.const(0.0)))
    mid = e.op(Op.LogicalAnd, e.op(Op.FOrdGreaterThanEqual, m, e.const(1.224744871391589), t=e.t_bool),
               e.op(Op.LogicalNot, above, t=e.t_bool), t=e.t_bool)
    b = e.sel(mid, e.const(1.5), e.const(1.0))
    u = e.exact(Op.FSub, m, b)
    v = e.op(Op.FDiv, e.const(1.0), e.exact(Op.FAdd, m, b))
    ss = e.exact(Op.FMul, u, v)
    s_h = _hi_half(e, ss)
    t_h = _hi_half(e, e.exact(Op.FAdd, m, b))
    t_l = e.exact(Op.FSub, m, e.exact(Op.FSub, t_h, b))
    s_l = e.exact(Op.FMul, v, e.exact(Op.FSub, e.exact(Op.FSub, u, e.exact(Op.FMul, s_h, t_h)),
                                      e.exact(Op.FMul, s_h, t_l)))   # ss = s_h + s_l
    s2 = e.exact(Op.FMul, ss, ss)
    r = e.exact(Op.FMul, e.exact(Op.FMul, s2, s2), e.poly(s2, POW_L64))
    r = e.exact(Op.FAdd, r, e.exact(Op.FMul, s_l, e.exact(Op.FAdd, s_h, ss)))
    s2 = e.exact(Op.FMul, s_h, s_h)
    t_h = _hi_half(e, e.exact(Op.FAdd, e.exact(Op.FAdd, e.const(3.0), s2), r))
    t_l = e.exact(Op.FSub, r, e.exact(Op.FSub, e.exact(Op.FSub, t_h, e.const(3.0)), s2))
    u = e.exact(Op.FMul, s_h, t_h)
    v = e.exact(Op.FAdd, e.exact(Op.FMul, s_l, t_h), e.exact(Op.FMul, t_l, ss))   # u + v = ss (3 + s^2 + r)
    p_h = _hi_half(e, e.exact(Op.FAdd, u, v))
    p_l = e.exact(Op.FSub, v, e.exact(Op.FSub, p_h, u))
    z_h = e.exact(Op.FMul, e.const(POW_CP[1]), p_h)
    z_l = e.exact(Op.FAdd, e.exact(Op.FAdd, e.exact(Op.FMul, e.const(POW_CP[2]), p_h),
                                   e.exact(Op.FMul, p_l, e.const(POW_CP[0]))),
                  e.sel(mid, e.const(POW_LOG2_1P5[1]), e.const(0.0)))
    d_h = e.sel(mid, e.const(POW_LOG2_1P5[0]), e.const(0.0))
    t1 = _hi_half(e, e.exact(Op.FAdd, e.exact(Op.FAdd, e.exact(Op.FAdd, z_h, z_l), d_h), nf))
    t2 = e.exact(Op.FSub, z_l, e.exact(Op.FSub, e.exact(Op.FSub, e.exact(Op.FSub, t1, nf), d_h), z_h))
    return t1, t2


def _pow_f64(e, ax, y):
    # |x|^y for finite x >= 0 (fdlibm's e_pow.c): y log2|x| = p_h + p_l with p_h = y's head times
    # t1 (exact), then 2^n e^((p_h - n + p_l) ln 2), ln 2 in a 21-bit head + tail, by exp's core;
    # |y log2 x| beyond 1100 is clamped (the result is 0 or inf), y = +-inf decided apart (the
    # split of y makes it NaN). Max 0.83 ulp measured.
    t1, t2 = _log2_dd_f64(e, ax)
    y1 = _hi_half(e, y)
    p_l = e.exact(Op.FAdd, e.exact(Op.FMul, e.exact(Op.FSub, y, y1), t1), e.exact(Op.FMul, y, t2))
    p_h = e.exact(Op.FMul, y1, t1)
    z = e.exact(Op.FAdd, p_h, p_l)
    ok = e.lt(e.glsl(GLSL.FAbs, z), e.const(1100.0))
    p_h = e.sel(ok, p_h, _copysign(e, e.const(1100.0), z))
    p_l = e.sel(ok, p_l, e.const(0.0))
    n = e.glsl(GLSL.RoundEven, e.exact(Op.FAdd, p_h, p_l))
    p_h = e.exact(Op.FSub, p_h, n)
    t = _hi_half(e, e.exact(Op.FAdd, p_l, p_h))
    u = e.exact(Op.FMul, t, e.const(POW_LN2[1]))
    v = e.exact(Op.FAdd, e.exact(Op.FMul, e.exact(Op.FSub, p_l, e.exact(Op.FSub, t, p_h)), e.const(POW_LN2[0])),
                e.exact(Op.FMul, t, e.const(POW_LN2[2])))
    hi = e.exact(Op.FAdd, u, v)
    lo = e.exact(Op.FSub, e.exact(Op.FSub, hi, u), v)   # hi - lo = u + v exactly
    r = _exp_f64_core(e, n, hi, lo)
    grows = e.op(Op.LogicalNotEqual, e.op(Op.FOrdGreaterThan, ax, e.const(1.0), t=e.t_bool), e.lt(y, e.const(0.0)),
                 t=e.t_bool)
    return e.sel(e.op(Op.IsInf, y, t=e.t_bool), e.sel(grows, e.const(float("inf")), e.const(0.0)), r)


# fdlibm's s_atan.c: atan b as a value and its tail at the reduction points b = 1/2, 1, 3/2, inf,
# and atan u = u - u^3 P(u^2) on |u| <= 7/16 (P low degree first).
ATAN_POINTS64 = ((4.63647609000806093515e-01, 2.26987774529616870924e-17),
                 (7.85398163397448278999e-01, 3.06161699786838301793e-17),
                 (9.82793723247329054082e-01, 1.39033110312309984516e-17),
                 (1.57079632679489655800e+00, 6.12323399573676603587e-17))
ATAN_T64 = [3.33333333333329318027e-01, -1.99999999998764832476e-01, 1.42857142725034663711e-01,
            -1.11111104054623557880e-01, 9.09088713343650656196e-02, -7.69187620504482999495e-02,
            6.66107313738753120669e-02, -5.83357013379057348645e-02, 4.97687799461593236017e-02,
            -3.65315727442169155270e-02, 1.62858201153657823623e-02]
PIO2_DD64 = ATAN_POINTS64[-1]   # pi/2 = hi + lo
PI_F64 = (3.14159265358979311600e+00, 1.22464679914735317723e-16)   # pi = hi + lo
# fdlibm's e_asin.c: asin s = s + s R(s^2), R(z) = z P(z) / Q(z) on z <= 1/4 (low degree first).
ASIN_P64 = [1.66666666666666657415e-01, -3.25565818622400915405e-01, 2.01212532134862925881e-01,
            -4.00555345006794114027e-02, 7.91534994289814532176e-04, 3.47933107596021167570e-05]
ASIN_Q64 = [1.0, -2.40339491173441421878e+00, 2.02094576023350569471e+00, -6.88283971605453293030e-01,
            7.70381505559019352791e-02]


def _atan_dd_f64(e, a, a_lo=None):
    """atan(a + a_lo) as a double-double (value, error) for a >= 0 (inf included), a_lo a rounding
    error of a or None: below 7/16 u = a, else u = (a - b) / (1 + a b) around the point b (1/2, 1,
    3/2 or inf: u = -1/a) of a's interval (the numerator exact), atan b + atan u (fdlibm's s_atan.c);
    a_lo adds a_lo / (1 + a^2), atan's derivative."""
    forms = [(e.exact(Op.FSub, e.exact(Op.FMul, a, e.const(2.0)), e.const(1.0)), e.exact(Op.FAdd, e.const(2.0), a)),
             (e.exact(Op.FSub, a, e.const(1.0)), e.exact(Op.FAdd, a, e.const(1.0))),
             (e.exact(Op.FSub, a, e.const(1.5)), e.exact(Op.FAdd, e.const(1.0), e.exact(Op.FMul, a, e.const(1.5))))]
    num, den = e.const(-1.0), a
    hi, lo = (e.const(v) for v in ATAN_POINTS64[-1])
    for bound, (n, d), point in reversed(list(zip((11 / 16, 19 / 16, 39 / 16), forms, ATAN_POINTS64))):
        below = e.lt(a, e.const(bound))
        num, den = e.sel(below, n, num), e.sel(below, d, den)
        hi, lo = e.sel(below, e.const(point[0]), hi), e.sel(below, e.const(point[1]), lo)
    small = e.lt(a, e.const(7 / 16))
    u = e.sel(small, a, e.op(Op.FDiv, num, den))
    hi, lo = e.sel(small, e.const(0.0), hi), e.sel(small, e.const(0.0), lo)
    z = e.exact(Op.FMul, u, u)
    w = e.exact(Op.FMul, z, z)
    s = e.exact(Op.FAdd, e.exact(Op.FMul, z, e.poly(w, ATAN_T64[0::2])), e.exact(Op.FMul, w, e.poly(w, ATAN_T64[1::2])))
    inner = e.exact(Op.FSub, e.exact(Op.FMul, u, s), lo)   # atan b + atan u = hi + (u - inner)
    if a_lo is not None:
        inner = e.exact(Op.FSub, inner, e.op(Op.FDiv, a_lo, e.exact(Op.FAdd, e.const(1.0), e.exact(Op.FMul, a, a))))
    return _fast_two_sum(e, hi, e.exact(Op.FSub, u, inner))


def _atan_f64(e, x):
    # Odd: atan |x| with the sign of x (-0 kept). Max 0.84 ulp measured.
    return e.sel(e.isnan(x), x, _copysign(e, _atan_dd_f64(e, e.glsl(GLSL.FAbs, x))[0], x))


def _signbit(e, x):
    u = e.uint()
    return e.op(Op.INotEqual, e.op(Op.ShiftRightLogical, e.op(Op.Bitcast, x, t=u), e.const(e.info.width - 1, u), t=u),
                e.const(0, u), t=e.t_bool)


def _atan2_f64(e, y, x):
    # atan(t + t_lo) for t = |y| / |x| and its rounding error t_lo = (|y| - t |x|) / |x| (Dekker's
    # product on copies scaled by one power of two that brings the larger into [1, 4): exact where
    # 2^-27 <= t <= 2^66, used only there); pi minus it as a double-double where x is negative (-0
    # included); the sign of y. Both zero or both infinite: 0 or pi/4 before that (C's atan2).
    # Max 0.83 ulp measured.
    u64 = e.uint()
    ax, ay = e.glsl(GLSL.FAbs, x), e.glsl(GLSL.FAbs, y)
    t = e.op(Op.FDiv, ay, ax)
    biased = e.op(Op.ShiftRightLogical, e.op(Op.Bitcast, e.glsl(GLSL.FMax, ax, ay), t=u64), e.const(52, u64), t=u64)
    top = e.op(Op.UGreaterThanEqual, biased, e.const(2046, u64), t=e.t_bool)
    scale_biased = e.sel(top, e.const(1, u64), e.op(Op.ISub, e.const(2046, u64), biased, t=u64), t=u64)
    scale = e.op(Op.Bitcast, e.op(Op.ShiftLeftLogical, scale_biased, e.const(52, u64), t=u64))
    xs, ys = e.exact(Op.FMul, ax, scale), e.exact(Op.FMul, ay, scale)
    t_lo = e.op(Op.FDiv, _residual(e, ys, xs, t), xs)
    exact = e.op(Op.LogicalAnd, e.op(Op.FOrdGreaterThanEqual, t, e.const(2.0**-27), t=e.t_bool),
                 e.op(Op.FOrdLessThanEqual, t, e.const(2.0**66), t=e.t_bool), t=e.t_bool)
    t_lo = e.sel(exact, t_lo, e.const(0.0))
    t = e.sel(e.eq(ax, ay), e.const(1.0), t)   # inf/inf: pi/4
    t = e.sel(e.eq(e.glsl(GLSL.FMax, ax, ay), e.const(0.0)), e.const(0.0), t)   # 0/0: 0
    z, z_lo = _atan_dd_f64(e, t, t_lo)
    p, p_err = _two_sum(e, e.const(PI_F64[0]), e.op(Op.FNegate, z))
    pi_minus = e.exact(Op.FAdd, p, e.exact(Op.FAdd, p_err, e.exact(Op.FSub, e.const(PI_F64[1]), z_lo)))
    r = _copysign(e, e.sel(_signbit(e, x), pi_minus, z), y)
    return e.sel(e.op(Op.LogicalOr, e.isnan(x), e.isnan(y), t=e.t_bool), e.op(Op.FAdd, x, y), r)


def _twice(e, v):
    return e.exact(Op.FMul, v, e.const(2.0))


def _asin_r_f64(e, z):
    return e.op(Op.FDiv, e.exact(Op.FMul, z, e.poly(z, ASIN_P64)), e.poly(z, ASIN_Q64))


def _asin_sqrt_f64(e, a):
    """For a in [1/2, 1]: (z, s, r, h, c) with z = (1 - a) / 2 (exact), s = sqrt z, r = R(z), h the
    21-bit head of s and c = sqrt z - h = (z - h^2) / (s + h) (h^2 exact; 0 at z = 0)."""
    z = e.exact(Op.FMul, e.exact(Op.FSub, e.const(1.0), a), e.const(0.5))
    s = _precise_sqrt(e, z)
    h = _hi_half(e, s)
    c = e.op(Op.FDiv, e.exact(Op.FSub, z, e.exact(Op.FMul, h, h)), e.exact(Op.FAdd, s, h))
    return z, s, _asin_r_f64(e, z), h, e.sel(e.eq(z, e.const(0.0)), e.const(0.0), c)


def _asin_f64(e, x):
    # a = |x|: a + a R(a^2) below 1/2; pi/2 - 2 asin(sqrt((1 - a) / 2)) above, from 0.975 on with s
    # as it is, below with s = h + c (fdlibm's e_asin.c); the sign from x; NaN beyond 1. Max 0.85 ulp.
    a = e.glsl(GLSL.FAbs, x)
    z, s, r, h, c = _asin_sqrt_f64(e, a)
    small = e.exact(Op.FAdd, a, e.exact(Op.FMul, a, _asin_r_f64(e, e.exact(Op.FMul, a, a))))
    pio2_hi, pio2_lo = PIO2_DD64
    pio4_hi = ATAN_POINTS64[1][0]
    near1 = e.exact(Op.FSub, e.const(pio2_hi), e.exact(Op.FSub, _twice(e, e.exact(
        Op.FAdd, s, e.exact(Op.FMul, s, r))), e.const(pio2_lo)))
    p = e.exact(Op.FSub, _twice(e, e.exact(Op.FMul, s, r)), e.exact(Op.FSub, e.const(pio2_lo), _twice(e, c)))
    mid = e.exact(Op.FSub, e.const(pio4_hi), e.exact(Op.FSub, p, e.exact(Op.FSub, e.const(pio4_hi), _twice(e, h))))
    v = e.sel(e.lt(a, e.const(0.5)), small, e.sel(e.lt(a, e.const(0.975)), mid, near1))
    return e.sel(e.op(Op.FUnordGreaterThan, a, e.const(1.0), t=e.t_bool), e.const(float("nan")), _copysign(e, v, x))


def _acos_f64(e, x):
    # |x| < 1/2: pi/2 - (x + x R(x^2)); x above: 2 (h + (c + s R)); below: pi - 2 (s + s R) with
    # s = sqrt((1 - |x|) / 2) (fdlibm's e_acos.c); NaN beyond 1. Max 0.9 ulp measured.
    pio2_hi, pio2_lo = PIO2_DD64
    a = e.glsl(GLSL.FAbs, x)
    z, s, r, h, c = _asin_sqrt_f64(e, a)
    small = e.exact(Op.FSub, e.const(pio2_hi), e.exact(Op.FSub, x, e.exact(
        Op.FSub, e.const(pio2_lo), e.exact(Op.FMul, x, _asin_r_f64(e, e.exact(Op.FMul, x, x))))))
    sr = e.exact(Op.FMul, r, s)
    pos = _twice(e, e.exact(Op.FAdd, h, e.exact(Op.FAdd, sr, c)))
    neg = e.exact(Op.FSub, e.const(PI_F64[0]), _twice(e, e.exact(Op.FAdd, s, e.exact(Op.FSub, sr, e.const(pio2_lo)))))
    v = e.sel(e.lt(a, e.const(0.5)), small, e.sel(e.lt(x, e.const(0.0)), neg, pos))
    return e.sel(e.op(Op.FUnordGreaterThan, a, e.const(1.0), t=e.t_bool), e.const(float("nan")), v)


def _odd_poly(e, x, coeffs):
    """x + x^3 q(x^2)."""
    x2 = e.exact(Op.FMul, x, x)
    return e.fma(e.exact(Op.FMul, x, x2), e.poly(x2, coeffs), x)


def _pio2_minus(e, p, times=1.0):
    """pi/2 - times p (times 1 or 2: exact), pi/2 as hi + lo."""
    return e.exact(Op.FAdd, e.exact(Op.FSub, e.const(PIO2_F32[0]), e.exact(Op.FMul, p, e.const(times))),
                   e.const(PIO2_F32[1]))


def _atan_unit(e, a):
    """atan(a) for a >= 0 (inf and NaN included): the polynomial on [0, 1], pi/2 - atan(1/a) above."""
    inv = e.op(Op.FOrdGreaterThan, a, e.const(1.0), t=e.t_bool)
    t = e.sel(inv, e.op(Op.FDiv, e.const(1.0), a), a)
    p = _odd_poly(e, t, ATAN_Q)
    return e.sel(inv, _pio2_minus(e, p), p)


def _atan(e, x):
    # Max 1.5 ulp measured; odd, so -0 and the sign come from x.
    return _copysign(e, _atan_unit(e, e.glsl(GLSL.FAbs, x)), x)


def _atan2(e, y, x):
    # atan(min/max) of the magnitudes, then the octant: pi/2 - it where |y| > |x|, pi - it where
    # x is negative (-0 included), the sign of y. Both zero or both infinite: 0 or pi/4 before
    # the octant (C's atan2). Max 1.5 ulp measured.
    ax, ay = e.glsl(GLSL.FAbs, x), e.glsl(GLSL.FAbs, y)
    mx, mn = e.glsl(GLSL.FMax, ax, ay), e.glsl(GLSL.FMin, ax, ay)
    t = e.op(Op.FDiv, mn, mx)
    t = e.sel(e.eq(mx, e.const(0.0)), e.const(0.0), t)
    t = e.sel(e.op(Op.IsInf, mn, t=e.t_bool), e.const(1.0), t)
    p = _odd_poly(e, t, ATAN_Q)
    p = e.sel(e.op(Op.FOrdGreaterThan, ay, ax, t=e.t_bool), _pio2_minus(e, p), p)
    pi_minus = e.exact(Op.FAdd, e.exact(Op.FSub, e.const(PI_F32[0]), p), e.const(PI_F32[1]))
    p = _copysign(e, e.sel(_signbit(e, x), pi_minus, p), y)
    nan = e.op(Op.LogicalOr, e.isnan(x), e.isnan(y), t=e.t_bool)
    return e.sel(nan, e.op(Op.FAdd, x, y), p)


def _asin_parts(e, a):
    """a in [0, 1] -> (direct, p): asin(a) = direct below 0.5625, else pi/2 - 2 p with
    p = asin(s), s = sqrt((1 - a) / 2) (exact argument: 1 - a is exact there)."""
    direct = _odd_poly(e, a, ASIN_Q)
    s = _precise_sqrt(e, e.exact(Op.FMul, e.exact(Op.FSub, e.const(1.0), a), e.const(0.5)))
    return direct, _odd_poly(e, s, ASIN_Q)


def _asin(e, x):
    # Max 1.5 ulp measured; |x| > 1 and NaN give NaN.
    a = e.glsl(GLSL.FAbs, x)
    direct, p = _asin_parts(e, a)
    r = e.sel(e.lt(a, e.const(0.5625)), direct, _pio2_minus(e, p, 2.0))
    r = _copysign(e, r, x)
    return e.sel(e.op(Op.FUnordGreaterThan, a, e.const(1.0), t=e.t_bool), e.const(float("nan")), r)


def _acos(e, x):
    # |x| < 0.5625: pi/2 - asin(x); x above: 2 asin(s); below: pi - 2 asin(s). Max 1.5 ulp measured.
    a = e.glsl(GLSL.FAbs, x)
    direct, p = _asin_parts(e, a)
    mid = _pio2_minus(e, _copysign(e, direct, x))
    two_p = e.exact(Op.FMul, p, e.const(2.0))
    r = e.sel(e.lt(x, e.const(0.0)), e.exact(Op.FAdd, e.exact(Op.FSub, e.const(PI_F32[0]), two_p),
                                                e.const(PI_F32[1])), two_p)
    r = e.sel(e.lt(a, e.const(0.5625)), mid, r)
    return e.sel(e.op(Op.FUnordGreaterThan, a, e.const(1.0), t=e.t_bool), e.const(float("nan")), r)


def _sinh_cosh(e, x, cosh):
    # |x| < 1 (sinh): x + x^3 q(x^2); |x| < 9: (e^|x| -+ e^-|x|) / 2; above, e^-|x| is below half
    # an ulp: e^|x| / 2 (no overflow before the result's). Max 1.5 ulp measured.
    a = e.glsl(GLSL.FAbs, x)
    u = _exp(e, e.glsl(GLSL.FMin, a, e.const(9.0)))
    mid = e.exact(Op.FMul, e.exact(Op.FAdd if cosh else Op.FSub, u, e.op(Op.FDiv, e.const(1.0), u)), e.const(0.5))
    r = e.sel(e.lt(a, e.const(9.0)), mid, _exp(e, a, halved=True))
    if cosh:
        return r
    return _copysign(e, e.sel(e.lt(a, e.const(1.0)), _odd_poly(e, a, SINH_Q), r), x)


def _exp10(e, x):
    # n = round(x log2 10), r = x - n log10(2) in two parts, 10^x = 2^n e^(r ln 10). Max 1.5 ulp.
    n = e.glsl(GLSL.RoundEven, e.exact(Op.FMul, x, e.const(3.321928094887362)))
    r = e.exact(Op.FSub, e.exact(Op.FSub, x, e.exact(Op.FMul, n, e.const(LOG10_2[0]))),
                e.exact(Op.FMul, n, e.const(LOG10_2[1])))
    big = e.op(Op.FOrdGreaterThan, e.glsl(GLSL.FAbs, x), e.const(60.0), t=e.t_bool)
    return _scale_exp(e, e.sel(big, e.op(Op.FMul, x, e.const(4.0)), n),
                      e.sel(big, e.const(0.0), e.exact(Op.FMul, r, e.const(LN10))))


def _log_parts(e, x):
    """x > 0 finite -> (k, f, t) with x = 2^k (1 + f), 1 + f in [sqrt(1/2), sqrt(2)) and
    log(1 + f) = f + t, t = f^2 (-1/2 + f q(f)). Subnormal x is scaled by 2^23 first."""
    u = e.ctx.t_u32
    sub = e.lt(x, e.const(2.0**-126))
    xs = e.sel(sub, e.exact(Op.FMul, x, e.const(2.0**23)), x)
    bits = e.ucast(xs)
    # The exponent of x relative to sqrt(1/2) (0x3F3504F3): the mantissa lands in [sqrt(1/2), sqrt(2)).
    k = e.op(Op.ShiftRightArithmetic, e.op(Op.ISub, bits, e.ctx.u32(0x3F3504F3), t=u), e.ctx.u32(23), t=u)
    m = e.fcast(e.op(Op.ISub, bits, e.op(Op.ShiftLeftLogical, k, e.ctx.u32(23), t=u), t=u))
    kf = e.exact(Op.FSub, e.op(Op.ConvertSToF, k), e.sel(sub, e.const(23.0), e.const(0.0)))
    f = e.exact(Op.FSub, m, e.const(1.0))
    t = e.exact(Op.FMul, e.exact(Op.FMul, f, f), e.fma(f, e.poly(f, LOG_Q), e.const(-0.5)))
    return kf, f, t


def _log_specials(e, x, r):
    r = e.sel(e.eq(x, e.const(float("inf"))), x, r)
    r = e.sel(e.eq(x, e.const(0.0)), e.const(float("-inf")), r)
    return e.sel(e.op(Op.FUnordLessThan, x, e.const(0.0), t=e.t_bool), e.const(float("nan")), r)


def _log(e, x, extra=None):
    # k ln2 + log1p(f), ln2 as hi + lo: max 1 ulp measured (subnormals to FLT_MAX). extra: an
    # addend below an ulp of the result's head (log of a double-float: its tail over x) or, where
    # the result is 8 or more, ln 2.
    k, f, t = _log_parts(e, x)
    tail = e.exact(Op.FAdd, e.exact(Op.FMul, k, e.const(LN2[1])), t)
    if extra is not None:
        tail = e.exact(Op.FAdd, tail, extra)
    r = e.exact(Op.FAdd, e.exact(Op.FMul, k, e.const(LN2[0])), e.exact(Op.FAdd, f, tail))
    return _log_specials(e, x, r)


def _log_root_sum(e, a, one):
    """log(a + sqrt(a^2 + one)) for one = 1 (a >= 1/2) or -1 (a >= 1), a < 2^12: a^2 + one and its
    square root as double-floats (Dekker's product, the root's residual), their sum's tail added
    to log as tail / sum."""
    p, p_err = _two_product(e, a, a)
    q, q_err = _two_sum(e, p, e.const(one))
    s = e.glsl(GLSL.Sqrt, q)
    s_lo = e.op(Op.FDiv, e.exact(Op.FAdd, _residual(e, q, s, s), e.exact(Op.FAdd, q_err, p_err)),
                e.exact(Op.FMul, s, e.const(2.0)))
    s_lo = e.sel(e.op(Op.FOrdGreaterThan, q, e.const(0.0), t=e.t_bool), s_lo, e.const(0.0))
    u, u_err = _two_sum(e, a, s)
    return _log(e, u, e.op(Op.FDiv, e.exact(Op.FAdd, u_err, s_lo), u))


def _asinh(e, x):
    # a = |x|: a + a^3 q(a^2) below 1/2, log(a + sqrt(a^2 + 1)) below 2^12, log(a) + ln 2 above
    # (sqrt(a^2 + 1) = a within 2^-25); the sign from x. Max 0.84 ulp measured.
    a = e.glsl(GLSL.FAbs, x)
    r = e.sel(e.lt(a, e.const(2.0**12)), _log_root_sum(e, e.glsl(GLSL.FMin, a, e.const(2.0**12)), 1.0),
              _log(e, a, e.const(0.6931471805599453)))
    r = e.sel(e.lt(a, e.const(0.5)), _odd_poly(e, a, ASINH_Q), r)
    return e.sel(e.isnan(x), x, _copysign(e, r, x))


def _acosh(e, x):
    # log(x + sqrt(x^2 - 1)) below 2^12, log(x) + ln 2 above; NaN below 1. Max 0.87 ulp measured.
    r = e.sel(e.lt(x, e.const(2.0**12)), _log_root_sum(e, e.glsl(GLSL.FClamp, x, e.const(1.0), e.const(2.0**12)), -1.0),
              _log(e, x, e.const(0.6931471805599453)))
    return e.sel(e.op(Op.FUnordLessThan, x, e.const(1.0), t=e.t_bool), e.const(float("nan")), r)


def _atanh(e, x):
    # a = |x|: a + a^3 q(a^2) below 1/2, else log(w) / 2 for w = (1 + a) / (1 - a) (1 - a exact,
    # 1 + a and w double-floats: w's tail over w added to log); the sign from x; 1 gives inf,
    # beyond NaN. Max 0.72 ulp measured.
    a = e.glsl(GLSL.FAbs, x)
    d = e.exact(Op.FSub, e.const(1.0), a)
    p, p_err = _two_sum(e, e.const(1.0), a)
    w = e.op(Op.FDiv, p, d)
    big = e.exact(Op.FMul, _log(e, w, e.op(Op.FDiv, e.exact(Op.FAdd, _residual(e, p, d, w), p_err), p)), e.const(0.5))
    r = e.sel(e.lt(a, e.const(0.5)), _odd_poly(e, a, ATANH_Q), big)
    return e.sel(e.op(Op.FUnordGreaterThan, a, e.const(1.0), t=e.t_bool), e.const(float("nan")), _copysign(e, r, x))


def _log2(e, x):
    # k + log1p(f) log2(e); f = fh + fl with a 12-bit head so that fh log2e_hi is exact.
    # Max 1.1 ulp measured.
    k, f, t = _log_parts(e, x)
    fh = e.fcast(e.op(Op.BitwiseAnd, e.ucast(f), e.ctx.u32(0xFFFFF000), t=e.ctx.t_u32))
    fl = e.exact(Op.FSub, f, fh)
    tail = e.exact(Op.FAdd, e.exact(Op.FMul, fl, e.const(LOG2E[0])), e.exact(Op.FMul, f, e.const(LOG2E[1])))
    tail = e.exact(Op.FAdd, tail, e.exact(Op.FMul, t, e.const(1.4426950408889634)))
    lg = e.exact(Op.FAdd, e.exact(Op.FMul, fh, e.const(LOG2E[0])), tail)
    return _log_specials(e, x, e.exact(Op.FAdd, k, lg))


def _log10(e, x):
    return e.exact(Op.FMul, _log2(e, x), e.const(0.30102999566398120))


def _tanh(e, x):
    # |x| < 0.75: x + x^3 q(x^2); else sign(x) (1 - 2 / (e^{2|x|} + 1)) with a refined
    # reciprocal (2|x| capped at 40, where the result is 1 in fp32). Max 2 ulp measured.
    ax = e.glsl(GLSL.FAbs, x)
    x2 = e.exact(Op.FMul, x, x)
    small = e.fma(e.exact(Op.FMul, x, x2), e.poly(x2, TANH_Q), x)
    a2 = e.exact(Op.FMul, ax, e.const(2.0))
    w = e.exact(Op.FAdd, _exp(e, e.sel(e.op(Op.FOrdGreaterThan, a2, e.const(40.0), t=e.t_bool), e.const(40.0), a2)),
                e.const(1.0))
    y0 = e.op(Op.FDiv, e.const(1.0), w)
    y = e.fma(e.fma(e.op(Op.FNegate, w), y0, e.const(1.0)), y0, y0)
    large = _copysign(e, e.fma(e.const(-2.0), y, e.const(1.0)), x)
    # NaN explicitly: NVIDIA's conversions and min/max turn it into numbers inside the sequence.
    return e.sel(e.op(Op.IsNan, x, t=e.t_bool), x, e.sel(e.lt(ax, e.const(0.75)), small, large))


def _pio2_reduce(e, x):
    """(k, r, r_lo) with x = k pi/2 + r + r_lo, k = round(x 2/pi), |r| <= ~pi/4, r + r_lo a
    double-float, for |x| <= SINCOS_MAX; r = x (-0 kept) where k = 0."""
    if e.ctx.target.has_float64:
        # In fp64: k pi/2 split so that k * hi is exact; r's absolute error ~2^-50.
        d = e.ctx.m.type_float(64)
        ed = _Emit(e.ctx, d)
        xd = e.op(Op.FConvert, x, t=d)
        kd = ed.glsl(GLSL.RoundEven, ed.exact(Op.FMul, xd, ed.const(0.6366197723675814)))
        rd = ed.exact(Op.FSub, ed.exact(Op.FSub, xd, ed.exact(Op.FMul, kd, ed.const(PIO2_F64[0]))),
                      ed.exact(Op.FMul, kd, ed.const(PIO2_F64[1])))
        k, r = ed.op(Op.FConvert, kd, t=e.t), ed.op(Op.FConvert, rd, t=e.t)
        r_lo = ed.op(Op.FConvert, ed.exact(Op.FSub, rd, e.op(Op.FConvert, r, t=d)), t=e.t)
    else:
        # Cody-Waite with exact products (PIO2_CHUNKS) accumulated as a double-float r + r_lo
        # (Knuth's two-sum), so that it needs no fused Fma: lavapipe's is a multiply and an add,
        # where a 3-constant FMA form was up to ~2000 ulp off. Max 1.6 ulp measured.
        k = e.glsl(GLSL.RoundEven, e.exact(Op.FMul, x, e.const(0.6366197466850281)))
        r, r_lo = x, e.const(0.0)
        for c in PIO2_CHUNKS:
            r, err = _two_sum(e, r, e.op(Op.FNegate, e.exact(Op.FMul, k, e.const(c))))
            r_lo = e.exact(Op.FAdd, r_lo, err)
        hi = e.exact(Op.FAdd, r, r_lo)
        r, r_lo = hi, e.exact(Op.FSub, r_lo, e.exact(Op.FSub, hi, r))
    zero_k = e.eq(k, e.const(0.0))
    # -0: sin(-0) and tan(-0) are -0, s + r_lo c keeps the sign of a zero s
    return k, e.sel(zero_k, x, r), e.sel(zero_k, e.const(-0.0), r_lo)


def _near_or_driver(e, x, v, inst):
    """v up to SINCOS_MAX, the driver's GLSL Sin/Cos/Tan beyond (no Payne-Hanek reduction; Vulkan
    promises an absolute error only); inf gives NaN."""
    near = e.op(Op.FOrdLessThanEqual, e.glsl(GLSL.FAbs, x), e.const(SINCOS_MAX), t=e.t_bool)
    far = e.sel(e.op(Op.IsInf, x, t=e.t_bool), e.const(float("nan")), e.glsl(inst, x))
    return e.sel(near, v, far)


def _sincos(e, x, cos):
    # The sin or cos polynomial of r (_pio2_reduce) by quadrant. Max 1 ulp measured for |x| <=
    # SINCOS_MAX (1.6 without fp64); beyond it the driver's GLSL Sin/Cos answers.
    u = e.ctx.t_u32
    k, r, r_lo = _pio2_reduce(e, x)
    r2 = e.exact(Op.FMul, r, r)
    s = e.fma(e.exact(Op.FMul, r, r2), e.poly(r2, SIN_Q), r)
    c = e.fma(e.exact(Op.FMul, r2, r2), e.poly(r2, COS_Q), e.fma(e.const(-0.5), r2, e.const(1.0)))
    # sin(r + r_lo) ~ s + r_lo c, cos(r + r_lo) ~ c - r_lo s
    s, c = e.fma(r_lo, c, s), e.fma(e.op(Op.FNegate, r_lo), s, c)
    q = e.op(Op.ConvertFToS, k, t=u)
    if cos:
        q = e.op(Op.IAdd, q, e.ctx.u32(1), t=u)
    v = e.sel(_quadrant_is(e, q, 1), c, s)
    v = e.sel(_quadrant_is(e, q, 2), e.op(Op.FNegate, v), v)
    return _near_or_driver(e, x, v, GLSL.Cos if cos else GLSL.Sin)


def _tan(e, x):
    # tan(r + r_lo) = r + (r^3 q(r^2) + r_lo (1 + tan^2 r)) as a double-float hi + lo; in odd
    # quadrants -1 / (hi + lo) from a reciprocal refined once with an exact residual. Max 1.06 ulp
    # measured for |x| <= SINCOS_MAX (with or without fp64); beyond it the driver's GLSL Tan answers.
    k, r, r_lo = _pio2_reduce(e, x)
    r2 = e.exact(Op.FMul, r, r)
    tail = e.exact(Op.FMul, e.exact(Op.FMul, r, r2), e.poly(r2, TAN_Q))
    t = e.exact(Op.FAdd, r, tail)
    tail = e.fma(r_lo, e.fma(t, t, e.const(1.0)), tail)
    hi, lo = _fast_two_sum(e, r, tail)
    y = e.op(Op.FDiv, e.const(1.0), hi)
    y = e.fma(y, e.exact(Op.FSub, _residual(e, e.const(1.0), hi, y), e.exact(Op.FMul, lo, y)), y)
    v = e.sel(_quadrant_is(e, e.op(Op.ConvertFToS, k, t=e.ctx.t_u32), 1), e.op(Op.FNegate, y), hi)
    return _near_or_driver(e, x, v, GLSL.Tan)


def _pow_f32_in_f64(e, ax, y):
    """|x|^y for x > 0 (finite or inf) in fp64, rounded once to f32: log2|x| by atanh's series
    (s = (m-1)/(m+1), |s| < 0.172, 7 terms: 2^-40), 2^t by a Taylor polynomial of degree 11 on
    [-1/2, 1/2], 2^n put in the exponent bits. Max 0.5 ulp measured; t = y log2|x| clamped to
    +-200 (beyond fp32's range)."""
    ctx = e.ctx
    d = ctx.m.type_float(64)
    u64 = ctx.t_u64
    ed = _Emit(ctx, d)
    k, f, _ = _log_parts(e, ax)
    m = ed.op(Op.FConvert, e.exact(Op.FAdd, f, e.const(1.0)), t=d)
    s = ed.op(Op.FDiv, ed.exact(Op.FSub, m, ed.const(1.0)), ed.exact(Op.FAdd, m, ed.const(1.0)))
    s2 = ed.exact(Op.FMul, s, s)
    series = ed.poly(s2, [1.0 / (2 * i + 1) for i in range(7)])
    log2m = ed.exact(Op.FMul, ed.exact(Op.FMul, s, series), ed.const(2.8853900817779268))   # 2 / ln 2
    t = ed.exact(Op.FMul, ed.op(Op.FConvert, y, t=d), ed.exact(Op.FAdd, ed.op(Op.FConvert, k, t=d), log2m))
    t = ed.sel(ed.op(Op.FOrdGreaterThan, t, ed.const(200.0), t=ctx.t_bool), ed.const(200.0), t)
    t = ed.sel(ed.lt(t, ed.const(-200.0)), ed.const(-200.0), t)
    n = ed.glsl(GLSL.RoundEven, t)
    g = ed.exact(Op.FMul, ed.exact(Op.FSub, t, n), ed.const(0.6931471805599453))
    fact = [1.0]
    for i in range(1, 12):
        fact.append(fact[-1] / i)
    p = ed.poly(g, fact)
    bits = ed.op(Op.ShiftLeftLogical, ed.op(Op.IAdd, ed.op(Op.ConvertFToS, n, t=u64), ctx.const(u64, 1023), t=u64),
                 ctx.const(u64, 52), t=u64)
    r = ed.exact(Op.FMul, p, ed.op(Op.Bitcast, bits, t=d))
    return e.op(Op.FConvert, r)


def _pow_f32(e, ax, y):
    """|x|^y without fp64: 2^(y log2|x|), the product a double-float; the error grows with
    |y log2 x| (log2's error times it: within 1 + 1.25 |y log2 x| ulp; the most seen over 2^20
    random operands on lavapipe was 1.23 ulp above 1 + |y log2 x|)."""
    l2 = _log2(e, ax)
    hi, lo = _two_product(e, y, l2)
    return _exp2_df(e, hi, lo)


def _residual(e, a, b, q):
    """a - b q, exact for q close to a / b."""
    p, err = _two_product(e, b, q)
    return e.exact(Op.FSub, e.exact(Op.FSub, a, p), err)


def _precise_div(e, a, b):
    # Correctly rounded a/b (equal to numpy's float32 division over random and edge operands;
    # results in the subnormal range faithful, rounded twice). a and b are scaled by powers of 2
    # into [2^-23, 4) so that every intermediate is normal; y = 1/b refined once, then two Newton
    # steps q += (a - b q) y with exact residuals (Dekker products); the quotient is scaled back
    # by 2^(ea - eb) in two exact factors. Zero, infinite or NaN operands take the plain quotient.
    if e.info.width != 32:   # fp64 (Triton has div_rn for fp32 and fp64 only): one step on the
        # device's quotient, q += (a - b q) / b with an exact residual (equal to numpy's division).
        # Where q is a small normal the correction (~q 2^-53) would be subnormal and lose the bits
        # that decide the rounding: the step is then taken with q and the residual scaled by 2^64
        # (exact), and scaled back exactly, the result being normal.
        q = e.op(Op.FDiv, a, b)
        res = _residual(e, a, b, q)
        use = e.op(Op.LogicalAnd, e.finite(res), e.op(Op.FOrdNotEqual, res, e.const(0.0), t=e.t_bool), t=e.t_bool)
        use = e.op(Op.LogicalAnd, use, _products_exact_f64(e, a), t=e.t_bool)
        aq = e.glsl(GLSL.FAbs, q)
        small = e.op(Op.LogicalAnd, e.op(Op.FOrdGreaterThan, aq, e.const(2.0**-1022), t=e.t_bool),
                     e.op(Op.FOrdLessThan, aq, e.const(2.0**-900), t=e.t_bool), t=e.t_bool)
        scale = e.sel(small, e.const(2.0**64), e.const(1.0))
        step = e.op(Op.FDiv, e.exact(Op.FMul, res, scale), b)
        stepped = e.exact(Op.FAdd, e.exact(Op.FMul, q, scale), step)
        return e.sel(use, e.exact(Op.FMul, stepped, e.op(Op.FDiv, e.const(1.0), scale)), q)
    u = e.ctx.t_u32

    def exponent(v):   # biased exponent, clamped so that 2^(127 - it) is a normal float
        biased = e.op(Op.BitwiseAnd, e.op(Op.ShiftRightLogical, e.ucast(v), e.ctx.u32(23), t=u), e.ctx.u32(255), t=u)
        return e.glsl(GLSL.UClamp, biased, e.ctx.u32(1), e.ctx.u32(253), t=u)

    ea, eb = exponent(a), exponent(b)
    sa, sb = (e.fcast(e.op(Op.ShiftLeftLogical, e.op(Op.ISub, e.ctx.u32(254), v, t=u), e.ctx.u32(23), t=u))
              for v in (ea, eb))
    an, bn = e.exact(Op.FMul, a, sa), e.exact(Op.FMul, b, sb)   # both in [2^-23, 4)
    q = e.op(Op.FDiv, an, bn)
    y0 = e.op(Op.FDiv, e.const(1.0), bn)
    y = e.fma(e.fma(e.op(Op.FNegate, bn), y0, e.const(1.0)), y0, y0)
    q1 = e.fma(_residual(e, an, bn, q), y, q)
    q2 = e.fma(_residual(e, an, bn, q1), y, q1)
    d = e.op(Op.ISub, ea, eb, t=u)
    d1 = e.op(Op.ShiftRightArithmetic, d, e.ctx.u32(1), t=u)
    r = e.exact(Op.FMul, e.exact(Op.FMul, q2, _pow2i(e, d1)), _pow2i(e, e.op(Op.ISub, d, d1, t=u)))
    regular = e.op(Op.LogicalAnd, e.finite(a), e.finite(b), t=e.t_bool)
    nonzero = e.op(Op.LogicalAnd, e.op(Op.FOrdNotEqual, a, e.const(0.0), t=e.t_bool),
                   e.op(Op.FOrdNotEqual, b, e.const(0.0), t=e.t_bool), t=e.t_bool)
    return e.sel(e.op(Op.LogicalAnd, regular, nonzero, t=e.t_bool), r, e.op(Op.FDiv, a, b))


def _products_exact_f64(e, v):
    """|v| large enough that the tails of Dekker products near v are normal (exact): 2^-916."""
    return e.op(Op.FOrdGreaterThan, e.glsl(GLSL.FAbs, v), e.const(2.0**-916), t=e.t_bool)


def _precise_sqrt(e, x):
    # fp32 or fp64 (Triton has sqrt_rn for those only); the exact residual x - s^2 comes from
    # Dekker's product (Fma need not be fused; lavapipe's is not, and made fp64 1 ulp off).
    s = e.glsl(GLSL.Sqrt, x)
    p, err = _two_product(e, s, s)
    res = e.exact(Op.FSub, e.exact(Op.FSub, x, p), err)
    use = e.op(Op.LogicalAnd, e.finite(res), e.op(Op.FOrdNotEqual, res, e.const(0.0), t=e.t_bool), t=e.t_bool)
    use = e.op(Op.LogicalAnd, use, e.op(Op.FOrdGreaterThan, s, e.const(0.0), t=e.t_bool), t=e.t_bool)
    if e.info.width == 64:
        use = e.op(Op.LogicalAnd, use, _products_exact_f64(e, x), t=e.t_bool)
    step = e.op(Op.FDiv, res, e.op(Op.FAdd, s, s))
    return e.sel(use, e.op(Op.FAdd, s, step), s)


def _round_half_away(e, x):
    # GLSL Round leaves the direction of .5 to the implementation; C round() goes away from 0.
    t = e.glsl(GLSL.Trunc, x)
    frac = e.glsl(GLSL.FAbs, e.op(Op.FSub, x, t))
    away = e.op(Op.FOrdGreaterThanEqual, frac, e.const(0.5), t=e.t_bool)
    return e.sel(away, e.op(Op.FAdd, t, e.glsl(GLSL.FSign, x)), t)


def _copysign(e, x, y):
    u = e.uint()
    sign = e.const(1 << (e.info.width - 1), u)
    mag = e.op(Op.BitwiseAnd, e.op(Op.Bitcast, x, t=u), e.const((1 << (e.info.width - 1)) - 1, u), t=u)
    s = e.op(Op.BitwiseAnd, e.op(Op.Bitcast, y, t=u), sign, t=u)
    return e.op(Op.Bitcast, e.op(Op.BitwiseOr, mag, s, t=u))


def _pow_with(core):
    return lambda e, x, y: _pow(e, x, y, core)


def _pow(e, x, y, core):
    # GLSL Pow is undefined for x < 0 and for x = 0, y <= 0: compute |x|^y and fix the sign and
    # the special cases as C pow does.
    ax = e.glsl(GLSL.FAbs, x)
    r = core(e, ax, y)
    r = e.sel(e.eq(ax, e.const(1.0)), e.const(1.0), r)   # (-1)^+-inf = 1, as C pow
    y_int = e.eq(e.glsl(GLSL.Trunc, y), y)
    half = e.op(Op.FMul, y, e.const(0.5))
    y_odd = e.op(Op.LogicalAnd, y_int, e.op(Op.FOrdNotEqual, e.glsl(GLSL.Trunc, half), half, t=e.t_bool), t=e.t_bool)
    zero = e.eq(ax, e.const(0.0))
    r = e.sel(e.op(Op.LogicalAnd, zero, e.op(Op.LogicalNot, e.isnan(y), t=e.t_bool), t=e.t_bool),
              e.sel(e.lt(y, e.const(0.0)), e.const(float("inf")), e.const(0.0)), r)   # 0^NaN is NaN
    neg = e.lt(x, e.const(0.0))
    neg = e.op(Op.LogicalOr, neg, e.op(Op.LogicalAnd, zero, e.lt(_copysign(e, e.const(1.0), x), e.const(0.0)), t=e.t_bool),
               t=e.t_bool)
    r = e.sel(e.op(Op.LogicalAnd, neg, y_odd, t=e.t_bool), e.op(Op.FNegate, r), r)
    bad = e.op(Op.LogicalAnd, e.lt(x, e.const(0.0)), e.op(Op.LogicalNot, y_int, t=e.t_bool), t=e.t_bool)
    bad = e.op(Op.LogicalAnd, bad, e.finite(x), t=e.t_bool)
    r = e.sel(bad, e.const(float("nan")), r)
    one = e.op(Op.LogicalOr, e.eq(y, e.const(0.0)), e.eq(x, e.const(1.0)), t=e.t_bool)
    return e.sel(one, e.const(1.0), r)


def _accurate_pow(e, ax, y):
    if e.info.width == 64:
        r = _pow_f64(e, ax, y)
    else:
        r = _pow_f32_in_f64(e, ax, y) if e.ctx.target.has_float64 else _pow_f32(e, ax, y)
    # The exponent extraction sees inf and NaN as large finite numbers.
    r = e.sel(e.eq(ax, e.const(float("inf"))), e.sel(e.lt(y, e.const(0.0)), e.const(0.0), ax), r)
    return e.sel(e.op(Op.LogicalOr, e.isnan(ax), e.isnan(y), t=e.t_bool), e.const(float("nan")), r)


def _powi(e, x, n):
    sint = e.ctx.m.type_int(32, False)
    return FUNCS["pow"](e, x, e.op(Op.ConvertSToF, n) if e.ctx.m.type_of(n) == sint else n)


def _log1p(e, x):
    # log(u + err) = log(u) + err / u with u + err = 1 + x exactly (two-sum): the rounding of 1 + x
    # enters log as its tail, no division by u - 1 (Goldberg's trick took the device's FDiv error on
    # top of log's: 3.07 ulp on the H200). x itself where 1 + x rounds to 1 (keeps -0 and tiny x).
    u, err = _two_sum(e, e.const(1.0), x)
    r = _log(e, u, e.op(Op.FDiv, err, u))
    return e.sel(e.eq(u, e.const(1.0)), x, r)


def _expm1(e, x):
    # (u - 1) * x / log(u) with u = exp(x) (Kahan's trick); exact x where u rounds to 1.
    u = _exp(e, x)
    d = e.exact(Op.FSub, u, e.const(1.0))
    lg = _log(e, u)
    r = e.op(Op.FMul, d, e.op(Op.FDiv, x, lg))
    r = e.sel(e.eq(u, e.const(1.0)), x, r)
    return e.sel(e.op(Op.LogicalOr, e.eq(d, e.const(-1.0)), e.op(Op.IsInf, u, t=e.t_bool), t=e.t_bool), d, r)


def _fast_log10(e, x):
    return e.op(Op.FMul, _glsl32(GLSL.Log2)(e, x), e.const(0.30102999566398120))


def _fast_exp10(e, x):
    return _glsl32(GLSL.Exp2)(e, e.op(Op.FMul, x, e.const(3.3219280948873623)))


def _cbrt(e, x):
    # |x|^(1/3) with the sign restored, then one Newton step r -= (r^3 - x) / (3 r^2); |x| scaled by
    # 2^72 below 2^-100 (the result by 2^-24) so that the residual r^3 - x, ~|x| 2^-24, stays normal
    # (devices that flush denormals, NVIDIA's, dropped the step: 27 ulp near 1e-37) and GLSL Pow never
    # sees a subnormal (up to 1e9 ulp off); by 2^-24 above 2^125 (the result by 2^8) so that r^3 stays
    # finite (the step was skipped at FLT_MAX: 12 ulp). Zeros, infinities and NaN are x (Pow of NaN
    # gave 0); a subnormal x that the device flushed to zero gives that zero. Max 0.95 ulp measured.
    a = e.glsl(GLSL.FAbs, x)
    tiny, huge = e.lt(a, e.const(2.0**-100)), e.op(Op.FOrdGreaterThan, a, e.const(2.0**125), t=e.t_bool)
    xs = e.exact(Op.FMul, x, e.sel(tiny, e.const(2.0**72), e.sel(huge, e.const(2.0**-24), e.const(1.0))))
    r = _copysign(e, e.glsl(GLSL.Pow, e.glsl(GLSL.FAbs, xs), e.const(1.0 / 3.0)), xs)
    r2 = e.op(Op.FMul, r, r)
    step = e.op(Op.FDiv, e.fma(r2, r, e.op(Op.FNegate, xs)), e.op(Op.FMul, r2, e.const(3.0)))
    r = e.op(Op.FSub, r, step)
    r = e.exact(Op.FMul, r, e.sel(tiny, e.const(2.0**-24), e.sel(huge, e.const(2.0**8), e.const(1.0))))
    r = e.sel(e.eq(xs, e.const(0.0)), xs, r)
    special = e.op(Op.LogicalOr, e.op(Op.LogicalNot, e.finite(x), t=e.t_bool), e.eq(x, e.const(0.0)), t=e.t_bool)
    return e.sel(special, x, r)


def _erf(e, x):
    # |x| < 0.5: Taylor series (keeps the relative error small near 0, where 1 - erfc cancels);
    # otherwise 1 - erfc(|x|) with Numerical Recipes' erfc (relative error < 1.2e-7), sign restored.
    coeffs = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
              0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277]
    taylor = [1.0, -1.0 / 3, 1.0 / 10, -1.0 / 42, 1.0 / 216, -1.0 / 1320]
    ax = e.glsl(GLSL.FAbs, x)
    t = e.op(Op.FDiv, e.const(1.0), e.fma(e.const(0.5), ax, e.const(1.0)))
    p = e.const(coeffs[-1])
    for k in reversed(coeffs[:-1]):
        p = e.fma(p, t, e.const(k))
    erfc = e.op(Op.FMul, t, _exp(e, e.op(Op.FSub, p, e.op(Op.FMul, ax, ax))))
    big = _copysign(e, e.op(Op.FSub, e.const(1.0), erfc), x)
    x2 = e.op(Op.FMul, x, x)
    s = e.const(taylor[-1])
    for k in reversed(taylor[:-1]):
        s = e.fma(s, x2, e.const(k))
    small = e.op(Op.FMul, e.op(Op.FMul, x, e.const(1.1283791670955126)), s)
    return e.sel(e.lt(ax, e.const(0.5)), small, big)


def _saturate(e, x):
    return e.sel(e.isnan(x), e.const(0.0), e.glsl(GLSL.FClamp, x, e.const(0.0), e.const(1.0)))


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
    counts = [e.op(Op.ISub, e.ctx.u32(31), e.glsl(GLSL.FindUMsb, p, t=u), t=u) for p in parts]
    n = counts[0]
    if len(parts) == 2:
        hi_zero = e.op(Op.IEqual, parts[1], e.ctx.u32(0), t=e.t_bool)
        n = e.sel(hi_zero, e.op(Op.IAdd, counts[0], e.ctx.u32(32), t=u), counts[1], t=u)
    elif e.info.width < 32:
        n = e.op(Op.ISub, n, e.ctx.u32(32 - e.info.width), t=u)
    return n


def _ctz(e, x):
    u = e.ctx.t_u32
    parts = _to_u32_parts(e, x)
    w = min(32, e.info.width)

    def one(p, width):
        lsb = e.glsl(GLSL.FindILsb, p, t=u)
        return e.sel(e.op(Op.IEqual, p, e.ctx.u32(0), t=e.t_bool), e.ctx.u32(width), lsb, t=u)
    if len(parts) == 2:
        lo_zero = e.op(Op.IEqual, parts[0], e.ctx.u32(0), t=e.t_bool)
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
    return e.glsl(GLSL.SAbs, x)


FUNCS = {
    "exp": _f32(_exp, _exp_f64), "exp2": _f32(_exp2, _exp2_f64), "log": _f32(_log, _log_f64),
    "log2": _f32(_log2, lambda e, x: _log_f64(e, x, (1.0, 1.4426950408889634))),
    "sin": _f32(lambda e, x: _sincos(e, x, False), lambda e, x: _sincos_f64(e, x, False)),
    "cos": _f32(lambda e, x: _sincos(e, x, True), lambda e, x: _sincos_f64(e, x, True)),
    "tanh": _f32(_tanh, _tanh_f64), "log10": _f32(_log10, lambda e, x: _log_f64(e, x, (0.30102999566398120, 0.4342944819032518))), "exp10": _f32(_exp10, _exp10_f64), "log1p": _f32(_log1p, _log1p_f64),
    "expm1": _f32(_expm1, _expm1_f64), "pow": _f32(_pow_with(_accurate_pow), _pow_with(_accurate_pow)), "powi": _powi,
    "erf": _f32(_erf, _erf_f64),
    "fast_exp": _glsl32(GLSL.Exp), "fast_log": _glsl32(GLSL.Log),
    # tl.exp / tl.exp2 on fp32: what Triton's CUDA backend emits (ex2.approx of x * log2(e)), so
    # kernels like softmax cost what they cost there; libdevice's exp/exp2 above stay accurate.
    # fp64 is accurate there too (the CUDA backend calls libdevice's exp for f64).
    "exp_approx": _f32(lambda e, x: e.glsl(GLSL.Exp2, e.op(Op.FMul, x, e.const(1.4426950408889634))), _exp_f64),
    "exp2_approx": _f32(lambda e, x: e.glsl(GLSL.Exp2, x), _exp2_f64),
    "fast_log2": _glsl32(GLSL.Log2), "fast_sin": _glsl32(GLSL.Sin), "fast_cos": _glsl32(GLSL.Cos),
    "fast_log10": _fast_log10, "fast_exp10": _fast_exp10,
    "fast_pow": _pow_with(lambda e, ax, y: _glsl32(GLSL.Pow)(e, ax, y)),
    "tan": _f32(_tan, _tan_f64), "fast_tan": _glsl32(GLSL.Tan),
    "asin": _f32(_asin, _asin_f64), "acos": _f32(_acos, _acos_f64), "atan": _f32(_atan, _atan_f64),
    "atan2": _f32(_atan2, _atan2_f64),
    "sinh": _f32(lambda e, x: _sinh_cosh(e, x, False), lambda e, x: _sinh_cosh_f64(e, x, False)),
    "cosh": _f32(lambda e, x: _sinh_cosh(e, x, True), lambda e, x: _sinh_cosh_f64(e, x, True)),
    "asinh": _f32(_asinh, _asinh_f64), "acosh": _f32(_acosh, _acosh_f64), "atanh": _f32(_atanh, _atanh_f64),
    "cbrt": _f32(_cbrt, _cbrt_f64),
    "sqrt": _glsl(GLSL.Sqrt), "rsqrt": _glsl(GLSL.InverseSqrt), "floor": _glsl(GLSL.Floor),
    "ceil": _glsl(GLSL.Ceil), "trunc": _glsl(GLSL.Trunc), "fabs": _glsl(GLSL.FAbs),
    "fma": _glsl(GLSL.Fma), "rint": _glsl(GLSL.RoundEven), "nearbyint": _glsl(GLSL.RoundEven),
    "roundeven": _glsl(GLSL.RoundEven), "round": _round_half_away,
    "fmin": _glsl(GLSL.NMin), "fmax": _glsl(GLSL.NMax), "copysign": _copysign,
    "fmod": lambda e, a, b: e.op(Op.FRem, a, b), "saturate": _saturate,
    "div_rn": _precise_div, "sqrt_rn": _precise_sqrt,
    "fast_div": lambda e, a, b: e.op(Op.FDiv, a, b),
    "rcp_rn": lambda e, x: _precise_div(e, e.const(1.0), x),
    "clz": _clz, "ctz": _ctz, "popc": _popc, "umulhi": _mulhi(False), "mulhi": _mulhi(True),
    "abs": _iabs,
}

_MATH_OPS = {
    "math.exp": "exp_approx", "math.exp2": "exp2_approx", "math.log": "log", "math.log2": "log2", "math.sin": "sin",
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
    "fast_expf": "fast_exp", "fast_exp10f": "fast_exp10", "fast_logf": "fast_log", "fast_log2f": "fast_log2",
    "fast_log10f": "fast_log10", "fast_sinf": "fast_sin", "fast_cosf": "fast_cos", "fast_tanf": "fast_tan",
    "fast_powf": "fast_pow", "fast_fdividef": "fast_div", "fdiv_rn": "div_rn", "ddiv_rn": "div_rn",
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
            b = e.op(Op.IsInf, x, t=e.t_bool)
        elif base.startswith("signbit"):
            b = e.lt(_copysign(e, e.const(1.0), x), e.const(0.0))
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
        r = e.glsl(GLSL.NMin, e.glsl(GLSL.NMax, x, lo), hi)
        return e.sel(e.isnan(x), x, r) if propagate else r
    elementwise(ctx, op, fn)
