"""tt.scan: inclusive scan along one axis with any combine region (cumsum, cumprod,
associative_scan with user functions and tuples), forward or reverse.

Along the axis a layout places element `rep * tile + t * spt + w` in register w of repetition
`rep` of the invocation at axis position t (0 <= t < count, tile = spt * count). Three levels:
1. each invocation scans its spt registers of one repetition sequentially (chunk totals);
2. chunk totals are scanned across invocations: Hillis-Steele with subgroup shuffle-up inside a
   subgroup (shuffle-down for reverse), then subgroup totals through workgroup memory, where each
   invocation folds the totals of the subgroups before it;
3. each element is combined with its invocation's carry-in (exclusive prefix over earlier chunks,
   and over earlier repetitions).
The combine is applied as combine(earlier, later) in scan order, so it need only be associative.
"""
from __future__ import annotations

from jitspv.lower.movement import row_major
from jitspv.lower.values import DTensor
from jitspv.lower.registry import register
from jitspv.lower.layout import layout_of
from jitspv.lower.rules.reduce import OWN_WORDS, own_words, shuffle
from jitspv.lower.ttir_access import attr
from jitspv.lower.spirv.grammar import Op


# Workgroup memory for subgroup totals per batch of repetitions (16 KiB).
_BATCH_WORDS = 4096


def _log2(n):
    return n.bit_length() - 1


class _Scan:
    def __init__(self, ctx, region, rtypes):
        self.ctx, self.region, self.rtypes = ctx, region, rtypes

    def combine(self, a, b):
        return self.ctx.inline_region(self.region, list(a) + list(b))

    def select(self, cond, a, b):
        return [self.ctx.emit(Op.Select, t, cond, x, y) for t, x, y in zip(self.rtypes, a, b)]

    def shuffle(self, opcode, vals, arg):
        return [shuffle(self.ctx, opcode, t, x, arg) for t, x in zip(self.rtypes, vals)]


