"""tt.dot on CUDA cores, the FMA strategy (lower/dot_strategy.py): register-tiled FMA through workgroup
memory (the classic SGEMM).

The result lives in `layout.dot_encoding`: each invocation owns a register tile of C made of
v x v chunks (v = 4 for 32-bit, 2 for 64-bit compute types). A dot writes its operands to a
workgroup pool of 16-byte words, A transposed (A^T[k][m], rows padded so that transposed writes
spread over banks) and B as it is (B[k][n]), then, for every k, each invocation reads one
16-byte vector per chunk of its A column and B row and accumulates their outer product with FMA.
Where the whole operands do not fit beside the kernel's other users of workgroup memory, they are
staged in K slices instead (a loop: barrier, write the slice's A columns and B rows, barrier,
accumulate it), each slice the largest power-of-two part of K that fits the pool the kernel
allows its dots (LoweringContext.dot_pool_bytes, decided once per kernel by lower_module).
Per k and invocation: (m_r / v + n_r / v) vector reads for m_r * n_r FMAs (8x8 tile: 4 reads, 64
FMAs); operand writes are 16-byte where an invocation owns 4 aligned words of a pool row (B
as loaded row-major), 4-byte otherwise (A^T of a k-contiguous A); per dot (per K slice) two
barriers (readers of the previous dot or slice are done; writes are visible).

Inputs are converted on the way into workgroup memory: f16 -> f32 (bf16 and fp8 are f32 registers
already), i8/i16 -> i32; the
accumulation is in f32 (tf32/tf32x3/bf16x3/bf16x6 requests are computed in full f32, at least as accurate),
i32 or f64. `maxNumImpreciseAcc` has no meaning here and is ignored.
"""
from __future__ import annotations

from jitspv.lower.layout import dot_encoding, layout_of, part_groups
from jitspv.lower.values import DTensor
from jitspv.lower.dot_strategy import STRATEGIES
from jitspv.lower.rules.dot_coopmat import plan_cooperative_matrix
from jitspv.lower.errors import LoweringError
from jitspv.lower.registry import register
from jitspv.lower.rules.control import counted_loop
from jitspv.lower.fp8 import is_fp8
from jitspv.lower.ttir_access import bits, type_name
from jitspv.lower.spirv.grammar import Op, StorageClass, GLSL

_FLOATS = ("f16", "bf16", "f32", "f64")
_INTS = ("i8", "i16", "i32")
# Most FMAs emitted straight-line per k-loop iteration (larger dots loop over k in steps).
_UNROLL_FMAS = 2048


class FmaPlan:
    """Shapes, compute type, result encoding and workgroup-memory placement of one tt.dot on FMAs."""

    def __init__(self, op, num_threads):
        a, b = op.operands[0], op.operands[1]
        res = op.results[0]
        shape = tuple(res.type.shape)
        self.rank = len(shape)
        self.batch = shape[0] if self.rank == 3 else 1
        self.m, self.n = shape[-2], shape[-1]
        self.k = a.type.shape[-1]
        self.a_kind, self.b_kind, self.r_kind = type_name(a.type), type_name(b.type), type_name(res.type)
        self.wide = bits(res.type) == 64        # f64: two words per element
        self.we = 2 if self.wide else 1
        self.a_row = _round4(self.m * self.we)
        if self.a_row % 32 == 0:
            self.a_row += 4                      # transposed writes of one k column hit other banks
        self.b_row = _round4(self.n * self.we)
        self.encoding = dot_encoding(shape, 8 if self.wide else 4, num_threads)

    def a_words(self, k_slice):
        """Pool words of A^T staged `k_slice` k at a time (B follows them)."""
        return self.batch * k_slice * self.a_row

    def words(self, k_slice):
        return self.a_words(k_slice) + self.batch * k_slice * self.b_row

    def k_slice(self, pool_bytes):
        """K staged at once: all of it, or where the pool allows `pool_bytes` (None: no bound), the
        largest power of two that fits (at least 1: a dot that fits nowhere is then refused by the
        workgroup-memory check)."""
        kc = self.k
        while kc > 1 and pool_bytes is not None and self.words(kc) * 4 > pool_bytes:
            kc //= 2
        return kc

    def lower(self, ctx, op):
        _lower_fma(ctx, op, self)


