"""Software pipelining of tt.dot K loops (num_stages >= 2), a rewrite of the TTIR before lowering.

A loop whose body loads operands of its one tt.dot (each load used by nothing else), with load
addresses and masks computed by side-effect-free ops from the induction variable,
loop-invariant values and loop-carried values advanced without loads, becomes

    tiles = load(iteration lb, masked by lb < ub)                    # peeled into the prologue
    for iv ... iter_args(..., tiles):
        next = load(iteration iv + step, masked by iv + step < ub)   # issued before the dot
        acc = tt.dot(tiles, ...)
        yield ..., next

as Triton's own pipeliner does for two stages: the next tile's global loads are in flight (in
registers) while the current tile goes through workgroup memory and is multiplied. Masked-off
lanes never touch memory, so the extra loads of the last iteration and of a zero-trip loop are
harmless. Loops that do not match are left alone.

Measured on the H100 (bench/RESULTS.md): this register prefetch helps tiles whose K loop is
latency-bound (64x128x16, 8 warps, 1024^3: 21.6 -> 28.6 TFLOP/s) and costs a little where the
prefetched tiles add to a large accumulator tile (128x128x16, 4 warps: 42.4 -> 40.6), so the
autotune configs choose num_stages per tile. Double-buffered operand pools (one barrier per K
step) measured slower on every config (128x128x16, 4 warps: 42.4 -> 26.2) and are not used.
"""
from __future__ import annotations

from jitspv.lower.op_facts import PURE, has
from jitspv.ttir import ir

_I1 = ir.IntType(1)


def pipeline_dot_loops(func, num_stages: int):
    """Rewrite every matching K loop of `func` in place (nothing when num_stages < 2)."""
    if num_stages < 2:
        return
    for loop in [op for op in func.walk() if op.name == "scf.for"]:
        dots = [op for op in loop.regions[0].blocks[0].operations if op.name == "tt.dot"]
        if len(dots) == 1:
            _pipeline(loop, dots[0])


def _pure(op):
    return not op.regions and has(op.name, PURE)


def _slice(values, body, ops_in_body):
    """Ops of `body` computing `values` (backward, in body order), block arguments they read;
    None when one of them is not side-effect free."""
    needed, args, stack = set(), set(), list(values)
    while stack:
        v = stack.pop()
        if isinstance(v.owner, ir.Block):
            if v.owner is body:
                args.add(v.index)
            continue
        op = v.owner
        if op not in ops_in_body or op in needed:
            continue
        if not _pure(op):
            return None
        needed.add(op)
        stack += op.operands
    return [op for op in body.operations if op in needed], args


def _pipeline(loop, dot):
    body = loop.regions[0].blocks[0]
    yield_op = body.operations[-1]
    ops_in_body = set(body.operations)
    users = {}
    for op in body.operations:
        for inner in op.walk():
            for v in inner.operands:
                users.setdefault(v, []).append(inner)
    loads = []
    for i in (0, 1):
        x = dot.operands[i]
        op = x.owner
        if getattr(op, "name", None) == "tt.load" and op in ops_in_body and users.get(x) == [dot] \
                and op.operands[0].type.is_tensor:
            loads.append((i, op))
    if not loads:
        return
    found = _slice([v for _, ld in loads for v in ld.operands], body, ops_in_body)
    if found is None:
        return
    load_ops, load_args = found
    # Carried values the loads read next time are the yields: their ops run before the loads.
    carried = sorted(a for a in load_args if a > 0)
    found = _slice([yield_op.operands[a - 1] for a in carried], body, ops_in_body)
    if found is None or any(ld in found[0] for _, ld in loads):
        return
    yield_ops, _ = found

    iv = body.arguments[0]
    lb, ub, step = loop.operands[:3]
    unsigned = "unsignedCmp" in loop.attributes
    parent = loop.parent
    at = parent.operations.index(loop)
    prologue = []
    first = _emit_loads(prologue, loads, load_ops, {iv: lb, **{body.arguments[a]: loop.operands[2 + a] for a in carried}},
                        lb, ub, unsigned, loop.location)
    parent.operations[at:at] = prologue
    for op in prologue:
        op.parent = parent

    ahead = []
    nxt = _op(ahead, "arith.addi", [iv, step], iv.type, {}, loop.location).results[0]
    following = _emit_loads(ahead, loads, load_ops, {iv: nxt, **{body.arguments[a]: yield_op.operands[a - 1] for a in carried}},
                            nxt, ub, unsigned, loop.location)
    tiles = [body.add_argument(ld.results[0].type) for _, ld in loads]
    for (i, _), t in zip(loads, tiles):
        dot.operands[i] = t

    dropped = {ld for _, ld in loads} | set(yield_ops)
    rest = [op for op in body.operations[:-1] if op not in dropped]
    body.operations = yield_ops + ahead + rest + [yield_op]
    yield_op.operands += following
    for op in body.operations:
        op.parent = body
    loop.operands += first
    for t in tiles:
        loop.results.append(ir.Value(t.type, loop, len(loop.results)))
    _drop_dead(body)


def _emit_loads(out, loads, load_ops, subst, at_iv, ub, unsigned, loc):
    """Clones of the load slice and the loads for the iteration whose induction variable is
    `at_iv`, every lane masked off unless at_iv < ub; returns the loaded values."""
    vmap = dict(subst)
    for op in load_ops:
        clone = _op(out, op.name, [vmap.get(v, v) for v in op.operands], None, op.attributes, op.location,
                    [r.type for r in op.results])
        for r, c in zip(op.results, clone.results):
            vmap[r] = c
    pred = "ult" if unsigned else "slt"
    cond = _op(out, "arith.cmpi", [at_iv, ub], _I1,
               {"predicate": ir.EnumAttr(pred, 6 if unsigned else 2, ir.IntType(64))}, loc).results[0]
    results = []
    for _, ld in loads:
        ptr, *rest = [vmap.get(v, v) for v in ld.operands]
        shape = tuple(ptr.type.shape)
        mtype = ir.TensorType(shape, _I1)
        live = _op(out, "tt.splat", [cond], mtype, {}, loc).results[0]
        if rest:
            rest[0] = _op(out, "arith.andi", [rest[0], live], mtype, {}, loc).results[0]
        else:
            rest = [live]
        clone = _op(out, "tt.load", [ptr] + rest, ld.results[0].type, ld.attributes, ld.location)
        results.append(clone.results[0])
    return results


def _op(out, name, operands, rtype, attributes, loc, rtypes=None):
    op = ir.Operation(name, operands, rtypes if rtypes is not None else [rtype], dict(attributes), location=loc)
    out.append(op)
    return op


def _drop_dead(body):
    """Remove side-effect-free ops of `body` whose results nothing uses (the old loads' masks)."""
    while True:
        used = {v for op in body.operations for inner in op.walk() for v in inner.operands}
        dead = [op for op in body.operations if _pure(op) and not any(r in used for r in op.results)]
        if not dead:
            return
        body.operations = [op for op in body.operations if op not in dead]
