"""tt.dot_scaled as the ops it stands for, a rewrite of the TTIR before lowering.

A scaled dot multiplies microscaled operands: fp4 (e2m1, two per byte along K), fp8 (e4m3, e5m2),
bf16 or fp16 elements, each operand optionally with one e8m0 scale (2^(s - 127), 0xFF: NaN) per 32
elements along K. Where the hardware has no scaled MMA, Triton's DecomposeScaledBlocked pass
rewrites it, and so does this one, step for step: each operand is upcast to the compute type (fp16
where either side is fp16, else bf16), multiplied by its scale broadcast along K (the product
rounded once to the compute type, the scale first rounded to it as Triton does), NaN where the
scale is 0xFF unless fastMath, and one tt.dot accumulates in f32. The ops are written as TTIR text
for the op's types, parsed, and spliced in place of the op with its source location.
"""
from __future__ import annotations

from jitspv.lower.errors import LoweringError
from jitspv.ttir import ir

_FP8 = {"e4m3": "f8E4M3FN", "e5m2": "f8E5M2"}
_HALF = {"bf16": "bf16", "fp16": "f16"}


def decompose_scaled_dots(module, func) -> None:
    """Replace every tt.dot_scaled of `func` in place."""
    replaced = {}
    for op in [o for o in func.walk() if o.name == "tt.dot_scaled"]:
        replaced[op.results[0]] = _splice(op, _decomposition(op))
    if replaced:
        for op in func.walk():
            op.operands = [replaced.get(v, v) for v in op.operands]


def _splice(op, text):
    """Parse `text` (one function taking the op's operands) and put its body where `op` was;
    returns the value standing for the op's result."""
    from jitspv.ttir.parser import parse
    body = parse(text).functions[0].body.entry
    vmap = dict(zip(body.arguments, op.operands))
    block = op.parent
    ops = []
    for inner in body.operations:
        if inner.name == "tt.return":
            result = vmap[inner.operands[0]]
            break
        copy = ir.clone(inner, vmap)
        copy.location = op.location
        ops.append(copy)
    at = block.operations.index(op)
    rest = block.operations[at + 1:]
    block.operations = block.operations[:at]
    for o in ops + rest:
        block.append(o)
    return result


def _tensor(shape, elem):
    return "tensor<" + "".join(f"{d}x" for d in shape) + f"{elem}>"


class _Text:
    """The decomposition's function body, one line per op; each call names its result."""

    def __init__(self):
        self.lines, self.count = [], 0

    def __call__(self, rhs):
        name = f"%v{self.count}"
        self.count += 1
        self.lines.append(f"    {name} = {rhs}")
        return name

    def const(self, value, shape, elem):
        return self(f"arith.constant dense<{value}> : {_tensor(shape, elem)}")


def _decomposition(op):
    a, b, c = op.operands[:3]
    scales = list(op.operands[3:])
    sizes = op.attributes["operandSegmentSizes"].values
    a_scale = scales.pop(0) if sizes[3] else None
    b_scale = scales.pop(0) if sizes[4] else None
    fmt_a, fmt_b = op.attributes["a_elem_type"].value, op.attributes["b_elem_type"].value
    fast = getattr(op.attributes.get("fastMath"), "value", False)
    for side in ("lhs_k_pack", "rhs_k_pack"):
        if not getattr(op.attributes.get(side), "value", True):
            raise LoweringError(f"tt.dot_scaled with {side} = false (fp4 packed along M or N) is not supported yet",
                                op.location)
    for fmt in (fmt_a, fmt_b):
        if fmt != "e2m1" and fmt not in _FP8 and fmt not in _HALF:
            raise LoweringError(f"tt.dot_scaled of {fmt} operands is not supported", op.location)
    if len(c.type.shape) != 2:
        raise LoweringError("tt.dot_scaled of batched (3-D) operands is not supported yet", op.location)
    m, n = c.type.shape
    compute = "f16" if "fp16" in (fmt_a, fmt_b) else "bf16"
    t = _Text()
    args = [a, b, c] + [s for s in (a_scale, b_scale) if s is not None]
    names = {v: f"%arg{i}" for i, v in enumerate(args)}
    va = _operand(t, names[a], a.type, fmt_a, a_scale and (names[a_scale], a_scale.type), compute, fast, k_dim=1)
    vb = _operand(t, names[b], b.type, fmt_b, b_scale and (names[b_scale], b_scale.type), compute, fast, k_dim=0)
    k = va[1][1]
    d = t(f"tt.dot {va[0]}, {vb[0]}, {names[c]} : {_tensor((m, k), compute)} * {_tensor((k, n), compute)} -> "
          f"{_tensor((m, n), 'f32')}")
    params = ", ".join(f"{names[v]}: {v.type}" for v in args)
    return (f"module {{\n  tt.func private @dot_scaled({params}) -> {c.type} {{\n" + "\n".join(t.lines)
            + f"\n    tt.return {d} : {c.type}\n  }}\n}}\n")


def _operand(t, x, ty, fmt, scale, compute, fast, k_dim):
    """(name, shape) of the operand upcast to `compute` and scaled by `scale` ((name, type) or None);
    k_dim: 1 for A (M x K), 0 for B (K x N)."""
    shape = tuple(ty.shape)
    elem = str(ty.element_type)
    if fmt == "e2m1":
        v, shape = _fp4(t, x, shape, k_dim)
    elif fmt in _FP8:
        if elem != _FP8[fmt]:   # codes in i8
            x = t(f"tt.bitcast {x} : {ty} -> {_tensor(shape, _FP8[fmt])}")
        v = t(f"tt.fp_to_fp {x} : {_tensor(shape, _FP8[fmt])} -> {_tensor(shape, 'f32')}")
    else:
        v = t(f"arith.extf {x} : {ty} to {_tensor(shape, 'f32')}")
    f32 = _tensor(shape, "f32")
    if scale is not None:
        v = t(f"arith.mulf {v}, {_scale(t, *scale, shape, k_dim, compute, fast)} : {f32}")
    return t(f"arith.truncf {v} : {f32} to {_tensor(shape, compute)}"), shape