def _round4(x):
    return -(-x // 4) * 4


def _plan_fma(op, target, num_threads):
    """The FMA strategy, the fallback: every supported dot, else a LoweringError saying why not."""
    plan = FmaPlan(op, num_threads)
    kinds = (plan.a_kind, plan.b_kind)
    if plan.r_kind in ("f32", "f16", "bf16", "f64"):
        if not all(k in _FLOATS or is_fp8(k) for k in kinds):
            _refuse(op, f"tl.dot of {plan.a_kind} x {plan.b_kind} -> {plan.r_kind} is not supported "
                    "(mixed int/float operands are not supported)")
        if plan.wide != all(k == "f64" for k in kinds):
            _refuse(op, f"tl.dot of {plan.a_kind} x {plan.b_kind} -> {plan.r_kind}: f64 needs f64 operands and result")
    elif plan.r_kind == "i32":
        if not all(k in _INTS for k in kinds):
            _refuse(op, f"tl.dot of {plan.a_kind} x {plan.b_kind} -> i32 needs integer operands")
    else:
        _refuse(op, f"tl.dot with a {plan.r_kind} result is not supported")
    return plan


# Tried in this order: tensor cores where the target lists a shape that tiles the dot, else FMAs.
STRATEGIES.extend([plan_cooperative_matrix, _plan_fma])


def _refuse(op, message):
    raise LoweringError(message, op.location)


DOT_OPERANDS = "tt.dot operands"   # the pool's key in ctx.workgroup


def _pool(ctx):
    """The uvec4 workgroup array every FMA dot of the kernel shares (sized for the largest one)."""
    plans = [p for p in ctx.dot_plans.values() if isinstance(p, FmaPlan)]
    words = max(p.words(p.k_slice(ctx.dot_pool_bytes)) for p in plans)
    slices = sorted({p.k_slice(ctx.dot_pool_bytes) for p in plans if p.k_slice(ctx.dot_pool_bytes) < p.k})
    who = DOT_OPERANDS + (f" (staged in K slices of {', '.join(map(str, slices))})" if slices else "")
    return ctx.workgroup.variable(DOT_OPERANDS, ctx.m.type_vector(ctx.t_u32, 4), words // 4, who)


@register("tt.dot")
def _dot(ctx, op):
    """Lowered as the strategy chosen for it before encodings were assigned (lower/dot_strategy.py)."""
    ctx.dot_plans[op].lower(ctx, op)


def _lower_fma(ctx, op, plan):
    res = op.results[0]
    shape = tuple(res.type.shape)
    m = ctx.m
    if plan.r_kind == "i32":
        ct = ctx.t_u32
    elif plan.wide:
        ct = m.type_float(64)
    else:
        ct = ctx.t_f32
    enc = plan.encoding
    lay = layout_of(enc, shape)
    acc = [_to_compute(ctx, x, plan.r_kind, ct) for x in ctx.tensor(op.operands[2], enc).regs]
    pool = _pool(ctx)
    kc = plan.k_slice(ctx.dot_pool_bytes)
    # A^T (batch, m, k) and B (batch, k, n) in the pool: word strides, first word, k dimension.
    operands = [(op.operands[0], plan.a_kind, (kc * plan.a_row, plan.we, plan.a_row), 0, plan.rank - 1),
                (op.operands[1], plan.b_kind, (kc * plan.b_row, plan.b_row, plan.we), plan.a_words(kc), plan.rank - 2)]

    def staged():
        """Per operand (in turn: converting one, then writing it): layout, strides, kdim, words."""
        for value, kind, strides, base, kdim in operands:
            yield _operand_words(ctx, ctx.tensor(value), kind, ct, plan, strides, base) + (kdim,)

    def stage(acc, words, index=None):
        """Write the operands' words (only those of K slice `index`, a u32 id, where given), accumulate."""
        ctx.barrier()                         # earlier readers of the pool are done
        for lay_o, strides, regs, kdim in words:
            _write(ctx, pool, lay_o, strides, regs, None if index is None else (kdim, kc, index))
        ctx.barrier()
        return _accumulate(ctx, pool, plan, lay, ct, acc, kc)

    if kc == plan.k:
        acc = stage(acc, staged())
    else:
        words = list(staged())                # converted once, before the loop over the slices
        acc = counted_loop(ctx, ctx.t_u32, ctx.u32(0), ctx.u32(plan.k // kc), ctx.u32(1), acc,
                           lambda index, acc: stage(acc, words, index), signed=False)
    out = [_from_compute(ctx, x, plan.r_kind, ctx.stype(res.type)) for x in acc]
    ctx.set(res, DTensor(enc, lay, out))


def _to_compute(ctx, x, kind, ct):
    if kind == "f16":
        return ctx.emit(Op.FConvert, ct, x)
    if kind in ("i8", "i16"):
        return ctx.emit(Op.SConvert, ct, x)
    return x


def _from_compute(ctx, x, kind, rtype):
    if kind == "f16":
        return ctx.emit(Op.FConvert, rtype, x)
    return x


def _operand_words(ctx, t, kind, ct, plan, strides, base):
    """Operand `t` (in whatever layout it has) converted to the compute type: (its layout, the pool
    strides of its dimensions, per register the (static word offset, u32 id) of its words), register
    coordinates `coord` at word base + sum(coord * strides) plus the invocation's part."""
    if plan.rank == 2:
        strides = strides[1:]
    regs = []
    for r, x in zip(t.layout.regs, t.regs):
        off = base + sum(o * s for o, s in zip(r, strides))
        regs.append([(off + w, word) for w, word in enumerate(ctx.to_words(ct, _to_compute(ctx, x, kind, ct)))])
    return t.layout, strides, regs


def _write(ctx, pool, lay, strides, regs, k_slice=None):
    """Store an operand's words (_operand_words) in the pool. With k_slice = (k dimension, slice
    length kc, slice index: a u32 id), only the registers whose k lies in that slice, at their k
    minus the slice's start."""
    # The invocation's part is a multiple of 4 words when every thread term moves by 4 words.
    aligned = all(term.scale * s % 4 == 0 for d, s in enumerate(strides) for term in lay.terms[d] if s)
    thr, thr_vec = ctx.thread_linear(lay, strides), None
    if aligned:
        with ctx.prologue():
            thr_vec = _vec_part(ctx, lay, strides)
    if k_slice is None:
        _store(ctx, pool, [w for words in regs for w in words], thr, thr_vec, aligned)
        return
    kdim, kc, index = k_slice
    slice_words = kc * strides[kdim]   # a multiple of 4: pool rows are
    k_strides = tuple(int(d == kdim) for d in range(lay.rank))   # a register's k
    groups = part_groups(lay, k_strides, 0, kc)
    if any(k_base is not None for _, _, k_base in groups):
        # Where the invocation's part of k decides the slice: its part of the address moved back by
        # the slice's start (made here, before the branches, so that it dominates them all).
        thr_back = ctx.emit(Op.ISub, ctx.t_u32, thr, ctx.emit(Op.IMul, ctx.t_u32, index, ctx.u32(slice_words)))
        vec_back = None if thr_vec is None else ctx.emit(
            Op.ISub, ctx.t_u32, thr_vec, ctx.emit(Op.IMul, ctx.t_u32, index, ctx.u32(slice_words // 4)))
    for (static, _, k_base), members in groups.items():
        words = [w for i in members for w in regs[i]]
        if k_base is None:       # the same slice in every invocation: static offsets
            words = [(off - static * slice_words, w) for off, w in words]
            ctx.if_then(ctx.emit(Op.IEqual, ctx.t_bool, index, ctx.u32(static)),
                        lambda: _store(ctx, pool, words, thr, thr_vec, aligned))
            continue
        mine = ctx.part_of(lay, k_strides, k_base, kc)   # the slice of this invocation's k
        ctx.if_then(ctx.emit(Op.IEqual, ctx.t_bool, index, mine),
                    lambda: _store(ctx, pool, words, thr_back, vec_back, aligned))


def _store(ctx, pool, words, thr, thr_vec, aligned):
    """Store words [(static word offset, u32 id)] at offset + thr (the invocation's part, in words):
    runs of 4 words at a 16-byte boundary as one uvec4 store at offset / 4 + thr_vec (B rows whose
    invocation owns 4 consecutive columns), the rest word by word."""
    vptr = ctx.m.type_pointer(StorageClass.Workgroup, ctx.m.type_vector(ctx.t_u32, 4))
    pt = ctx.m.type_pointer(StorageClass.Workgroup, ctx.t_u32)
    i = 0
    while i < len(words):
        off = words[i][0]
        if aligned and off % 4 == 0 and [o for o, _ in words[i:i + 4]] == [off, off + 1, off + 2, off + 3]:
            vec = ctx.emit(Op.CompositeConstruct, ctx.m.type_vector(ctx.t_u32, 4), *(w for _, w in words[i:i + 4]))
            at = ctx.u32(off // 4) if thr_vec is None else ctx.emit(Op.IAdd, ctx.t_u32, thr_vec, ctx.u32(off // 4))
            ctx.emit(Op.Store, None, ctx.emit(Op.AccessChain, vptr, pool, at), vec)
            i += 4
            continue
        at = ctx.u32(off) if thr is None else ctx.emit(Op.IAdd, ctx.t_u32, thr, ctx.u32(off))
        vec = ctx.emit(Op.ShiftRightLogical, ctx.t_u32, at, ctx.u32(2))
        lane = ctx.emit(Op.BitwiseAnd, ctx.t_u32, at, ctx.u32(3))
        ctx.emit(Op.Store, None, ctx.emit(Op.AccessChain, pt, pool, vec, lane), words[i][1])
        i += 1


def _accumulate(ctx, pool, plan, lay, ct, acc, kc):
    """acc[b, m, n] += sum_k A^T[b][k][m] * B[b][k][n] over the kc k staged in the pool, for the
    registers of `lay`; returns the ids."""
    m = ctx.m
    mdim, ndim = plan.rank - 2, plan.rank - 1
    # Chunk starts (static offsets) this invocation reads: (batch, m0) of A, (batch, n0) of B.
    sm = min(4 // plan.we, plan.m)
    sn = min(4 // plan.we, plan.n)
    a_chunks = sorted({(r[0] if plan.rank == 3 else 0, r[mdim] - r[mdim] % sm) for r in lay.regs})
    b_chunks = sorted({(r[0] if plan.rank == 3 else 0, r[ndim] - r[ndim] % sn) for r in lay.regs})
    zeros = (0,) * (plan.rank - 2)
    # Thread parts of the chunk addresses, in 16-byte words (multiples of 4 words by construction).
    with ctx.prologue():
        a_thr = _vec_part(ctx, lay, zeros + (plan.we, 0))
        b_thr = _vec_part(ctx, lay, zeros + (0, plan.we))

    vec_t = m.type_vector(ctx.t_u32, 4)
    comp_t = m.type_vector(ct, 2 if plan.wide else 4)
    vptr = m.type_pointer(StorageClass.Workgroup, vec_t)

    def read(vec_index, count):
        v = ctx.emit(Op.Load, vec_t, ctx.emit(Op.AccessChain, vptr, pool, vec_index))
        if comp_t != vec_t:
            v = ctx.emit(Op.Bitcast, comp_t, v)
        return [ctx.emit(Op.CompositeExtract, ct, v, i) for i in range(count)]

    def chunk_index(thr, const, kbase):
        x = ctx.u32(const)
        if thr is not None:
            x = ctx.emit(Op.IAdd, ctx.t_u32, thr, x)
        if kbase is not None:
            x = ctx.emit(Op.IAdd, ctx.t_u32, kbase, x)
        return x

    reg_of = {r: i for i, r in enumerate(lay.regs)}
    fma = (lambda x, y, z: ctx.f.glsl(ct, GLSL.Fma, x, y, z)) if ct != ctx.t_u32 else \
        (lambda x, y, z: ctx.emit(Op.IAdd, ct, z, ctx.emit(Op.IMul, ct, x, y)))

    def steps(acc, k0, count, kvec_a, kvec_b):
        """`count` k steps from static k0 (plus the dynamic k offsets kvec_a/kvec_b, in vectors)."""
        acc = list(acc)
        for k in range(k0, k0 + count):
            av, bv = {}, {}
            for (bb, m0) in a_chunks:
                const = (bb * kc * plan.a_row + k * plan.a_row + m0 * plan.we) // 4
                for i, x in enumerate(read(chunk_index(a_thr, const, kvec_a), sm)):
                    av[(bb, m0 + i)] = x
            for (bb, n0) in b_chunks:
                const = (plan.a_words(kc) + bb * kc * plan.b_row + k * plan.b_row + n0 * plan.we) // 4
                for j, x in enumerate(read(chunk_index(b_thr, const, kvec_b), sn)):
                    bv[(bb, n0 + j)] = x
            for r, i in reg_of.items():
                bb = r[0] if plan.rank == 3 else 0
                acc[i] = fma(av[(bb, r[mdim])], bv[(bb, r[ndim])], acc[i])
        return acc

    per_k = len(lay.regs)
    unroll = kc
    while unroll > 1 and unroll * per_k > _UNROLL_FMAS:
        unroll //= 2
    if unroll == kc:
        return steps(acc, 0, kc, None, None)

    def k_steps(kk, acc):   # kk .. kk + unroll
        kvec_a = ctx.emit(Op.IMul, ctx.t_u32, kk, ctx.u32(plan.a_row // 4))
        kvec_b = ctx.emit(Op.IMul, ctx.t_u32, kk, ctx.u32(plan.b_row // 4))
        return steps(acc, 0, unroll, kvec_a, kvec_b)
    return counted_loop(ctx, ctx.t_u32, ctx.u32(0), ctx.u32(kc), ctx.u32(unroll), acc, k_steps, signed=False)


def _vec_part(ctx, lay, strides):
    """The invocation's part of sum(coord * strides), divided by 4 (a 16-byte vector index)."""
    thr = ctx.thread_linear(lay, strides)
    if thr is None:
        return None
    return ctx.emit(Op.ShiftRightLogical, ctx.t_u32, thr, ctx.u32(2))
