"""Structured control flow (scf.for / scf.if / scf.while), barriers, tt.return.

Loop-carried tensors become one OpPhi per register (per pair of 16-bit ones); values flow out of a loop through its header
(which dominates the merge block) or through merge-block phis.

Where the device stops loops after a number of passes (Target.loop_pass_limit: lavapipe before
Mesa 25 ends every loop of an invocation once all its loops together made 65535 passes, the
pass finding the condition false included), every loop header counts the pass, and a loop that
ends with the count at the limit records a failure: it may have been stopped. (The check sits
after the loop, where it runs even when the driver stopped the loop, and adds no control flow
inside the loop, which would change how the driver counts.) Loops are not unrolled there, so
that the driver counts what is counted here; a constant trip count beyond the limit is refused
at compile time. Triton's loops are uniform over a program, so a per-invocation count is the
driver's. Other devices get none of it.
"""
from __future__ import annotations

from jitspv.lower.registry import register
from jitspv.lower.rules.assert_ import add_site, record_failure
from jitspv.lower.rules.common import pack_word, word_element
from jitspv.lower.ttir_access import attr, type_name
from jitspv.lower.values import Carrier
from jitspv.lower.spirv.grammar import LoopControl, Op, StorageClass

_STOPPED = ("this loop reached the device's loop limit, so the device may have stopped it early and the results "
            "may be wrong: lavapipe before Mesa 25 ends every loop of a shader invocation once all its loops "
            "together made {limit} passes (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS). Run it on another device or a "
            "newer Mesa, or spread the work over more programs")



def _flatten(ctx, value, enc):
    """Register ids of a value, in `enc` for tensors (or as the carrier `enc` holds it)."""
    if isinstance(enc, Carrier):
        return enc.carried_ids(ctx, value)
    if value.type.is_tensor:
        regs = list(ctx.tensor(value, enc).regs)
        kind = _paired_kind(value)
        return _pack_pairs(ctx, kind, regs) if kind else regs
    return [ctx.scalar(value)]


# 16-bit tensors cross loops and branches two registers to a u32: half the phis, and NVIDIA's
# compiler gives a 16-bit phi a 32-bit register of its own (prefetched fp16 tiles of a K loop).
_PAIRED = ("f16", "i16", "bf16")


def _paired_kind(value):
    name = type_name(value.type.element)
    return name if name in _PAIRED else None


def _pack_pairs(ctx, kind, regs):
    return [pack_word(ctx, kind, [regs[i], regs[min(i + 1, len(regs) - 1)]]) for i in range(0, len(regs), 2)]


def _unpack_pairs(ctx, kind, words, count, reg_type):
    return [word_element(ctx, kind, reg_type, w, i) for w in words for i in (0, 1)][:count]


def _encodings(ctx, values):
    return [ctx.encoding_of(v) if v.type.is_tensor else None for v in values]


def _carried_encodings(ctx, carried, yields):
    """Encodings of loop-carried values; a tt.dot result whose plan holds it in registers of its own
    (cooperative matrices) is carried in them, so `acc = tl.dot(a, b, acc)` never leaves them."""
    encs = _encodings(ctx, carried)
    for i, y in enumerate(yields):
        plan = ctx.dot_plans.get(y.owner) if getattr(y.owner, "name", None) == "tt.dot" else None
        if isinstance(plan, Carrier):
            encs[i] = plan
    return encs


def _rebuild(ctx, value, enc, ids):
    if isinstance(enc, Carrier):
        return enc.from_ids(list(ids))
    if value.type.is_tensor:
        kind = _paired_kind(value)
        if kind:
            ids = _unpack_pairs(ctx, kind, ids, len(ctx.make(value, [], enc).layout.regs), ctx.stype(value.type))
        return ctx.make(value, list(ids), enc)
    return ids[0]


def _split(ctx, values, encs, flat):
    out, i = [], 0
    for v, e in zip(values, encs):
        if isinstance(e, Carrier):
            n = e.carried_count
        elif v.type.is_tensor:
            n = len(ctx.make(v, [], e).layout.regs)
            if _paired_kind(v):
                n = (n + 1) // 2
        else:
            n = 1
        out.append(_rebuild(ctx, v, e, flat[i:i + n]))
        i += n
    return out


def _flatten_all(ctx, values, encs):
    flat = []
    for v, e in zip(values, encs):
        flat += _flatten(ctx, v, e)
    return flat


def loop_control(ctx):
    """OpLoopMerge's LoopControl: DontUnroll where loop passes are limited, so that the driver
    counts the passes counted here (it unrolls small constant loops otherwise)."""
    return LoopControl.DontUnroll if ctx.target.loop_pass_limit else 0


