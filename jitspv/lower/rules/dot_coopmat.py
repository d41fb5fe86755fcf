"""tt.dot on cooperative matrices (SPV_KHR_cooperative_matrix, subgroup scope), the strategy tried
before the FMA one (lower/dot_strategy.py): a Target that lists cooperative-matrix shapes (a device
that has them, unless JITSPV_COOPMAT=0) makes it accept a dot.

Accepted, on a target with the Vulkan memory model (which SPIR-V requires with cooperative
matrices): 2-D f16 x f16 -> f32 or f16, bf16 x bf16 -> f32 and i8 x i8 -> i32 dots where one of
the device's shapes M x N x K tiles the dot (m % M == n % N == k % K == 0) and the subgroups can
be laid out as a grid over the result tiles (each subgroup owns a wm x wn block of tiles); nothing
assumes a particular shape or subgroup size. Anything else (fp32/tf32/fp64, batched, shapes that do
not tile) stays on the FMA path.

The result stays in cooperative matrices (`CoopmatTiles`, a HeldTensor): a loop carries them as
they are and the next dot accumulates into them, so the K loop of a matmul keeps its accumulator in
the subgroups' registers. The KHR extension does not say which invocation holds which element, so
any other use (an elementwise op, a store) reads the tiles through workgroup memory into the FMA
strategy's encoding (layout.dot_encoding), or where the result's rows are reduced (attention's
softmax) into layout.row_encoding, at the point of use; an accumulator that arrives as a
register tensor goes the other way (a splat, such as tl.zeros, is built in place).

Operands arrive as register tensors (masked tl.loads already happened), so ragged edges never read
or write outside an array here. Per dot they are staged through workgroup memory (rows padded by 16 bytes against bank conflicts) in their own
element type (bf16 registers, which hold f32, converted back: exact), row-major A[m][k], B[k][n];
per K step a subgroup loads its wm A tiles and wn B tiles (OpCooperativeMatrixLoadKHR from
Workgroup storage) and multiply-adds wm x wn times. An A operand defined outside the loop holding
the dot (attention's Q) is staged and loaded once, before the loop (CoopmatPlan.before_loop), where
its tiles fit a register budget; the loop's passes then stage only B. Two barriers per dot (earlier readers done;
staged operands visible). Every tile offset and row stride is a multiple of a tile row (tk or tn
elements), which meets Vulkan's alignment rule for cooperative loads and stores
(VUID-RuntimeSpirv-OpCooperativeMatrixLoadKHR-08986).
"""
from __future__ import annotations

from jitspv.lower.layout import default_blocked, dot_encoding, layout_of, row_encoding
from jitspv.lower.op_facts import SAME_ENCODING, has
from jitspv.lower.rules.common import pack_word, word_element
from jitspv.lower.values import Carrier, DTensor, HeldTensor
from jitspv.lower.ttir_access import attr, bits, type_name
from jitspv.ttir import ir
from jitspv.lower.spirv.grammar import (Op, StorageClass, BuiltIn, Scope, CooperativeMatrixUse,
                                        CooperativeMatrixLayout, CooperativeMatrixOperands)

# (A, B, result) TTIR types -> (operand, accumulator) component names of Target.cooperative_matrix_shapes.
_TYPES = {("f16", "f16", "f32"): ("f16", "f32"), ("f16", "f16", "f16"): ("f16", "f16"),
          ("bf16", "bf16", "f32"): ("bf16", "f32"), ("i8", "i8", "i32"): ("s8", "s32")}
_SIGNED = (CooperativeMatrixOperands.MatrixASignedComponentsKHR | CooperativeMatrixOperands.MatrixBSignedComponentsKHR
           | CooperativeMatrixOperands.MatrixCSignedComponentsKHR
           | CooperativeMatrixOperands.MatrixResultSignedComponentsKHR)
# Most multiply-adds one subgroup emits straight-line per dot (larger dots stay on the FMA path).
_MAX_MULADDS = 1024
# Most u32 registers per invocation that A tiles loaded once before a loop may hold (attention's Q
# at HEAD_DIM 64, 2 tile rows per subgroup: 8 tiles of 4 words).
_MAX_HOISTED_WORDS = 32


