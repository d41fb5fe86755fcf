"""Encoding assignment: choose one encoding per tensor value before emitting code.

Anchors are memory accesses: the pointer tensor of a load/store gets the default blocked encoding
for its shape and element size (each invocation owns 16 contiguous bytes). Encodings then flow
through ops that do not move data (elementwise ops share one; broadcast keeps it; expand_dims
and reductions turn it into / from a slice), forward and backward, until nothing changes.
Values nothing reaches get the default for their shape. Where an operand's encoding differs
from the one an op needs, the lowering converts it (jitspv.lower.movement.convert).
"""
from __future__ import annotations

from jitspv.lower.layout import Slice, default_blocked, expand_encoding
from jitspv.lower.op_facts import SAME_ENCODING, accesses_memory, has
from jitspv.lower.ttir_access import attr, elem_bytes, pointee


def assign_encodings(func, num_threads, dot_plans):
    """TTIR tensor value -> encoding; `dot_plans` (lower/dot_strategy.py) fix each dot's result."""
    enc = {}
    ops = []
    _collect(func.body.blocks[0], ops)

    def want(v, e):
        if e is None or not v.type.is_tensor or v in enc:
            return False
        enc[v] = e
        return True

    # Dot results (and the loop-carried accumulators they feed) keep their plan's encoding, so
    # `acc += tl.dot(a, b)` stays in registers across iterations; a store of a value computed
    # from a dot result stores from that encoding instead of converting the whole tile.
    for op in ops:
        if op.name == "tt.dot":
            want(op.results[0], dot_plans[op].encoding)
    for op in ops:
        if op.name == "scf.for":
            body = op.regions[0].blocks[0]
            for i, y in enumerate(body.operations[-1].operands):
                e = _dot_source(y, enc)
                want(body.arguments[i + 1], e)
                want(op.results[i], e)
        elif op.name == "tt.store" and op.operands[0].type.is_tensor:
            e = _dot_source(op.operands[1], enc)
            if e is not None:
                for v in op.operands:
                    _claim_tile(v, e, want)

    # Anchors: loads/stores/atomics, sized for their element type.
    for op in ops:
        if accesses_memory(op.name):
            ptr = op.operands[0]
            if ptr.type.is_tensor:
                want(ptr, default_blocked(tuple(ptr.type.shape), elem_bytes(pointee(ptr.type)), num_threads))

    def propagate(op):
        changed = False
        name = op.name
        tens = [v for v in list(op.operands) + list(op.results) if v.type.is_tensor]
        if not tens:
            return False
        if has(name, SAME_ENCODING) or name == "tt.broadcast":
            known = next((enc[v] for v in tens if v in enc), None)
            for v in tens:
                changed |= want(v, known)
        elif name == "tt.expand_dims":
            x, y = op.operands[0], op.results[0]
            d = int(attr(op, "axis"))
            if y in enc:
                changed |= want(x, Slice(enc[y], d))
            if x in enc:
                changed |= want(y, expand_encoding(enc[x], d))
        elif name == "tt.reduce":
            axis = int(attr(op, "axis"))
            ins = [v for v in op.operands if v.type.is_tensor]
            known = next((enc[v] for v in ins if v in enc), None)
            for v in ins:
                changed |= want(v, known)
            if known is not None:
                for r in op.results:
                    changed |= want(r, Slice(known, axis))
            for r in op.results:
                if r in enc and isinstance(enc[r], Slice) and enc[r].dim == axis:
                    for v in ins:
                        changed |= want(v, enc[r].parent)
        elif name == "tt.gather":   # the result has the index's shape: one encoding, no conversion
            pair = (op.operands[1], op.results[0])
            known = next((enc[v] for v in pair if v in enc), None)
            for v in pair:
                changed |= want(v, known)
        elif name in ("scf.for", "scf.if", "scf.while", "scf.yield", "scf.condition"):
            pass  # handled by _region_links below
        return changed

    links = _region_links(func)
    if any(op.name == "tt.dot" for op in ops):
        # A dot's store chain spreads its encoding back into index values shared with the
        # loads; loop-carried pointers take their load's encoding first, so the K loop keeps none
        # of those conversions.
        for group in links:
            known = next((enc[v] for v in group if v in enc), None)
            for v in group:
                want(v, known)
    changed = True
    while changed:
        changed = False
        for op in ops:
            changed |= propagate(op)
        for op in reversed(ops):
            changed |= propagate(op)
        for group in links:
            known = next((enc[v] for v in group if v in enc), None)
            for v in group:
                changed |= want(v, known)
    for op in ops:
        for v in list(op.results) + [a for r in op.regions for b in r.blocks for a in b.arguments]:
            if v.type.is_tensor and v not in enc:
                enc[v] = default_blocked(tuple(v.type.shape), 4, num_threads)
    return enc


def _dot_source(value, enc, seen=None):
    """The encoding of the tt.dot result `value` is computed from elementwise (same shape, through
    loop results), or None."""
    seen = set() if seen is None else seen
    if not value.type.is_tensor or value in seen:
        return None
    seen.add(value)
    op = value.owner
    name = getattr(op, "name", None)   # block arguments have a Block as owner
    if name == "tt.dot":
        return enc.get(value)
    if name == "scf.for":
        y = op.regions[0].blocks[0].operations[-1].operands[value.index]
        return _dot_source(y, enc, seen)
    if name and has(name, SAME_ENCODING) and name not in ("tt.load", "tt.splat"):
        for v in op.operands:
            if v.type.is_tensor and tuple(v.type.shape) == tuple(value.type.shape):
                e = _dot_source(v, enc, seen)
                if e is not None:
                    return e
    return None


def _claim_tile(value, e, want):
    """Give `value` and the same-shape tensors it is computed from elementwise encoding `e`; stop
    at broadcasts and loads, so layouts meet (and convert) at the small pre-broadcast values."""
    if not want(value, e):
        return
    op = value.owner
    name = getattr(op, "name", None)
    if name and has(name, SAME_ENCODING) and name not in ("tt.load", "tt.splat"):
        for v in op.operands:
            if v.type.is_tensor and tuple(v.type.shape) == tuple(value.type.shape):
                _claim_tile(v, e, want)


def _collect(block, out):
    for op in block.operations:
        out.append(op)
        for r in op.regions:
            for b in r.blocks:
                _collect(b, out)


def _region_links(func):
    """Groups of values that must share an encoding because control flow passes one as the
    other: loop init/iter-arg/yield/result, if-yield/result."""
    groups = []
    ops = []
    _collect(func.body.blocks[0], ops)
    for op in ops:
        if op.name == "scf.for":
            body = op.regions[0].blocks[0]
            inits = op.operands[3:]
            yields = body.operations[-1].operands
            for i, res in enumerate(op.results):
                groups.append([inits[i], body.arguments[i + 1], yields[i], res])
        elif op.name == "scf.if":
            for i, res in enumerate(op.results):
                g = [res]
                for r in op.regions:
                    if r.blocks:
                        g.append(r.blocks[0].operations[-1].operands[i])
                groups.append(g)
        elif op.name == "scf.while":
            before, after = op.regions[0].blocks[0], op.regions[1].blocks[0]
            cond = before.operations[-1]
            for i, a in enumerate(before.arguments):
                groups.append([op.operands[i], a, after.operations[-1].operands[i]])
            for i, res in enumerate(op.results):
                groups.append([cond.operands[i + 1], after.arguments[i], res])
    return [[v for v in g if v.type.is_tensor] for g in groups]