def _scale(t, s, ty, shape, k_dim, compute, fast):
    """The e8m0 scales (rows x K/32, rows: M for A, N for B) as f32 factors of the operand's shape:
    2^(s - 127) rounded to the compute type, NaN where s is 0xFF (unless fastMath)."""
    rows, groups = ty.shape
    i32 = _tensor((rows, groups), "i32")
    si = t(f"arith.extui {s} : {ty} to {i32}")
    bits = t(f"arith.shli {si}, {t.const(23, (rows, groups), 'i32')} : {i32}")
    f = t(f"tt.bitcast {bits} : {i32} -> {_tensor((rows, groups), 'f32')}")
    f32 = _tensor((rows, groups), "f32")
    if compute == "f16":   # Triton's fp16 scale: the f32 power of two rounded to fp16
        half = t(f"arith.truncf {f} : {f32} to {_tensor((rows, groups), 'f16')}")
        f = t(f"arith.extf {half} : {_tensor((rows, groups), 'f16')} to {f32}")
    if not fast:
        nan = t.const("0x7FC00000", (rows, groups), "f32")
        is_nan = t(f"arith.cmpi eq, {si}, {t.const(255, (rows, groups), 'i32')} : {i32}")
        f = t(f"arith.select {is_nan}, {nan}, {f} : {_tensor((rows, groups), 'i1')}, {f32}")
    if k_dim == 0:   # B's scales are N x K/32: K/32 x N, like B
        f = t(f"tt.trans {f} {{order = array<i32: 1, 0>}} : {f32} -> {_tensor((groups, rows), 'f32')}")
        grouped, spread = (groups, 1, rows), (groups, 32, rows)
        before = (groups, rows)
    else:
        grouped, spread = (rows, groups, 1), (rows, groups, 32)
        before = (rows, groups)
    g = t(f"tt.reshape {f} : {_tensor(before, 'f32')} -> {_tensor(grouped, 'f32')}")
    g = t(f"tt.broadcast {g} : {_tensor(grouped, 'f32')} -> {_tensor(spread, 'f32')}")
    return t(f"tt.reshape {g} : {_tensor(spread, 'f32')} -> {_tensor(shape, 'f32')}")


def _fp4(t, x, shape, k_dim):
    """e2m1 codes, two per byte along K (the low nibble first), as f32 values: (name, shape)."""
    i32 = _tensor(shape, "i32")
    word = t(f"arith.extui {x} : {_tensor(shape, 'i8')} to {i32}")
    low = t(f"arith.andi {word}, {t.const(15, shape, 'i32')} : {i32}")
    high = t(f"arith.shrui {word}, {t.const(4, shape, 'i32')} : {i32}")
    lo, hi = (_e2m1(t, nibble, shape) for nibble in (low, high))
    pairs = shape + (2,)
    j = t(f"tt.join {lo}, {hi} : {_tensor(shape, 'f32')} -> {_tensor(pairs, 'f32')}")
    if k_dim == 0:   # K/2 x N x 2 -> K/2 x 2 x N, so that K/2 x 2 reads as K
        pairs = (shape[0], 2, shape[1])
        j = t(f"tt.trans {j} {{order = array<i32: 0, 2, 1>}} : {_tensor(shape + (2,), 'f32')} -> "
              f"{_tensor(pairs, 'f32')}")
    full = (shape[0] * 2, shape[1]) if k_dim == 0 else (shape[0], shape[1] * 2)
    return t(f"tt.reshape {j} : {_tensor(pairs, 'f32')} -> {_tensor(full, 'f32')}"), full


def _e2m1(t, nibble, shape):
    """One e2m1 code per element (sign, 2 exponent bits, 1 mantissa bit) -> its f32 value:
    exponent 0: m / 2; else (2 + m) * 2^(e - 2)."""
    i32, f32, i1 = _tensor(shape, "i32"), _tensor(shape, "f32"), _tensor(shape, "i1")

    def ints(op, x, value):
        return t(f"arith.{op} {x}, {t.const(value, shape, 'i32')} : {i32}")
    mag = ints("andi", nibble, 7)
    e = ints("shrui", mag, 1)
    m = t(f"arith.uitofp {ints('andi', mag, 1)} : {i32} to {f32}")
    sub = t(f"arith.mulf {m}, {t.const('5.000000e-01', shape, 'f32')} : {f32}")
    power = t(f"tt.bitcast {ints('shli', ints('addi', e, 125), 23)} : {i32} -> {f32}")   # 2^(e - 2)
    two_plus_m = t(f"arith.addf {m}, {t.const('2.000000e+00', shape, 'f32')} : {f32}")
    normal = t(f"arith.mulf {two_plus_m}, {power} : {f32}")
    v = t(f"arith.select {ints('cmpi eq,', e, 0)}, {sub}, {normal} : {i1}, {f32}")
    negative = ints("cmpi ne,", ints("andi", nibble, 8), 0)
    return t(f"arith.select {negative}, {t(f'arith.negf {v} : {f32}')}, {v} : {i1}, {f32}")
