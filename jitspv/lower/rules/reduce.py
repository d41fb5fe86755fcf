"""tt.reduce: combine along one axis with any combine region (sum, max, argmax's pair, user fns).

Three levels, as on CUDA: registers of one invocation are folded first; then invocations along
the axis that share a subgroup exchange partials with subgroup shuffles (butterfly, so every
lane ends with the total); partials of different subgroups meet in workgroup memory: words of
the reduction's own when small (one barrier, see _OwnWords), else the shared scratch (two barriers).
"""
from __future__ import annotations

from jitspv.lower.layout import Slice, layout_of
from jitspv.lower.movement import numel, row_major
from jitspv.lower.values import DTensor
from jitspv.lower.registry import register
from jitspv.lower.ttir_access import attr
from jitspv.lower.spirv.grammar import Op, Scope, StorageClass
from jitspv.ttir import ir
from jitspv.lower.workgroup import describe


def _combine(ctx, region, acc, other):
    out = ctx.inline_region(region, list(acc) + list(other))
    if not _picks_by_value(region):
        return out
    # argmax/argmin skip NaN, as tl.max/tl.min do and as Triton's test_argmax_argmin_with_nan
    # asserts: its combine (ordered compares) lets a NaN win or lose by position, which makes the
    # result depend on the reduction tree. A NaN partial loses; two NaNs keep the first.
    t = ctx.t_bool
    first_nan, other_nan = (ctx.emit(Op.IsNan, t, side[0]) for side in (acc, other))
    return [ctx.emit(Op.Select, ctx.m.type_of(a), other_nan, a,
                     ctx.emit(Op.Select, ctx.m.type_of(a), first_nan, b, c))
            for a, b, c in zip(acc, other, out)]


def _picks_by_value(region):
    """Is `region` Triton's argmax/argmin combine: (v1, i1, v2, i2) -> one condition, from a float
    compare of v1 with v2, selects (v1, i1) or (v2, i2)?"""
    block = region.blocks[0]
    args = block.arguments
    if len(args) != 4 or not isinstance(args[0].type, ir.FloatType):
        return False
    picks = [getattr(v.owner, "name", None) == "arith.select" and v.owner for v in block.operations[-1].operands]
    if len(picks) != 2 or not all(picks) or picks[0].operands[0] is not picks[1].operands[0]:
        return False
    if picks[0].operands[1:] != [args[0], args[2]] or picks[1].operands[1:] != [args[1], args[3]]:
        return False
    return any(o.name == "arith.cmpf" and o.operands == [args[0], args[2]] for o in block.operations)


def shuffle(ctx, opcode, rtype, x, arg):
    """Subgroup shuffle of one register. Values that are not 32-bit (or bool) move as u32 words:
    8/16/64-bit subgroup operations need shaderSubgroupExtendedTypes, which devices may lack."""
    scope = ctx.u32(Scope.Subgroup)
    info = ctx.m.type_info(rtype)
    if info.kind == "bool" or info.width == 32:
        return ctx.emit(opcode, rtype, scope, x, arg)
    words = [ctx.emit(opcode, ctx.t_u32, scope, w, arg) for w in ctx.to_words(rtype, x)]
    return ctx.from_words(rtype, words)


# A reduction whose cross-subgroup partials fit this many u32 words gets workgroup words of its own.
_OWN_WORDS_MAX = 1024


class _OwnWords:
    """Per kernel: the reductions and scans that meet across subgroups in workgroup words of their
    own (`own`: op -> Workgroup variable), and those of them that need no barrier before writing
    (`unguarded`).

    Owning its words, an op's writes only race with reads of the same words by the previous
    execution of the same op. There is none when the op is in no loop; and when another owning
    op sits in the same block, its barrier (between its writes and reads) separates any two
    executions of this one."""

    def __init__(self, ctx):
        self.own, self.unguarded = {}, set()
        owner_of = {}
        for o in ctx.func.walk():
            for r in o.regions:
                for b in r.blocks:
                    owner_of[b] = o
        by_block = {}
        for o in ctx.func.walk():
            words = OWN_WORDS[o.name](ctx, o) if o.name in OWN_WORDS else 0
            if 0 < words <= _OWN_WORDS_MAX:
                self.own[o] = ctx.workgroup.variable(("own words", o), ctx.t_u32, words,
                                                     f"partials of {describe(o)}")
                by_block.setdefault(o.parent, []).append(o)
        for block, ops in by_block.items():
            for o in ops:
                if len(ops) > 1 or not _in_loop(owner_of, block):
                    self.unguarded.add(o)