def count_pass(ctx):
    """In a loop's header, where loop passes are limited: one more pass."""
    if not ctx.target.loop_pass_limit:
        return
    if ctx.loop_passes is None:
        ctx.loop_passes = ctx.f.variable(ctx.m.type_pointer(StorageClass.Function, ctx.t_u32), ctx.u32(0))
    n = ctx.emit(Op.IAdd, ctx.t_u32, ctx.emit(Op.Load, ctx.t_u32, ctx.loop_passes), ctx.u32(1))
    ctx.emit(Op.Store, None, ctx.loop_passes, n)


def check_limit(ctx):
    """In a loop's merge block, where loop passes are limited: a failure at the loop's line when the
    passes so far reached the limit."""
    limit = ctx.target.loop_pass_limit
    if not limit:
        return
    passes = ctx.emit(Op.Load, ctx.t_u32, ctx.loop_passes)
    reached = ctx.emit(Op.UGreaterThanEqual, ctx.t_bool, passes, ctx.u32(limit))
    site = add_site(ctx, _STOPPED.format(limit=limit), ctx.loc, "loop_limit")
    ctx.if_then(reached, lambda: record_failure(ctx, site))


def _refuse_beyond_limit(ctx, op):
    """A loop whose constant trip count alone exceeds the device's loop-pass limit."""
    bounds = [v.owner for v in op.operands[:3]]
    if not all(getattr(b, "name", None) == "arith.constant" for b in bounds):
        return
    lb, ub, step = (int(attr(b, "value")) for b in bounds)
    trips = -(-(ub - lb) // step) if step > 0 else 0
    if trips > ctx.target.loop_pass_limit:
        ctx.error(f"this loop runs {trips} iterations, more than the device runs: "
                  + _STOPPED.format(limit=ctx.target.loop_pass_limit).split(": ", 1)[1])


@register("scf.for")
def _for(ctx, op):
    if ctx.target.loop_pass_limit:
        _refuse_beyond_limit(ctx, op)
    lb, ub, step = (ctx.scalar(v) for v in op.operands[:3])
    body = op.regions[0].blocks[0]
    carried = body.arguments[1:]
    encs = _carried_encodings(ctx, carried, body.operations[-1].operands)
    inits = _flatten_all(ctx, op.operands[3:], encs)
    for inner in body.operations:   # the preheader: what the loop's dots do once (dot_strategy.py)
        hook = getattr(ctx.dot_plans.get(inner), "before_loop", None)
        if hook is not None:
            hook(ctx, inner, op)

    def lower_body(iv, phis):
        ctx.set(body.arguments[0], iv)
        for v, x in zip(carried, _split(ctx, carried, encs, phis)):
            ctx.set(v, x)
        for inner in body.operations[:-1]:
            ctx.lower_op(inner)
        return _flatten_all(ctx, body.operations[-1].operands, encs)
    phis = counted_loop(ctx, ctx.stype(op.operands[0].type), lb, ub, step, inits, lower_body,
                        signed=not attr(op, "unsignedCmp", None))
    for res, x in zip(op.results, _split(ctx, op.results, encs, phis)):
        ctx.set(res, x)


def counted_loop(ctx, ity, lb, ub, step, inits, body, signed=True):
    """for (iv = lb; iv < ub; iv += step), ids of integer type `ity`, carrying the ids `inits`:
    `body(iv, carried)` emits one pass and returns the ids carried into the next. Returns the
    carried ids after the loop (the header's phis, which dominate the merge block)."""
    header, body_l, cont, merge = (ctx.new_label() for _ in range(4))
    pre = ctx.label
    ctx.branch(header)
    ctx.start_block(header)
    iv = ctx.f.phi(ity, (lb, pre))
    phis = [ctx.f.phi(ctx.m.type_of(x), (x, pre)) for x in inits]
    count_pass(ctx)
    cond = ctx.emit(Op.SLessThan if signed else Op.ULessThan, ctx.t_bool, iv, ub)
    ctx.emit(Op.LoopMerge, None, merge, cont, loop_control(ctx))
    ctx.emit(Op.BranchConditional, None, cond, body_l, merge)

    ctx.start_block(body_l)
    yielded = body(iv, phis)
    ctx.branch(cont)

    ctx.start_block(cont)
    nxt = ctx.emit(Op.IAdd, ity, iv, step)
    ctx.branch(header)
    ctx.f.add_incoming(iv, nxt, cont)
    for p, y in zip(phis, yielded):
        ctx.f.add_incoming(p, y, cont)

    ctx.start_block(merge)
    check_limit(ctx)
    return phis


def _region_yields(ctx, region, encs):
    block = region.blocks[0]
    for inner in block.operations[:-1]:
        ctx.lower_op(inner)
    return _flatten_all(ctx, block.operations[-1].operands, encs)


@register("scf.if")
def _if(ctx, op):
    cond = ctx.scalar(op.operands[0])
    encs = _encodings(ctx, op.results)
    then_r = op.regions[0]
    else_r = op.regions[1] if len(op.regions) > 1 and op.regions[1].blocks else None
    if not op.results:
        ctx.if_then(cond, lambda: _region_yields(ctx, then_r, encs) and None,
                    (lambda: _region_yields(ctx, else_r, encs) and None) if else_r else None)
        return
    merged = ctx.if_then(cond, lambda: _region_yields(ctx, then_r, encs),
                         lambda: _region_yields(ctx, else_r, encs))
    for res, x in zip(op.results, _split(ctx, op.results, encs, merged)):
        ctx.set(res, x)


@register("scf.while")
def _while(ctx, op):
    before, after = op.regions[0].blocks[0], op.regions[1].blocks[0]
    cond_op = before.operations[-1]
    arg_encs = _encodings(ctx, before.arguments)
    res_encs = _encodings(ctx, op.results)
    inits = _flatten_all(ctx, op.operands, arg_encs)
    header, before_l, body_l, cont, merge = (ctx.new_label() for _ in range(5))
    pre = ctx.label
    ctx.branch(header)
    ctx.start_block(header)
    phis = [ctx.f.phi(ctx.m.type_of(x), (x, pre)) for x in inits]
    ctx.emit(Op.LoopMerge, None, merge, cont, loop_control(ctx))
    ctx.branch(before_l)

    ctx.start_block(before_l)
    count_pass(ctx)
    for v, x in zip(before.arguments, _split(ctx, before.arguments, arg_encs, phis)):
        ctx.set(v, x)
    for inner in before.operations[:-1]:
        ctx.lower_op(inner)
    cond = ctx.scalar(cond_op.operands[0])
    forwarded = _flatten_all(ctx, cond_op.operands[1:], res_encs)
    before_end = ctx.label
    ctx.emit(Op.BranchConditional, None, cond, body_l, merge)

    ctx.start_block(body_l)
    for v, x in zip(after.arguments, _split(ctx, after.arguments, res_encs, forwarded)):
        ctx.set(v, x)
    yielded = _region_yields(ctx, op.regions[1], arg_encs)
    ctx.branch(cont)
    ctx.start_block(cont)
    ctx.branch(header)
    for p, y in zip(phis, yielded):
        ctx.f.add_incoming(p, y, cont)

    ctx.start_block(merge)
    outs = [ctx.f.phi(ctx.m.type_of(x), (x, before_end)) for x in forwarded]
    check_limit(ctx)
    for res, x in zip(op.results, _split(ctx, op.results, res_encs, outs)):
        ctx.set(res, x)


@register("scf.yield", "scf.condition")
def _terminator(ctx, op):
    ctx.error(f"internal: {op.name} lowered outside its region")


@register("tt.return")
def _return(ctx, op):
    if op.operands:
        ctx.error("a kernel cannot return a value")


@register("gpu.barrier", "ttg.barrier")  # Triton 3.6 prints gpu.barrier, 3.9 ttg.barrier <addrspace>
def _barrier(ctx, op):
    # __syncthreads() semantics, and the buffer writes of every invocation ordered at device scope:
    # the tutorial releases a lock right after it (its holder's stores must be seen by the next).
    ctx.barrier(device=True)


@register("tt.grid_dependency_wait", "tt.grid_dependency_launch_dependents")
def _programmatic_dependent_launch(ctx, op):
    # CUDA's PDL lets a kernel overlap the previous one's tail; launches on jitspv's one queue are
    # separated by full barriers, so the previous kernel's writes are visible already.
    pass


@register("llvm.intr.assume")
def _assume(ctx, op):
    # tl.assume: a fact the optimizer may use; the kernel is correct without it.
    pass


# Triton 3.6 spells tl.extra.cuda.gdc_wait/gdc_launch_dependents as PTX inline assembly with a dummy
# i32 result (3.9 has the ops above); those two strings mean what the ops mean. Other PTX cannot run.
GDC_INLINE_ASM = frozenset({"griddepcontrol.wait; // dummy $0", "griddepcontrol.launch_dependents; // dummy $0"})


@register("tt.elementwise_inline_asm")
def _inline_asm(ctx, op):
    if attr(op, "asm_string") not in GDC_INLINE_ASM or op.operands or len(op.results) != 1:
        ctx.error(f"jitspv does not support the operation '{op.name}' yet: PTX inline assembly cannot run "
                  "on Vulkan (only Triton 3.6's gdc_wait()/gdc_launch_dependents() strings are understood)")
    res = op.results[0]
    ctx.set(res, ctx.const(ctx.stype(res.type), 0))
