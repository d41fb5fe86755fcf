"""tt.dot on cooperative matrices (SPV_KHR_cooperative_matrix, subgroup scope), the strategy tried
before the FMA one (lower/dot_strategy.py). Opt-in: only a Target that lists cooperative-matrix
shapes (JITSPV_COOPMAT=1 on a device that has them) makes it accept a dot.

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
strategy's encoding (layout.dot_encoding) at the point of use; an accumulator that arrives as a
register tensor goes the other way (a splat, such as tl.zeros, is built in place).

Operands arrive as register tensors (masked tl.loads already happened), so ragged edges never read
or write outside an array here. Per dot they are staged through workgroup memory in their own
element type (bf16 registers, which hold f32, converted back: exact), row-major A[m][k], B[k][n];
per K step a subgroup loads its wm A tiles and wn B tiles (OpCooperativeMatrixLoadKHR from
Workgroup storage) and multiply-adds wm x wn times. Two barriers per dot (earlier readers done;
staged operands visible). Every tile offset and row stride is a multiple of a tile row (tk or tn
elements), which meets Vulkan's alignment rule for cooperative loads and stores
(VUID-RuntimeSpirv-OpCooperativeMatrixLoadKHR-08986).
"""
from __future__ import annotations

from jitspv.lower.layout import dot_encoding, layout_of
from jitspv.lower.values import Carrier, DTensor, HeldTensor
from jitspv.lower.ttir_access import bits, type_name
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


class CoopmatPlan(Carrier):
    """Tile shape and subgroup grid of one tt.dot on cooperative matrices; also how a loop carries
    its result (the subgroup's tiles, row by row of its block)."""

    def __init__(self, op, shape, grid, num_threads):
        self.m, self.n = op.results[0].type.shape
        self.k = op.operands[0].type.shape[-1]
        self.tm, self.tn, self.tk = shape[:3]
        self.sm, self.sn = grid                         # subgroups along M and along N
        self.wm = self.m // self.tm // self.sm          # tiles a subgroup owns along M
        self.wn = self.n // self.tn // self.sn          # ... and along N
        self.carried_count = self.wm * self.wn
        self.operand_type, self.result_type = op.operands[0].type, op.results[0].type
        self.operand_kind = type_name(self.operand_type)
        self.result_kind = type_name(self.result_type)
        # Plans with equal tilings place every result element in the same subgroup and tile slot.
        self.tiling = (self.m, self.n, self.tm, self.tn, self.sm, self.sn, self.result_kind)
        self.encoding = dot_encoding((self.m, self.n), 4, num_threads)

    def lower(self, ctx, op):
        _lower(ctx, op, self)

    def carried_ids(self, ctx, value):
        return _accumulator_tiles(ctx, self, value)

    def from_ids(self, ids):
        return CoopmatTiles(self, ids)

    @staticmethod
    def staged_bytes(plans):
        """Workgroup memory the plans' shared A, B and C arrays take (each sized for its largest user)."""
        total = 0
        for role, count in (("A", lambda p: p.m * p.k), ("B", lambda p: p.k * p.n), ("C", lambda p: p.m * p.n)):
            sizes = {}
            for p in plans:
                key, nbytes = _buffer_key(p, role)
                sizes[key] = max(sizes.get(key, 0), count(p) * nbytes)
            total += sum(sizes.values())
        return total


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
        c_buf = _buffer(ctx, plan, "C")
        ctx.barrier()                          # earlier readers of C are done
        for tile, at in zip(self.tiles, _tile_offsets(ctx, plan)):
            ctx.emit(Op.CooperativeMatrixStoreKHR, None, _at(ctx, c_buf, t.acc, at), tile, t.row_major, ctx.u32(plan.n))
        ctx.barrier()
        lay = layout_of(plan.encoding, (plan.m, plan.n))
        ptr = ctx.m.type_pointer(StorageClass.Workgroup, t.acc)
        regs = [ctx.emit(Op.Load, t.acc, ctx.emit(Op.AccessChain, ptr, c_buf, i))
                for i in ctx.linear_indices(lay, (plan.n, 1))]
        self._read = (ctx.label, DTensor(plan.encoding, lay, regs))
        return self._read[1]


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
    plan = CoopmatPlan(op, shape, grid, num_threads)
    # Staged A, B and C must fit the device's shared memory (else the FMA path, which needs less).
    return plan if CoopmatPlan.staged_bytes([plan]) <= target.max_shared_memory else None