def _in_loop(owner_of, block):
    while block in owner_of:
        o = owner_of[block]
        if o.name in ("scf.for", "scf.while"):
            return True
        block = o.parent
    return False


def _partial_words(ctx, op):
    """u32 words of cross-subgroup partials `op` (a tt.reduce) needs; 0 when none."""
    axis = int(attr(op, "axis"))
    lay = layout_of(ctx.encoding_of(op.operands[0]), tuple(op.operands[0].type.shape))
    slot = sum(ctx.word_count(ctx.stype(v.type)) for v in op.operands)
    n_out = numel(lay.shape[:axis] + lay.shape[axis + 1:])
    for term in lay.terms[axis]:
        span, lo = term.stride * term.count, max(term.stride, ctx.target.subgroup_size)
        if span > lo:
            return n_out * (span // lo) * slot
    return 0


# op name -> fn(ctx, op): u32 words of cross-subgroup partials the op needs (0: none).
OWN_WORDS = {"tt.reduce": _partial_words}


def own_words(ctx, op):
    """(accessor index -> pointer, leading barrier needed) for an op with words of its own, else None."""
    if _OwnWords not in ctx.plans:
        ctx.plans[_OwnWords] = _OwnWords(ctx)
    plan = ctx.plans[_OwnWords]
    if op not in plan.own:
        return None
    var = plan.own[op]
    ptr_type = ctx.m.type_pointer(StorageClass.Workgroup, ctx.t_u32)
    return (lambda i: ctx.emit(Op.AccessChain, ptr_type, var, i)), op not in plan.unguarded


@register("tt.reduce")
def _reduce(ctx, op):
    axis = int(attr(op, "axis"))
    region = op.regions[0]
    enc = ctx.encoding_of(op.operands[0])
    ins = [ctx.tensor(v, enc) for v in op.operands]
    lay = ins[0].layout
    rtypes = [ctx.stype(v.type) for v in op.operands]
    out_enc = Slice(enc, axis)
    out_shape = lay.shape[:axis] + lay.shape[axis + 1:]
    out_lay = layout_of(out_enc, out_shape)

    # 1. Fold registers that differ only along the axis, in order along the axis.
    groups = {}
    for k, r in enumerate(lay.regs):
        groups.setdefault(r[:axis] + r[axis + 1:], []).append((r[axis], k))
    accs = []
    for r in out_lay.regs:
        members = sorted(groups[r])
        acc = [t.regs[members[0][1]] for t in ins]
        for _, k in members[1:]:
            acc = _combine(ctx, region, acc, [t.regs[k] for t in ins])
        accs.append(acc)

    # 2. Invocations along the axis inside one subgroup: butterfly over shuffles.
    sg = ctx.target.subgroup_size
    for term in lay.terms[axis]:
        span = term.stride * term.count
        mask = term.stride
        while mask < min(span, sg):
            m = ctx.u32(mask)
            for i, acc in enumerate(accs):
                other = [shuffle(ctx, Op.GroupNonUniformShuffleXor, rt, x, m) for rt, x in zip(rtypes, acc)]
                accs[i] = _combine(ctx, region, acc, other)
            mask *= 2
        # 3. Across subgroups: partials meet in workgroup memory, every invocation folds them.
        lo = max(term.stride, sg)
        if span > lo:
            count = span // lo
            accs = _across_subgroups(ctx, op, region, rtypes, accs, out_lay, out_shape, lo, count)

    results = op.results
    if not results[0].type.is_tensor:
        for res, x in zip(results, accs[0]):
            ctx.set(res, x)
        return
    for i, res in enumerate(results):
        ctx.set(res, DTensor(out_enc, out_lay, [acc[i] for acc in accs]))


def _across_subgroups(ctx, op, region, rtypes, accs, out_lay, out_shape, lo, count):
    n_out = numel(out_shape)
    words = [ctx.word_count(t) for t in rtypes]
    slot_words = sum(words)
    total = n_out * count * slot_words
    own = own_words(ctx, op)
    if own:
        smem, lead = own
    else:
        ctx.workgroup.scratch(total, "cross-subgroup partials")
        smem, lead = ctx.workgroup.scratch_ptr, True
    strides = tuple(s * count * slot_words for s in row_major(out_shape)) if out_shape else ()
    base = ctx.linear_indices(out_lay, strides) if out_shape else [ctx.u32(0)]
    u32 = ctx.t_u32
    tid = ctx.tid()
    part = ctx.emit(Op.BitwiseAnd, u32, ctx.emit(Op.ShiftRightLogical, u32, tid, ctx.u32(lo.bit_length() - 1)),
                    ctx.u32(count - 1))
    part_off = ctx.emit(Op.IMul, u32, part, ctx.u32(slot_words))
    if lead:
        ctx.barrier()
    for b, acc in zip(base, accs):
        at = ctx.emit(Op.IAdd, u32, b, part_off)
        w = 0
        for rt, x in zip(rtypes, acc):
            for word in ctx.to_words(rt, x):
                ctx.emit(Op.Store, None, smem(ctx.emit(Op.IAdd, u32, at, ctx.u32(w))), word)
                w += 1
    ctx.barrier()
    out = []
    for b in base:
        acc = None
        for j in range(count):
            vals, w = [], j * slot_words
            for rt, nw in zip(rtypes, words):
                ws = [ctx.emit(Op.Load, u32, smem(ctx.emit(Op.IAdd, u32, b, ctx.u32(w + i))))
                      for i in range(nw)]
                vals.append(ctx.from_words(rt, ws))
                w += nw
            acc = vals if acc is None else _combine(ctx, region, acc, vals)
        out.append(acc)
    return out


@register("tt.reduce.return", "tt.scan.return")
def _region_return(ctx, op):
    ctx.error("internal: region terminator lowered outside its region")


@register("tt.histogram")
def _histogram(ctx, op):
    """Counts in workgroup memory: zero the bins, one workgroup atomic add per owned in-range
    element (replicas skip), read the bins back in the result's layout."""
    res = op.results[0]
    bins = int(res.type.shape[0])
    x = ctx.tensor(op.operands[0])
    mask = ctx.tensor(op.operands[1], x.enc).regs if len(op.operands) > 1 else [None] * len(x.regs)
    u32 = ctx.t_u32
    ctx.workgroup.scratch(bins, "histogram bins")
    tid = ctx.tid()
    ctx.barrier()
    for start in range(0, bins, ctx.num_threads):
        at = ctx.emit(Op.IAdd, u32, tid, ctx.u32(start)) if start else tid

        def zero(at=at):
            ctx.emit(Op.Store, None, ctx.workgroup.scratch_ptr(at), ctx.u32(0))
        if start + ctx.num_threads > bins:
            ctx.if_then(ctx.emit(Op.ULessThan, ctx.t_bool, at, ctx.u32(bins)), zero)
        else:
            zero()
    ctx.barrier()
    owner = ctx.is_owner(x.layout)
    scope, relaxed = ctx.u32(Scope.Workgroup), ctx.u32(0)
    for v, m in zip(x.regs, mask):
        # Out-of-range values (negative ones included, as unsigned) are dropped, as on Triton GPUs.
        ok = ctx.emit(Op.ULessThan, ctx.t_bool, v, ctx.u32(bins))
        for extra in (m, owner):
            if extra is not None:
                ok = ctx.emit(Op.LogicalAnd, ctx.t_bool, ok, extra)

        def count(v=v):
            ctx.emit(Op.AtomicIAdd, u32, ctx.workgroup.scratch_ptr(v), scope, relaxed, ctx.u32(1))
        ctx.if_then(ok, count)
    ctx.barrier()
    enc = ctx.encoding_of(res)
    lay = layout_of(enc, (bins,))
    regs = [ctx.emit(Op.Load, u32, ctx.workgroup.scratch_ptr(i)) for i in ctx.linear_indices(lay, (1,))]
    ctx.set(res, DTensor(enc, lay, regs))