@register("tt.scan")
def _scan(ctx, op):
    axis = int(attr(op, "axis"))
    reverse = bool(attr(op, "reverse", False))
    enc = ctx.encoding_of(op.results[0])
    ins = [ctx.tensor(v, enc) for v in op.operands]
    lay = ins[0].layout
    s = _Scan(ctx, op.regions[0], [ctx.stype(v.type) for v in op.operands])
    n = lay.shape[axis]

    terms = lay.terms[axis]
    if len(terms) > 1:
        ctx.error("tt.scan: layouts with several invocation terms along the scan axis are not supported")
    if terms:
        term = terms[0]
        stride, count, spt = term.stride, term.count, term.scale
    else:
        stride, count, spt = 1, 1, n
    tile = spt * count

    # Registers by (non-axis offsets, repetition), each listed in scan order.
    rows = {}
    for k, r in enumerate(lay.regs):
        o = r[axis]
        if o % tile >= spt:
            ctx.error("tt.scan: unsupported register layout along the scan axis")
        key = r[:axis] + r[axis + 1:]
        rows.setdefault(key, {}).setdefault(o // tile, []).append((o % tile, k))
    reps = max(1, n // tile)
    rep_order = list(range(reps))[::-1] if reverse else list(range(reps))

    # 1. In-invocation scan of each chunk.
    out = [list(t.regs) for t in ins]
    chunk_totals = {}        # (row key, rep) -> list of values
    for key, by_rep in rows.items():
        for rep, members in by_rep.items():
            members.sort(reverse=reverse)
            acc = None
            for _, k in members:
                x = [t.regs[k] for t in ins]
                acc = x if acc is None else s.combine(acc, x)
                for i in range(len(ins)):
                    out[i][k] = acc[i]
            chunk_totals[(key, rep)] = acc

    if count > 1 or reps > 1:
        carries = _carry_in(ctx, op, s, lay, axis, reverse, stride, count, reps, rows, chunk_totals, rep_order)
        # 3. Apply each chunk's carry-in.
        for (key, rep), (carry, skip) in carries.items():
            if carry is None:
                continue
            for _, k in rows[key][rep]:
                local = [o[k] for o in out]
                res = s.combine(carry, local)
                if skip is not None:
                    res = s.select(skip, local, res)
                for i in range(len(ins)):
                    out[i][k] = res[i]

    for i, res in enumerate(op.results):
        ctx.set(res, DTensor(enc, lay, out[i]))


def _carry_in(ctx, op, s, lay, axis, reverse, stride, count, reps, rows, chunk_totals, rep_order):
    """Per (row, rep): (carry, skip): the combination of everything before the chunk in scan
    order, and a bool id true where there is nothing before it (None: never; carry None: always)."""
    u32 = ctx.t_u32
    sg = ctx.target.subgroup_size
    prefix, first, total = {}, None, {}
    if count > 1:
        tid = ctx.tid()
        t = ctx.emit(Op.BitwiseAnd, u32, ctx.emit(Op.ShiftRightLogical, u32, tid, ctx.u32(_log2(stride))),
                     ctx.u32(count - 1))
        pos = ctx.emit(Op.ISub, u32, ctx.u32(count - 1), t) if reverse else t   # position in scan order
        first = ctx.emit(Op.IEqual, ctx.t_bool, pos, ctx.u32(0))
        lo = max(stride, sg)
        gsize = lo // stride                      # axis positions per subgroup
        groups = (stride * count) // lo if stride * count > lo else 1
        gsize = min(gsize, count)
        in_pos = ctx.emit(Op.BitwiseAnd, u32, pos, ctx.u32(gsize - 1))
        incl = dict(chunk_totals)
        # 2a. Hillis-Steele inside the subgroup on chunk totals.
        if gsize > 1:
            step = 1
            while step < gsize:
                has = ctx.emit(Op.UGreaterThanEqual, ctx.t_bool, in_pos, ctx.u32(step))
                src = _earlier_lane(ctx, step * stride, reverse)
                for kr, v in incl.items():
                    earlier = s.shuffle(Op.GroupNonUniformShuffle, v, src)
                    incl[kr] = s.select(has, s.combine(earlier, v), v)
                step *= 2
            # Exclusive within the subgroup: the inclusive value one position earlier.
            src = _earlier_lane(ctx, stride, reverse)
            for kr, v in incl.items():
                prefix[kr] = s.shuffle(Op.GroupNonUniformShuffle, v, src)
        if groups > 1:
            # 2b. Subgroup totals through workgroup memory.
            in_first = ctx.emit(Op.IEqual, ctx.t_bool, in_pos, ctx.u32(0))
            g_carry, later_group, total = _across_subgroups(ctx, op, s, lay, axis, reverse, incl, rows, reps,
                                                            pos, gsize, groups)
            for kr, gc in g_carry.items():
                if kr in prefix:
                    # Carries of earlier subgroups exist only after the first; the in-subgroup
                    # prefix only after the subgroup's first position.
                    with_gc = s.select(in_first, gc, s.combine(gc, prefix[kr]))
                    prefix[kr] = s.select(later_group, with_gc, prefix[kr])
                else:
                    prefix[kr] = gc
        else:
            if reps > 1:
                # The chunk total of the last position in scan order, read from its lane.
                lane = ctx.lane()
                last = 0 if reverse else count - 1
                mask = ctx.u32(~((count - 1) * stride) & 0xFFFFFFFF)
                src = ctx.emit(Op.BitwiseOr, u32, ctx.emit(Op.BitwiseAnd, u32, lane, mask),
                               ctx.u32(last * stride))
                for kr, v in incl.items():
                    total[kr] = s.shuffle(Op.GroupNonUniformShuffle, v, src)
    else:
        total = dict(chunk_totals)

    carries = {}
    for key in rows:
        rep_carry = None
        for rep in rep_order:
            p = prefix.get((key, rep))
            if rep_carry is None:
                carries[(key, rep)] = (p, first)
            elif p is None:
                carries[(key, rep)] = (rep_carry, None)
            else:
                c = s.select(first, rep_carry, s.combine(rep_carry, p))
                carries[(key, rep)] = (c, None)
            if reps > 1:
                tot = total[(key, rep)]
                rep_carry = tot if rep_carry is None else s.combine(rep_carry, tot)
    return carries


def _earlier_lane(ctx, delta, reverse):
    """The lane `delta` positions earlier in scan order, or this lane where there is none. (Shuffling
    up or down from beyond the subgroup is undefined; lavapipe at 16 lanes on an AVX2 CPU reads
    outside its registers and crashes, so every shuffle names a lane that exists.)"""
    u32, lane = ctx.t_u32, ctx.lane()
    if reverse:
        src = ctx.emit(Op.IAdd, u32, lane, ctx.u32(delta))
        exists = ctx.emit(Op.ULessThan, ctx.t_bool, src, ctx.u32(ctx.target.subgroup_size))
    else:
        src = ctx.emit(Op.ISub, u32, lane, ctx.u32(delta))
        exists = ctx.emit(Op.UGreaterThanEqual, ctx.t_bool, lane, ctx.u32(delta))
    return ctx.emit(Op.Select, u32, exists, src, lane)


def _across_subgroups(ctx, op, s, lay, axis, reverse, incl, rows, reps, pos, gsize, groups):
    """Subgroup totals through workgroup memory. Returns per (row, rep) the carry of the
    subgroups before this one in scan order, a bool id saying there are any, and per (row, rep)
    the total over all subgroups. Small scans use words of their own (one barrier, or two in a
    loop: see reduce._OwnWords); others go through the shared scratch in batches of repetitions that
    fit _BATCH_WORDS (two barriers per batch)."""
    u32 = ctx.t_u32
    words = [ctx.word_count(t) for t in s.rtypes]
    slot = sum(words)
    other_shape = lay.shape[:axis] + lay.shape[axis + 1:]
    n_rows = 1
    for d in other_shape:
        n_rows *= d
    own = own_words(ctx, op)
    if own:
        smem, lead = own
        batch = reps
    else:
        smem, lead = ctx.workgroup.scratch_ptr, True
        batch = max(1, min(reps, _BATCH_WORDS // (n_rows * groups * slot)))
        ctx.workgroup.scratch(n_rows * batch * groups * slot, "subgroup totals")
    row_words = batch * groups * slot
    ostrides = [x * row_words for x in row_major(other_shape)]
    strides = tuple(ostrides[:axis] + [0] + ostrides[axis:])
    g = ctx.emit(Op.ShiftRightLogical, u32, pos, ctx.u32(_log2(gsize)))      # group in scan order
    real_g = ctx.emit(Op.ISub, u32, ctx.u32(groups - 1), g) if reverse else g
    g_off = ctx.emit(Op.IMul, u32, real_g, ctx.u32(slot))
    is_last = ctx.emit(Op.IEqual, ctx.t_bool, ctx.emit(Op.BitwiseAnd, u32, pos, ctx.u32(gsize - 1)),
                       ctx.u32(gsize - 1))
    bases = ctx.linear_indices(lay, strides)
    # One register per (row, rep) gives the row's base address.
    index = {(key, rep): members[0][1] for key, by_rep in rows.items() for rep, members in by_rep.items()}
    order = list(range(groups))[::-1] if reverse else list(range(groups))
    g_carry, totals = {}, {}
    for start in range(0, reps, batch):
        part = {kr: k for kr, k in index.items() if start <= kr[1] < start + batch}

        def at(kr, k):
            return ctx.emit(Op.IAdd, u32, bases[k], ctx.u32((kr[1] - start) * groups * slot))

        def write():
            for kr, k in part.items():
                base = ctx.emit(Op.IAdd, u32, at(kr, k), g_off)
                w = 0
                for rt, x in zip(s.rtypes, incl[kr]):
                    for word in ctx.to_words(rt, x):
                        ctx.emit(Op.Store, None, smem(ctx.emit(Op.IAdd, u32, base, ctx.u32(w))), word)
                        w += 1
        if lead:
            ctx.barrier()
        ctx.if_then(is_last, write)
        ctx.barrier()
        for kr, k in part.items():
            base = at(kr, k)
            acc = carry = None
            for j, rg in enumerate(order):
                vals, w = [], rg * slot
                for rt, nw in zip(s.rtypes, words):
                    ws = [ctx.emit(Op.Load, u32, smem(ctx.emit(Op.IAdd, u32, base, ctx.u32(w + i))))
                          for i in range(nw)]
                    vals.append(ctx.from_words(rt, ws))
                    w += nw
                acc = vals if acc is None else s.combine(acc, vals)
                if j < groups - 1:
                    # Groups after j in scan order carry everything up to j.
                    carry = acc if carry is None else s.select(
                        ctx.emit(Op.UGreaterThan, ctx.t_bool, g, ctx.u32(j)), acc, carry)
            totals[kr] = acc
            g_carry[kr] = carry
    return g_carry, ctx.emit(Op.UGreaterThan, ctx.t_bool, g, ctx.u32(0)), totals


def _scan_words(ctx, op):
    """u32 words of subgroup totals `op` (a tt.scan) needs; 0 when none."""
    axis = int(attr(op, "axis"))
    lay = layout_of(ctx.encoding_of(op.results[0]), tuple(op.results[0].type.shape))
    if not lay.terms[axis]:
        return 0
    term = lay.terms[axis][0]
    span, lo = term.stride * term.count, max(term.stride, ctx.target.subgroup_size)
    if span <= lo:
        return 0
    n_rows = 1
    for d, size in enumerate(lay.shape):
        if d != axis:
            n_rows *= size
    reps = max(1, lay.shape[axis] // (term.scale * term.count))
    slot = sum(ctx.word_count(ctx.stype(v.type)) for v in op.operands)
    return n_rows * reps * (span // lo) * slot


OWN_WORDS["tt.scan"] = _scan_words