class CoopmatPlan(Carrier):
    """Tile shape and subgroup grid of one tt.dot on cooperative matrices; also how a loop carries
    its result (the subgroup's tiles, row by row of its block)."""

    def __init__(self, op, shape, grid, encoding):
        self.m, self.n = op.results[0].type.shape
        self.k = op.operands[0].type.shape[-1]
        self.tm, self.tn, self.tk = shape[:3]
        self.sm, self.sn = grid                         # subgroups along M and along N
        self.wm = self.m // self.tm // self.sm          # tiles a subgroup owns along M
        self.wn = self.n // self.tn // self.sn          # ... and along N
        self.carried_count = self.wm * self.wn
        self.operand_type, self.result_type = op.operands[0].type, op.results[0].type
        # Rows in workgroup memory are padded by 16 bytes, so the 8 rows of 16 bytes that a matrix load
        # reads at once fall in distinct banks (unpadded 64- or 128-byte rows share them 4 or 8 ways).
        self.a_row = self.k + 128 // bits(self.operand_type)
        self.b_row = self.n + 128 // bits(self.operand_type)
        self.c_row = self.n + 128 // bits(self.result_type)
        self.scale_row = self.tn + 128 // bits(self.result_type)    # a row of the row-scale table
        self.operand_kind = type_name(self.operand_type)
        self.result_kind = type_name(self.result_type)
        # Plans with equal tilings place every result element in the same subgroup and tile slot.
        self.tiling = (self.m, self.n, self.tm, self.tn, self.sm, self.sn, self.result_kind)
        self.encoding = encoding                        # of the result where registers read it
        self.c_chunk = _c_chunk_rows(self, self._ab_words)

    def lower(self, ctx, op):
        _lower(ctx, op, self)

    def before_loop(self, ctx, op, loop):
        """A defined outside `loop` (the scf.for directly holding the dot: attention's Q) is staged
        and its tiles loaded here, once, in the loop's preheader, where they fit the register budget:
        then each pass stages only B."""
        a = op.operands[0]
        inside = set(loop.walk())
        if isinstance(a.owner, ir.Operation):
            if a.owner in inside:
                return
        elif any(a.owner is b for o in inside for r in o.regions for b in r.blocks):
            return
        words = self.wm * (self.k // self.tk) * self.tm * self.tk * bits(self.operand_type) // 32 // ctx.target.subgroup_size
        if words > _MAX_HOISTED_WORDS:
            return
        t, buf = _types(ctx, self), _staging(ctx)
        ctx.barrier()                          # earlier readers of the staging array are done
        _stage(ctx, buf, a, 0, self.a_row)
        ctx.barrier()
        a_rows = _a_rows(ctx, self, _origin(ctx, self)[0])
        ctx.before_loop[op] = [_a_tiles(ctx, self, t, buf, a_rows, kk) for kk in range(self.k // self.tk)]

    def carried_ids(self, ctx, value):
        return _accumulator_tiles(ctx, self, value)

    def from_ids(self, ids):
        return CoopmatTiles(self, ids)

    @property
    def staging_words(self):
        """u32 words of the kernel's staging array this dot needs: A then B while it multiplies, or
        C while an accumulator moves between cooperative matrices and registers (never both at once:
        each use is bracketed by barriers)."""
        return max(self._ab_words, self.c_chunk * self.c_row * bits(self.result_type) // 32,
                   self.m * self.scale_row * bits(self.result_type) // 32)

    @property
    def _ab_words(self):
        return (self.m * self.a_row + self.k * self.b_row) * bits(self.operand_type) // 32


def _c_chunk_rows(plan, limit_words):
    """Rows of C that move through workgroup memory at a time: the most (a multiple of the tile
    height dividing m) whose words do not exceed `limit_words` (A and B's staging: C then never
    sets its size, where a 128 x 128 f32 accumulator alone is 64 KiB), and such that no register of
    the encoding holds rows of two chunks (whether a register's row is in a chunk is then known at
    compile time)."""
    lay = layout_of(plan.encoding, (plan.m, plan.n))
    spread = sum((term.count - 1) * term.scale for term in lay.terms[0])   # rows a register spans over tids
    valid = [h for h in range(plan.tm, plan.m + 1, plan.tm)
             if plan.m % h == 0 and all(r[0] // h == (r[0] + spread) // h for r in lay.regs)]
    words = lambda h: h * plan.c_row * bits(plan.result_type) // 32
    return max((h for h in valid if words(h) <= limit_words), default=min(valid))


class CoopmatTiles(HeldTensor):
    """A tt.dot result in cooperative matrices: this subgroup's tiles of `plan`'s tiling."""
    __slots__ = ("plan", "tiles", "_read")

    def __init__(self, plan, tiles):
        self.plan, self.tiles, self._read = plan, tiles, None

    def dtensor(self, ctx):
        """The tiles as a register tensor in the plan's encoding, through workgroup memory (once per
        block: a read in an earlier block may not dominate this use)."""
        if self._read is not None and self._read[0] == ctx.label:
            return self._read[1]
        plan, t = self.plan, _types(ctx, self.plan)
        buf = _staging(ctx)
        lay = layout_of(plan.encoding, (plan.m, plan.n))
        index = ctx.linear_indices(lay, (plan.c_row, 1))
        per = _per(plan.result_type)
        groups = _word_groups(lay, per)
        if groups is None:
            ctx.error("internal: a tt.dot result encoding whose registers split staging words")
        regs = [None] * len(lay.regs)
        for chunk, shift in _c_chunks(plan):
            ctx.barrier()                      # earlier readers of the staging array are done
            def store(i):
                for j in range(plan.wn):
                    k = i * plan.wn + j
                    ctx.emit(Op.CooperativeMatrixStoreKHR, None, _quad_at(ctx, buf, _plus(ctx, words[k], -shift)),
                             self.tiles[k], t.row_major, _quads(ctx, t.c_stride))
            words = _tile_words(ctx, plan)
            _per_owned_row(ctx, plan, chunk, store)
            ctx.barrier()
            for run in _quad_runs(lay, groups, per):
                if lay.regs[run[0][0]][0] // plan.c_chunk != chunk:
                    continue
                word = index[run[0][0]]
                if per > 1:
                    word = ctx.emit(Op.ShiftRightLogical, ctx.t_u32, word, ctx.u32(per.bit_length() - 1))
                for group, w in zip(run, _load_run(ctx, buf, _plus(ctx, word, -shift), len(run))):
                    for i, k in enumerate(group):
                        regs[k] = word_element(ctx, plan.result_kind, t.acc, w, i)
        self._read = (ctx.label, DTensor(plan.encoding, lay, regs))
        return self._read[1]

    def elementwise(self, ctx, op):
        """acc * v[:, None] (the online softmax's rescale) stays in cooperative matrices: each tile
        times a tile whose row r holds v[r] in every column."""
        plan = self.plan
        if op.name != "arith.mulf" or type_name(op.results[0].type) != plan.result_kind:
            return None
        x, y = op.operands
        other = y if ctx.get(x) is self else x
        v = _row_vector(other) if ctx.get(other) is not self else None
        if v is None:
            return None
        return CoopmatTiles(plan, _scale_rows(ctx, plan, self.tiles, v))


def plan_cooperative_matrix(op, target, num_threads):
    """The largest of the target's shapes that tiles this dot, or None (then the FMA strategy)."""
    # Shaders with cooperative matrices must use the Vulkan memory model (spirv-val, Vulkan env).
    if not target.cooperative_matrix_shapes or not target.vulkan_memory_model or len(op.results[0].type.shape) != 2:
        return None
    types = _TYPES.get((type_name(op.operands[0].type), type_name(op.operands[1].type),
                        type_name(op.results[0].type)))
    subgroups = num_threads // target.subgroup_size
    if types is None or subgroups == 0 or num_threads % target.subgroup_size:
        return None
    m, n = op.results[0].type.shape
    k = op.operands[0].type.shape[-1]
    fits = []
    for s in target.cooperative_matrix_shapes:
        if tuple(s[3:]) != (types[0], types[0], types[1], types[1]) or m % s[0] or n % s[1] or k % s[2]:
            continue
        grid = _subgroup_grid(m // s[0], n // s[1], subgroups)
        if grid is not None and m // s[0] * (n // s[1]) // subgroups * (k // s[2]) <= _MAX_MULADDS:
            fits.append((s[0] * s[1] * s[2], s, grid))
    if not fits:
        return None
    _, shape, grid = max(fits, key=lambda f: f[0])
    # The staging must fit the device's shared memory (else the FMA path, which needs less). C moves
    # in chunks of rows no register's invocations straddle: where the near-square register tiles
    # make those chunks too large (16 subgroups over 128 x 256: 64 rows, 66 KiB), the wide
    # encoding's thread grid spans fewer rows. A result whose rows are reduced is read in the row
    # encoding first (its thread grid spans all rows: C moves whole, where that fits).
    encodings = [dot_encoding((m, n), 4, num_threads, wide) for wide in (False, True)]
    if _rows_reduced(op):
        encodings.insert(0, row_encoding((m, n), num_threads))
    for encoding in filter(None, encodings):
        plan = CoopmatPlan(op, shape, grid, encoding)
        if plan.staging_words * 4 <= target.max_shared_memory:
            return plan
    return None


def _rows_reduced(op):
    """Whether the dot's result reaches a reduction along its rows (tl.max(qk, 1), tl.sum(p, 1))
    through elementwise ops of its block."""
    reached = {op.results[0]}
    block = op.parent.operations
    for user in block[block.index(op) + 1:]:
        if not any(v in reached for v in user.operands):
            continue
        if user.name == "tt.reduce" and int(attr(user, "axis")) == 1:
            return True
        if has(user.name, SAME_ENCODING):
            reached.update(user.results)
    return False


def _plan_together(plans, target):
    """The kernel's cooperative-matrix dots share one staging array: C chunks as large as the largest
    A and B staging allows; all of it must fit."""
    limit = max(p._ab_words for p in plans)
    for p in plans:
        p.c_chunk = _c_chunk_rows(p, limit)
    return max(p.staging_words for p in plans) * 4 <= target.max_shared_memory


plan_cooperative_matrix.plan_together = _plan_together


def _subgroup_grid(tiles_m, tiles_n, subgroups):
    """(sm, sn): subgroups along M and N, each owning an equal block of result tiles, with the
    fewest tile loads per K step (wm + wn); None where no grid divides the tiles."""
    grids = [(sm, subgroups // sm) for sm in range(1, subgroups + 1)
             if subgroups % sm == 0 and tiles_m % sm == 0 and tiles_n % (subgroups // sm) == 0]
    return min(grids, key=lambda g: (tiles_m // g[0] + tiles_n // g[1], -g[1]), default=None)


class _Types:
    __slots__ = ("elem", "acc", "a", "b", "c", "row_major", "c_stride", "flags")


def _types(ctx, plan):
    """SPIR-V types of a plan: element and accumulator types, the three matrix types, load layout."""
    m, t = ctx.m, _Types()
    t.elem = m.type_bfloat16() if plan.operand_kind == "bf16" else ctx.stype(plan.operand_type)
    t.acc = ctx.stype(plan.result_type)
    scope = ctx.u32(Scope.Subgroup)

    def matrix(component, rows, cols, use):
        return m.type_cooperative_matrix(component, scope, ctx.u32(rows), ctx.u32(cols), ctx.u32(use))

    t.a = matrix(t.elem, plan.tm, plan.tk, CooperativeMatrixUse.MatrixAKHR)
    t.b = matrix(t.elem, plan.tk, plan.tn, CooperativeMatrixUse.MatrixBKHR)
    t.c = matrix(t.acc, plan.tm, plan.tn, CooperativeMatrixUse.MatrixAccumulatorKHR)
    t.row_major = ctx.u32(CooperativeMatrixLayout.RowMajorKHR)
    t.c_stride = plan.c_row * bits(plan.result_type) // 32   # words per row of C
    t.flags = (_SIGNED,) if plan.operand_kind == "i8" else ()
    return t


def _staging(ctx):
    """The workgroup array every cooperative-matrix dot of the kernel stages through, of 16-byte
    quads of u32 words: registers go in a quad per store where an invocation holds four
    consecutive words (one 128-bit store instead of four, which a warp's rows of 16-byte-padded
    operands would put on 4-way bank conflicts), and matrices load from and store to it by quads
    (stride and offsets in quads), whatever their component type, so A, B and C can share it.
    Offsets below are in words: every matrix origin and row stride is a multiple of four of them
    (rows are padded by 16 bytes, tiles are 16 bytes wide or more)."""
    words = max(p.staging_words for p in ctx.dot_plans.values() if isinstance(p, CoopmatPlan))
    return ctx.workgroup.variable("tt.dot coopmat", _quad_type(ctx), -(-words // 4), "tt.dot cooperative-matrix staging")


def _quad_type(ctx):
    return ctx.m.type_vector(ctx.t_u32, 4)


def _word_at(ctx, buf, word):
    """Pointer to u32 word `word` (an id) of the staging array."""
    quad = ctx.emit(Op.ShiftRightLogical, ctx.t_u32, word, ctx.u32(2))
    return ctx.emit(Op.AccessChain, ctx.m.type_pointer(StorageClass.Workgroup, ctx.t_u32), buf, quad,
                    ctx.emit(Op.BitwiseAnd, ctx.t_u32, word, ctx.u32(3)))


def _quad_at(ctx, buf, word):
    """Pointer to the quad that starts at word `word` (an id, a multiple of 4) of the staging array."""
    quad = ctx.emit(Op.ShiftRightLogical, ctx.t_u32, word, ctx.u32(2))
    return ctx.emit(Op.AccessChain, ctx.m.type_pointer(StorageClass.Workgroup, _quad_type(ctx)), buf, quad)


def _quads(ctx, words):
    """A matrix row stride of `words` words as the u32 constant of its quads."""
    if words % 4:
        ctx.error(f"internal: a cooperative-matrix row of {words} words is not whole 16-byte quads")
    return ctx.u32(words // 4)


def _origin(ctx, plan):
    """(first tile row, first tile column) of this subgroup's block, as u32 ids."""
    sid = ctx.builtin(BuiltIn.SubgroupId)
    row = ctx.emit(Op.IMul, ctx.t_u32, ctx.emit(Op.UDiv, ctx.t_u32, sid, ctx.u32(plan.sn)), ctx.u32(plan.wm))
    col = ctx.emit(Op.IMul, ctx.t_u32, ctx.emit(Op.UMod, ctx.t_u32, sid, ctx.u32(plan.sn)), ctx.u32(plan.wn))
    return row, col


def _tile_words(ctx, plan):
    """Word offset in C (row-major m x n accumulators) of each tile the subgroup owns (carried order)."""
    row, col = _origin(ctx, plan)
    per = 32 // bits(plan.result_type)               # elements per word
    base = ctx.emit(Op.IAdd, ctx.t_u32, ctx.emit(Op.IMul, ctx.t_u32, row, ctx.u32(plan.tm * plan.c_row // per)),
                    ctx.emit(Op.IMul, ctx.t_u32, col, ctx.u32(plan.tn // per)))
    return [_plus(ctx, base, (i * plan.tm * plan.c_row + j * plan.tn) // per) for i in range(plan.wm) for j in range(plan.wn)]


def _stage(ctx, buf, value, base, row):
    """Store the 2-D tensor `value` row-major ([r][c] at element r * row + c, row >= its columns)
    into the staging array from word `base` on, packed (a layout without whole words per
    invocation is converted to the 16-byte-per-invocation one first)."""
    t = ctx.tensor(value)
    if _word_groups(t.layout, _per(value.type)) is None:
        t = ctx.tensor(value, default_blocked(tuple(value.type.shape), bits(value.type) // 8, ctx.num_threads))
    _store_words(ctx, buf, t, value.type, base, row)


def _store_words(ctx, buf, t, ttype, base, row, rows=None):
    """Store the registers of DTensor `t` (of TTIR type `ttype`) in rows `rows` (all: None) at
    [r][c] = element r * row + c from word `base` (a multiple of 4) on: an invocation writes whole
    words it holds, a quad at once where it holds four from a multiple of 4 (`row` elements are
    whole quads)."""
    kind, per = type_name(ttype), _per(ttype)
    firsts = ctx.linear_indices(t.layout, (row, 1))
    for run in _quad_runs(t.layout, _word_groups(t.layout, per), per):
        if rows is not None and t.layout.regs[run[0][0]][0] not in rows:
            continue
        word = firsts[run[0][0]]
        if per > 1:
            word = ctx.emit(Op.ShiftRightLogical, ctx.t_u32, word, ctx.u32(per.bit_length() - 1))
        words = [pack_word(ctx, kind, [t.regs[k] for k in group]) for group in run]
        _store_run(ctx, buf, _plus(ctx, word, base), words)


def _quad_runs(layout, groups, per):
    """The word groups in runs of four that make a quad (consecutive words of a row, the first at a
    column that is a multiple of 4 words) where the layout has them, alone otherwise."""
    first = {layout.regs[g[0]]: g for g in groups}
    runs, taken = [], set()
    for g in groups:
        r = layout.regs[g[0]]
        if id(g) in taken:
            continue
        run = [first.get(r[:-1] + (r[-1] + i * per,)) for i in range(4)] if r[-1] % (4 * per) == 0 else [None]
        if None in run or any(id(x) in taken for x in run):
            run = [g]
        taken.update(id(x) for x in run)
        runs.append(run)
    return runs


def _store_run(ctx, buf, word, words):
    """Store the u32 ids `words` at word `word` (an id) on: one quad store for four (then `word` is
    a multiple of 4), a word store for one."""
    if len(words) == 4:
        ctx.emit(Op.Store, None, _quad_at(ctx, buf, word), ctx.emit(Op.CompositeConstruct, _quad_type(ctx), *words))
    else:
        for i, w in enumerate(words):
            ctx.emit(Op.Store, None, _word_at(ctx, buf, _plus(ctx, word, i)), w)


def _per(ttype):
    """Elements of a TTIR (tensor) type per u32 word."""
    return 32 // bits(ttype)


def _word_groups(layout, per):
    """Register numbers in groups of `per` that hold consecutive elements of a row, the first at a
    column that is a multiple of `per` (one word each); None where the layout splits words."""
    if per == 1:
        return [[k] for k in range(len(layout.regs))]
    if any(term.scale % per for term in layout.terms[-1]):
        return None
    index = layout.register_index()
    groups = []
    for r in layout.regs:
        if r[-1] % per == 0:
            group = [index.get(r[:-1] + (r[-1] + i,)) for i in range(per)]
            if None in group:
                return None
            groups.append(group)
    return groups if len(groups) * per == len(layout.regs) else None


def _load_run(ctx, buf, word, count):
    """The u32 ids of `count` words from word `word` (an id) on: one quad load for four (then `word`
    is a multiple of 4), a word load for one."""
    if count == 4:
        quad = ctx.emit(Op.Load, _quad_type(ctx), _quad_at(ctx, buf, word))
        return [ctx.emit(Op.CompositeExtract, ctx.t_u32, quad, i) for i in range(4)]
    return [ctx.emit(Op.Load, ctx.t_u32, _word_at(ctx, buf, _plus(ctx, word, i))) for i in range(count)]


def _accumulator_tiles(ctx, plan, value):
    """The subgroup's accumulator tiles of `value` for `plan`: the tiles themselves where it is a dot
    result of the same tiling, a splat built in place, else its registers staged through C."""
    held = ctx.get(value)
    if isinstance(held, CoopmatTiles) and held.plan.tiling == plan.tiling:
        return list(held.tiles)
    t, regs = _types(ctx, plan), ctx.tensor(value).regs
    if regs and all(x == regs[0] for x in regs):   # tl.zeros and other splats
        return [ctx.emit(Op.CompositeConstruct, t.c, regs[0])] * plan.carried_count
    buf = _staging(ctx)
    t_reg = ctx.tensor(value, plan.encoding)   # its rows fall into chunks known at compile time
    tiles = [ctx.emit(Op.Undef, t.c)] * plan.carried_count
    for chunk, shift in _c_chunks(plan):
        ctx.barrier()                          # earlier readers of the staging array are done
        _store_words(ctx, buf, t_reg, plan.result_type, -shift, plan.c_row,
                     rows=range(chunk * plan.c_chunk, (chunk + 1) * plan.c_chunk))
        ctx.barrier()
        words = _tile_words(ctx, plan)

        def load(i):
            return [ctx.emit(Op.CooperativeMatrixLoadKHR, t.c, _quad_at(ctx, buf, _plus(ctx, words[i * plan.wn + j], -shift)),
                             t.row_major, _quads(ctx, t.c_stride)) for j in range(plan.wn)]
        tiles = _per_owned_row(ctx, plan, chunk, load, tiles)
    return tiles


def _row_vector(value):
    """The 1-D tensor v where value = broadcast(expand_dims(v, 1)) (v[r] in every column of row r), or None."""
    b = value.owner
    if getattr(b, "name", None) != "tt.broadcast":
        return None
    e = b.operands[0].owner
    if getattr(e, "name", None) != "tt.expand_dims" or int(attr(e, "axis")) != 1:
        return None
    return e.operands[0]


def _scale_rows(ctx, plan, tiles, v):
    """tiles times v[:, None]: v written to an m x tn table of the staging array (row r: v[r] in
    every column), each owned tile row's table tile loaded as an accumulator, multiplied in.
    The invocations holding the same rows of v (its layout's replicas: 16 of them in attention's
    128 x 64 tiles on 8 subgroups) share out each table row's words, where each alone would write
    the whole row (32 quad stores per invocation there instead of 8 word stores)."""
    t, buf = _types(ctx, plan), _staging(ctx)
    per = _per(plan.result_type)
    row_words = plan.scale_row // per
    words = plan.tn // per                     # of a table row: whole quads (tn is 16 bytes or more)
    vec = ctx.tensor(v)
    replica = ctx.replica_index(vec.layout)
    span = max(1, words // (1 << bin(vec.layout.replica_mask).count("1")))   # words per replica and row
    first = None                               # this replica's first word of each row
    if span < words:
        part = ctx.emit(Op.BitwiseAnd, ctx.t_u32, replica, ctx.u32(words // span - 1))
        first = ctx.emit(Op.IMul, ctx.t_u32, part, ctx.u32(span))
    ctx.barrier()                              # earlier readers of the staging array are done
    for x, at in zip(vec.regs, ctx.linear_indices(vec.layout, (row_words,))):
        word = pack_word(ctx, plan.result_kind, [x] * per)
        if first is not None:
            at = ctx.emit(Op.IAdd, ctx.t_u32, at, first)
        for c in range(0, span, 4):            # quads where a replica's part is whole quads
            _store_run(ctx, buf, _plus(ctx, at, c), [word] * min(4, span - c))
    ctx.barrier()
    row, _ = _origin(ctx, plan)
    out = []
    for i in range(plan.wm):
        at = ctx.emit(Op.IMul, ctx.t_u32, _plus(ctx, row, i), ctx.u32(plan.tm * row_words))
        scale = ctx.emit(Op.CooperativeMatrixLoadKHR, t.c, _quad_at(ctx, buf, at), t.row_major, _quads(ctx, row_words))
        mul = Op.FMul if plan.result_kind[0] == "f" else Op.IMul
        out += [ctx.emit(mul, t.c, tiles[i * plan.wn + j], scale) for j in range(plan.wn)]
    return out


def _c_chunks(plan):
    """(chunk number, its first word in C's row-major words) of each chunk of c_chunk rows."""
    words = plan.c_chunk * plan.c_row // _per(plan.result_type)
    return [(c, c * words) for c in range(plan.m // plan.c_chunk)]


def _per_owned_row(ctx, plan, chunk, body, current=None):
    """Run body(i) for each tile row i of the subgroup's block that lies in C chunk `chunk` (a
    branch on the subgroup's id, uniform in the subgroup as cooperative-matrix ops require; none
    where C moves whole). With `current` (carried tiles), body returns the wn tiles of row i and
    the merged tiles come back."""
    rows_per_chunk = plan.c_chunk // plan.tm
    row, _ = _origin(ctx, plan)
    out = list(current or [])
    for i in range(plan.wm):
        span = slice(i * plan.wn, (i + 1) * plan.wn)
        if plan.c_chunk == plan.m:
            got = body(i)
        else:
            in_chunk = ctx.emit(Op.IEqual, ctx.t_bool, ctx.emit(Op.UDiv, ctx.t_u32, _plus(ctx, row, i), ctx.u32(rows_per_chunk)),
                                ctx.u32(chunk))
            got = ctx.if_then(in_chunk, lambda: body(i), (lambda: out[span]) if current is not None else None)
        if current is not None:
            out[span] = got
    return out


def _lower(ctx, op, plan):
    a, b, c = op.operands[0], op.operands[1], op.operands[2]
    t = _types(ctx, plan)
    acc = _accumulator_tiles(ctx, plan, c)
    buf = _staging(ctx)
    per = 32 // bits(plan.operand_type)               # elements per word
    b_base = plan.m * plan.a_row // per               # B follows A
    hoisted = ctx.before_loop.get(op)                 # A's tiles, loaded before the loop (CoopmatPlan.before_loop)
    ctx.barrier()                              # earlier readers of the staging array are done
    if hoisted is None:
        _stage(ctx, buf, a, 0, plan.a_row)
    _stage(ctx, buf, b, b_base, plan.b_row)
    ctx.barrier()
    row, col = _origin(ctx, plan)
    a_rows = _a_rows(ctx, plan, row) if hoisted is None else None
    b_cols = [_plus(ctx, ctx.emit(Op.IMul, ctx.t_u32, _plus(ctx, col, j), ctx.u32(plan.tn // per)), b_base)
              for j in range(plan.wn)]                                     # B[0][(col + j) * tn]
    for kk in range(plan.k // plan.tk):
        xs = _a_tiles(ctx, plan, t, buf, a_rows, kk) if hoisted is None else hoisted[kk]
        ys = [ctx.emit(Op.CooperativeMatrixLoadKHR, t.b, _quad_at(ctx, buf, _plus(ctx, c0, kk * plan.tk * plan.b_row // per)),
                       t.row_major, _quads(ctx, plan.b_row // per)) for c0 in b_cols]
        acc = [ctx.emit(Op.CooperativeMatrixMulAddKHR, t.c, xs[i], ys[j], acc[i * plan.wn + j], *t.flags)
               for i in range(plan.wm) for j in range(plan.wn)]
    ctx.set(op.results[0], CoopmatTiles(plan, acc))


def _a_rows(ctx, plan, row):
    """Word offsets of the staged A (row-major from word 0) where the subgroup's tile rows start."""
    return [ctx.emit(Op.IMul, ctx.t_u32, _plus(ctx, row, i), ctx.u32(plan.tm * plan.a_row * bits(plan.operand_type) // 32))
            for i in range(plan.wm)]                                       # A[(row + i) * tm][0]


def _a_tiles(ctx, plan, t, buf, a_rows, kk):
    """The subgroup's wm A tiles of K step kk, from the staged A."""
    return [ctx.emit(Op.CooperativeMatrixLoadKHR, t.a, _quad_at(ctx, buf, _plus(ctx, r, kk * plan.tk * bits(plan.operand_type) // 32)),
                     t.row_major, _quads(ctx, plan.a_row * bits(plan.operand_type) // 32)) for r in a_rows]


def _plus(ctx, base, offset):
    """base (an id) + offset (static, may be negative)."""
    if offset < 0:
        return ctx.emit(Op.ISub, ctx.t_u32, base, ctx.u32(-offset))
    return ctx.emit(Op.IAdd, ctx.t_u32, base, ctx.u32(offset)) if offset else base
