"""Axis information: what is known statically about the values of an integer or pointer tensor.

Per dimension, as in Triton's AxisInfo:
  contiguity  -- values come in aligned runs of this many consecutive integers (+1 each step)
  divisibility -- the first value of every such run is divisible by this (bytes, for pointers)
  constancy   -- values come in aligned runs of this many equal values
These decide vector width and alignment of loads/stores: a run of v contiguous elements whose
start address is divisible by v * element size, under a mask constant over v elements, is one
v-wide access.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import gcd

from jitspv.lower.ttir_access import attr, elem_bytes, pointee, value_of

MAX_DIV = 1 << 30


@dataclass(frozen=True)
class AxisInfo:
    contiguity: tuple
    divisibility: tuple
    constancy: tuple

    @staticmethod
    def unknown(rank):
        r = max(rank, 1)
        return AxisInfo((1,) * r, (1,) * r, (1,) * r)


def pow2_divisor(v: int) -> int:
    v = int(v)
    if v == 0:
        return MAX_DIV
    return min(v & -v, MAX_DIV)


def _shape(t):
    return tuple(t.shape) if t.is_tensor else (1,)


def _splat_info(scalar: AxisInfo, shape):
    return AxisInfo((1,) * len(shape), (scalar.divisibility[0],) * len(shape), tuple(shape))


class AxisAnalysis:
    """Computes AxisInfo for every integer/pointer value of a TTIR function (forward; scf.for
    loop-carried values by a fixpoint over their initial and yielded values)."""

    def __init__(self, func):
        self.info = {}
        for i, arg in enumerate(func.arguments):
            div = func.arg_attr(i, "tt.divisibility")
            div = 1 if div is None else int(value_of(div))
            self.info[arg] = AxisInfo((1,), (div,), (1,))
        self._block(func.body.blocks[0])

    def get(self, value) -> AxisInfo:
        info = self.info.get(value)
        if info is None:
            info = AxisInfo.unknown(len(_shape(value.type)))
        return info

    def _block(self, block):
        for op in block.operations:
            rule = _RULES.get(op.name)
            if rule is not None and op.results:
                res = rule(self, op)
                if res is not None:
                    self.info[op.results[0]] = res
            if op.name == "scf.for":
                self._for(op)
                continue
            for region in op.regions:
                for b in region.blocks:
                    self._block(b)

    def _for(self, op):
        """Loop-carried values get what holds for their initial value and every yielded one
        (join by gcd, iterated until stable), so pointers advanced by a constant in a K loop keep
        their contiguity and alignment."""
        body = op.regions[0].blocks[0]
        lb, step = self.get(op.operands[0]), self.get(op.operands[2])
        self.info[body.arguments[0]] = AxisInfo((1,), (gcd(lb.divisibility[0], step.divisibility[0]),), (1,))
        carried = list(zip(body.arguments[1:], op.operands[3:]))
        yields = body.operations[-1].operands if body.operations and body.operations[-1].name == "scf.yield" else ()
        state = [self.get(init) for _, init in carried]
        for _ in range(8):
            for (arg, _), info in zip(carried, state):
                self.info[arg] = info
            self._block(body)
            if len(yields) != len(carried):
                break
            joined = [_join(s, self.get(y)) for s, y in zip(state, yields)]
            if joined == state:
                break
            state = joined
        else:
            state = [AxisInfo.unknown(len(_shape(arg.type))) for arg, _ in carried]
            for (arg, _), info in zip(carried, state):
                self.info[arg] = info
            self._block(body)


def _join(x: AxisInfo, y: AxisInfo) -> AxisInfo:
    return AxisInfo(*(tuple(gcd(p, q) for p, q in zip(a, b)) for a, b in
                      ((x.contiguity, y.contiguity), (x.divisibility, y.divisibility), (x.constancy, y.constancy))))


def _constant(a, op):
    t = op.results[0].type
    v = attr(op, "value", None)
    if isinstance(v, bool) or not isinstance(v, (int, list, tuple)):
        return None
    shape = _shape(t)
    if isinstance(v, (list, tuple)):  # non-splat dense: nothing cheap to say
        return AxisInfo.unknown(len(shape))
    return AxisInfo((1,) * len(shape), (pow2_divisor(v),) * len(shape), shape)


def _make_range(a, op):
    start, end = int(attr(op, "start")), int(attr(op, "end"))
    return AxisInfo((end - start,), (pow2_divisor(start),), (1,))


def _splat(a, op):
    return _splat_info(a.get(op.operands[0]), _shape(op.results[0].type))


def _cut(div, contig, new_contig, unit=1):
    """Divisibility of the first value of each run when runs of `contig` consecutive values (the
    first divisible by `div`) are cut into runs of `new_contig`: the later starts are
    first + k * new_contig * unit (unit: bytes per element for pointers)."""
    if contig <= 1 or new_contig >= contig:
        return div
    return gcd(div, new_contig * unit)


def _add(a, op):
    x, y = a.get(op.operands[0]), a.get(op.operands[1])
    scale = 1
    if op.name == "tt.addptr":
        scale = elem_bytes(pointee(op.results[0].type))
    ydiv = tuple(min(MAX_DIV, d * scale) for d in y.divisibility)
    contig = tuple(max(gcd(xc, yk), gcd(xk, yc)) for xc, xk, yc, yk in
                   zip(x.contiguity, x.constancy, y.contiguity, y.constancy))
    if op.name == "arith.subi":
        contig = tuple(gcd(xc, yk) for xc, yk in zip(x.contiguity, y.constancy))
    div = tuple(gcd(_cut(xd, xc, c, scale), _cut(yd, yc, c, scale)) for xd, xc, yd, yc, c in
                zip(x.divisibility, x.contiguity, ydiv, y.contiguity, contig))
    const = tuple(gcd(p, q) for p, q in zip(x.constancy, y.constancy))
    return AxisInfo(contig, div, const)


def _mul(a, op):
    # Products are not contiguous: every value is a run of its own, so an operand's divisibility
    # counts only where it held for every value (no contiguous runs), as in Triton.
    x, y = a.get(op.operands[0]), a.get(op.operands[1])
    div = tuple(min(MAX_DIV, _cut(p, pc, 1) * _cut(q, qc, 1)) for p, pc, q, qc in
                zip(x.divisibility, x.contiguity, y.divisibility, y.contiguity))
    const = tuple(gcd(p, q) for p, q in zip(x.constancy, y.constancy))
    return AxisInfo((1,) * len(div), div, const)


def _rem(a, op):
    # A run of consecutive ints starting at a multiple of g, taken modulo a splat divisible by g,
    # stays consecutive over g (indices are non-negative, as Triton assumes too).
    x, y = a.get(op.operands[0]), a.get(op.operands[1])
    g = tuple(gcd(p, q) for p, q in zip(x.divisibility, y.divisibility))
    contig = tuple(gcd(gcd(xc, gd), yk) for xc, gd, yk in zip(x.contiguity, g, y.constancy))
    div = tuple(_cut(gd, xc, c) for gd, xc, c in zip(g, x.contiguity, contig))
    const = tuple(gcd(p, q) for p, q in zip(x.constancy, y.constancy))
    return AxisInfo(contig, div, const)


def _cmp(a, op):
    x, y = a.get(op.operands[0]), a.get(op.operands[1])
    const = []
    for d in range(len(x.constancy)):
        c = gcd(x.constancy[d], y.constancy[d])
        # A run of consecutive ints starting at a multiple of D, compared with a splat divisible
        # by D, changes outcome only at multiples of D.
        if y.constancy[d] > 1 and x.contiguity[d] > 1:
            c = max(c, gcd(x.contiguity[d], gcd(x.divisibility[d], y.divisibility[d])))
        if x.constancy[d] > 1 and y.contiguity[d] > 1:
            c = max(c, gcd(y.contiguity[d], gcd(y.divisibility[d], x.divisibility[d])))
        const.append(c)
    return AxisInfo((1,) * len(const), (1,) * len(const), tuple(const))


def _logic(a, op):
    infos = [a.get(v) for v in op.operands]
    const = tuple(gcd(*ks) for ks in zip(*(i.constancy for i in infos)))
    return AxisInfo((1,) * len(const), (1,) * len(const), const)


def _passthrough(a, op):
    return a.get(op.operands[0])


def _contiguity_unit(t) -> int:
    """Bytes between consecutive values of a run: a pointer's element size, 1 for an integer
    (an address held as one counts bytes)."""
    e = t.element if t.is_tensor else t
    return elem_bytes(e.pointee) if e.is_pointer else 1


def _reinterpret(a, op):
    """A pointer seen with another element type, or as an integer (or back): the same bytes, so
    divisibility and constancy stay; runs stay contiguous only where the unit is the same (i64
    pointers 8 bytes apart are not consecutive i8 pointers)."""
    x = a.get(op.operands[0])
    if _contiguity_unit(op.operands[0].type) == _contiguity_unit(op.results[0].type):
        return x
    return AxisInfo((1,) * len(x.contiguity), x.divisibility, x.constancy)


def _broadcast(a, op):
    x = a.get(op.operands[0])
    src, dst = _shape(op.operands[0].type), _shape(op.results[0].type)
    contig, div, const = list(x.contiguity), list(x.divisibility), list(x.constancy)
    for d, (s, t) in enumerate(zip(src, dst)):
        if s == 1 and t != 1:
            contig[d], const[d] = 1, t
    return AxisInfo(tuple(contig), tuple(div), tuple(const))


def _expand_dims(a, op):
    x = a.get(op.operands[0])
    d = int(attr(op, "axis"))
    c, v, k = list(x.contiguity), list(x.divisibility), list(x.constancy)
    c.insert(d, 1)
    # Along the new dimension every value starts a run: what divides every value.
    v.insert(d, max(_cut(dv, dc, 1) for dv, dc in zip(x.divisibility, x.contiguity)))
    k.insert(d, 1)
    return AxisInfo(tuple(c), tuple(v), tuple(k))


def _select(a, op):
    c, x, y = (a.get(v) for v in op.operands)
    contig = tuple(min(gcd(ck, xc), gcd(ck, yc)) for ck, xc, yc in zip(c.constancy, x.contiguity, y.contiguity))
    div = tuple(gcd(_cut(p, pc, n), _cut(q, qc, n)) for p, pc, q, qc, n in
                zip(x.divisibility, x.contiguity, y.divisibility, y.contiguity, contig))
    const = tuple(gcd(gcd(p, q), r) for p, q, r in zip(c.constancy, x.constancy, y.constancy))
    return AxisInfo(contig, div, const)


_RULES = {
    "arith.constant": _constant,
    "tt.make_range": _make_range,
    "tt.splat": _splat,
    "arith.addi": _add,
    "arith.subi": _add,
    "tt.addptr": _add,
    "arith.muli": _mul,
    "arith.remsi": _rem,
    "arith.remui": _rem,
    "arith.cmpi": _cmp,
    "arith.andi": _logic,
    "arith.ori": _logic,
    "arith.extsi": _passthrough,
    "arith.extui": _passthrough,
    "arith.trunci": _passthrough,
    "tt.int_to_ptr": _reinterpret,
    "tt.ptr_to_int": _reinterpret,
    "tt.bitcast": _reinterpret,
    "tt.broadcast": _broadcast,
    "tt.expand_dims": _expand_dims,
    "arith.select": _select,
}