def _fits_together(plans, target):
    """The kernel's cooperative-matrix dots share their arrays; all of them must fit at once."""
    return CoopmatPlan.staged_bytes(plans) <= target.max_shared_memory


plan_cooperative_matrix.fits_together = _fits_together


def _subgroup_grid(tiles_m, tiles_n, subgroups):
    """(sm, sn): subgroups along M and N, each owning an equal block of result tiles, with the
    fewest tile loads per K step (wm + wn); None where no grid divides the tiles."""
    grids = [(sm, subgroups // sm) for sm in range(1, subgroups + 1)
             if subgroups % sm == 0 and tiles_m % sm == 0 and tiles_n % (subgroups // sm) == 0]
    return min(grids, key=lambda g: (tiles_m // g[0] + tiles_n // g[1], -g[1]), default=None)


class _Types:
    __slots__ = ("elem", "acc", "a", "b", "c", "row_major", "flags")


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
    t.flags = (_SIGNED,) if plan.operand_kind == "i8" else ()
    return t


def _buffer_key(plan, role):
    """(key, element bytes) of the workgroup array `role` (A, B or C) of a plan: every
    cooperative-matrix dot of the kernel with the same element type shares it."""
    ttype = plan.result_type if role == "C" else plan.operand_type
    return ("tt.dot coopmat", role, type_name(ttype)), bits(ttype) // 8


def _buffer(ctx, plan, role):
    """The workgroup array `role` of `plan`, sized for the largest dot of the kernel that shares it."""
    key, _ = _buffer_key(plan, role)
    count_of = {"A": lambda p: p.m * p.k, "B": lambda p: p.k * p.n, "C": lambda p: p.m * p.n}[role]
    count = max(count_of(p) for p in ctx.dot_plans.values() if isinstance(p, CoopmatPlan) and _buffer_key(p, role)[0] == key)
    t = _types(ctx, plan)
    elem = t.acc if role == "C" else t.elem
    return ctx.workgroup.variable(key, elem, count, f"tt.dot cooperative-matrix {role}")


def _at(ctx, buf, component, index):
    """Pointer to element `index` (an id) of the workgroup array `buf`."""
    return ctx.emit(Op.AccessChain, ctx.m.type_pointer(StorageClass.Workgroup, component), buf, index)


def _origin(ctx, plan):
    """(first tile row, first tile column) of this subgroup's block, as u32 ids."""
    sid = ctx.builtin(BuiltIn.SubgroupId)
    row = ctx.emit(Op.IMul, ctx.t_u32, ctx.emit(Op.UDiv, ctx.t_u32, sid, ctx.u32(plan.sn)), ctx.u32(plan.wm))
    col = ctx.emit(Op.IMul, ctx.t_u32, ctx.emit(Op.UMod, ctx.t_u32, sid, ctx.u32(plan.sn)), ctx.u32(plan.wn))
    return row, col


def _tile_offsets(ctx, plan):
    """Element offset in a row-major m x n array of each tile the subgroup owns (carried order)."""
    row, col = _origin(ctx, plan)
    base = ctx.emit(Op.IAdd, ctx.t_u32, ctx.emit(Op.IMul, ctx.t_u32, row, ctx.u32(plan.tm * plan.n)),
                    ctx.emit(Op.IMul, ctx.t_u32, col, ctx.u32(plan.tn)))
    return [ctx.emit(Op.IAdd, ctx.t_u32, base, ctx.u32(i * plan.tm * plan.n + j * plan.tn)) if i or j else base
            for i in range(plan.wm) for j in range(plan.wn)]


def _stage(ctx, buf, elem, t, row):
    """Store every register of the 2-D tensor `t` (any layout) at [r][c] of the row-major array `buf`
    (bf16: registers hold f32, converted to the array's bfloat16)."""
    ptr = ctx.m.type_pointer(StorageClass.Workgroup, elem)
    bfloat = ctx.m.type_info(elem).kind == "bfloat16"
    for x, at in zip(t.regs, ctx.linear_indices(t.layout, (row, 1))):
        ctx.emit(Op.Store, None, ctx.emit(Op.AccessChain, ptr, buf, at), ctx.emit(Op.FConvert, elem, x) if bfloat else x)


def _accumulator_tiles(ctx, plan, value):
    """The subgroup's accumulator tiles of `value` for `plan`: the tiles themselves where it is a dot
    result of the same tiling, a splat built in place, else its registers staged through C."""
    held = ctx.get(value)
    if isinstance(held, CoopmatTiles) and held.plan.tiling == plan.tiling:
        return list(held.tiles)
    t, regs = _types(ctx, plan), ctx.tensor(value).regs
    if regs and all(x == regs[0] for x in regs):   # tl.zeros and other splats
        return [ctx.emit(Op.CompositeConstruct, t.c, regs[0])] * plan.carried_count
    c_buf = _buffer(ctx, plan, "C")
    ctx.barrier()                              # earlier readers of C are done
    _stage(ctx, c_buf, t.acc, ctx.tensor(value), plan.n)
    ctx.barrier()
    return [ctx.emit(Op.CooperativeMatrixLoadKHR, t.c, _at(ctx, c_buf, t.acc, at), t.row_major, ctx.u32(plan.n))
            for at in _tile_offsets(ctx, plan)]


def _lower(ctx, op, plan):
    a, b, c = op.operands[0], op.operands[1], op.operands[2]
    t = _types(ctx, plan)
    acc = _accumulator_tiles(ctx, plan, c)
    a_buf, b_buf = _buffer(ctx, plan, "A"), _buffer(ctx, plan, "B")
    ctx.barrier()                              # earlier readers of A and B are done
    _stage(ctx, a_buf, t.elem, ctx.tensor(a), plan.k)
    _stage(ctx, b_buf, t.elem, ctx.tensor(b), plan.n)
    ctx.barrier()
    row, col = _origin(ctx, plan)
    a_rows = [ctx.emit(Op.IMul, ctx.t_u32, ctx.emit(Op.IAdd, ctx.t_u32, row, ctx.u32(i)), ctx.u32(plan.tm * plan.k))
              for i in range(plan.wm)]                                     # A[(row + i) * tm][0]
    b_cols = [ctx.emit(Op.IMul, ctx.t_u32, ctx.emit(Op.IAdd, ctx.t_u32, col, ctx.u32(j)), ctx.u32(plan.tn))
              for j in range(plan.wn)]                                     # B[0][(col + j) * tn]
    for kk in range(plan.k // plan.tk):
        xs = [ctx.emit(Op.CooperativeMatrixLoadKHR, t.a, _at(ctx, a_buf, t.elem, _plus(ctx, r, kk * plan.tk)),
                       t.row_major, ctx.u32(plan.k)) for r in a_rows]
        ys = [ctx.emit(Op.CooperativeMatrixLoadKHR, t.b, _at(ctx, b_buf, t.elem, _plus(ctx, c0, kk * plan.tk * plan.n)),
                       t.row_major, ctx.u32(plan.n)) for c0 in b_cols]
        acc = [ctx.emit(Op.CooperativeMatrixMulAddKHR, t.c, xs[i], ys[j], acc[i * plan.wn + j], *t.flags)
               for i in range(plan.wm) for j in range(plan.wn)]
    ctx.set(op.results[0], CoopmatTiles(plan, acc))


def _plus(ctx, base, offset):
    return ctx.emit(Op.IAdd, ctx.t_u32, base, ctx.u32(offset)) if offset else base
