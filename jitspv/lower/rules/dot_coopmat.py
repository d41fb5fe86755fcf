"""tt.dot on cooperative matrices (SPV_KHR_cooperative_matrix, subgroup scope), the strategy tried
before the FMA one (lower/dot_strategy.py). Experimental and opt-in: only a Target that lists
cooperative-matrix shapes (JITSPV_COOPMAT=1 on a device that has them) makes it accept a dot, and it
has not yet been run on hardware.

Accepted, on a target with the Vulkan memory model (which SPIR-V requires with cooperative
matrices): 2-D f16 x f16 -> f32 or f16, bf16 x bf16 -> f32 and i8 x i8 -> i32 dots where one of
the device's shapes
M x N x K tiles the dot (m % M == n % N == k % K == 0) and the (m/M)(n/N) result tiles divide evenly
among the workgroup's subgroups; nothing assumes a particular shape or subgroup size. Anything else
(fp32/tf32/fp64, batched, shapes that do not tile) stays on the FMA path.

The dot's operands arrive as register tensors (masked tl.loads already happened), so ragged edges
never read or write outside an array here. They are staged through workgroup memory in their own
element type (bf16 registers, which hold f32, converted back: exact), row-major: A[m][k], B[k][n] and the accumulator C[m][n] in the result type. Subgroup s
then takes result tiles s, s + S, ... (S subgroups): loads its C tile, for every K step loads an A
and a B tile (OpCooperativeMatrixLoadKHR from Workgroup storage) and multiply-adds, and stores C
back. Every tile offset and row stride is a multiple of a tile row (tk or tn elements, since the
shape tiles the dot), which meets Vulkan's alignment rule for cooperative loads and stores
(VUID-RuntimeSpirv-OpCooperativeMatrixLoadKHR-08986). The KHR extension does not say which invocation holds which element of a cooperative matrix,
so the result is read from workgroup memory into the FMA strategy's encoding (layout.dot_encoding):
every later use (elementwise, reductions, stores, the next dot) sees a known layout. Per dot: three
barriers (earlier readers done; staged operands visible; C tiles visible).
"""
from __future__ import annotations

from jitspv.lower.layout import dot_encoding, layout_of
from jitspv.lower.values import DTensor
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


class CoopmatPlan:
    """Tile shape and subgroup split of one tt.dot on cooperative matrices."""

    def __init__(self, op, shape, subgroups, num_threads):
        self.m, self.n = op.results[0].type.shape
        self.k = op.operands[0].type.shape[-1]
        self.tm, self.tn, self.tk = shape[:3]
        self.subgroups = subgroups
        self.tiles_per_subgroup = self.m // self.tm * (self.n // self.tn) // subgroups
        self.operand_kind = type_name(op.operands[0].type)
        self.result_kind = type_name(op.results[0].type)
        self.encoding = dot_encoding((self.m, self.n), 4, num_threads)

    def lower(self, ctx, op):
        _lower(ctx, op, self)


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
    fits = [s for s in target.cooperative_matrix_shapes
            if tuple(s[3:]) == (types[0], types[0], types[1], types[1])
            and m % s[0] == 0 and n % s[1] == 0 and k % s[2] == 0 and (m // s[0]) * (n // s[1]) % subgroups == 0
            and (m // s[0]) * (n // s[1]) // subgroups * (k // s[2]) <= _MAX_MULADDS]
    # Staged A, B and C must fit the device's shared memory (else the FMA path, which needs less).
    staged = (m * k + k * n) * bits(op.operands[0].type) // 8 + m * n * bits(op.results[0].type) // 8
    if not fits or staged > target.max_shared_memory:
        return None
    return CoopmatPlan(op, max(fits, key=lambda s: s[0] * s[1] * s[2]), subgroups, num_threads)


def _buffer(ctx, role, elem, count_of):
    """The workgroup array `role` (A, B or C) of element type `elem` that every cooperative-matrix
    dot of the kernel with that element type shares, sized for the largest one."""
    plans = [p for p in ctx.dot_plans.values() if isinstance(p, CoopmatPlan)]
    count = max(count_of(p) for p in plans)
    return ctx.workgroup.variable(("tt.dot coopmat", role, elem), elem, count, f"tt.dot cooperative-matrix {role}")


def _stage(ctx, buf, elem, t, row):
    """Store every register of the 2-D tensor `t` (any layout) at [r][c] of the row-major array `buf`
    (bf16: registers hold f32, converted to the array's bfloat16)."""
    ptr = ctx.m.type_pointer(StorageClass.Workgroup, elem)
    bfloat = ctx.m.type_info(elem).kind == "bfloat16"
    for x, at in zip(t.regs, ctx.linear_indices(t.layout, (row, 1))):
        ctx.emit(Op.Store, None, ctx.emit(Op.AccessChain, ptr, buf, at), ctx.emit(Op.FConvert, elem, x) if bfloat else x)


def _lower(ctx, op, plan):
    m = ctx.m
    a, b, c = op.operands[0], op.operands[1], op.operands[2]
    res = op.results[0]
    elem = m.type_bfloat16() if plan.operand_kind == "bf16" else ctx.stype(a.type)
    acc_t = ctx.stype(res.type)
    a_buf = _buffer(ctx, "A", elem, lambda p: p.m * p.k)
    b_buf = _buffer(ctx, "B", elem, lambda p: p.k * p.n)
    c_buf = _buffer(ctx, "C", acc_t, lambda p: p.m * p.n)

    ctx.barrier()                          # earlier readers of the buffers are done
    _stage(ctx, a_buf, elem, ctx.tensor(a), plan.k)
    _stage(ctx, b_buf, elem, ctx.tensor(b), plan.n)
    _stage(ctx, c_buf, acc_t, ctx.tensor(c), plan.n)
    ctx.barrier()

    scope = ctx.u32(Scope.Subgroup)

    def matrix(component, rows, cols, use):
        return m.type_cooperative_matrix(component, scope, ctx.u32(rows), ctx.u32(cols), ctx.u32(use))

    ta = matrix(elem, plan.tm, plan.tk, CooperativeMatrixUse.MatrixAKHR)
    tb = matrix(elem, plan.tk, plan.tn, CooperativeMatrixUse.MatrixBKHR)
    tc = matrix(acc_t, plan.tm, plan.tn, CooperativeMatrixUse.MatrixAccumulatorKHR)
    row_major = ctx.u32(CooperativeMatrixLayout.RowMajorKHR)
    flags = (_SIGNED,) if plan.operand_kind == "i8" else ()

    def at(buf, component, base, offset):
        """Pointer to element base + offset (base: an id, offset: static) of `buf`."""
        index = ctx.emit(Op.IAdd, ctx.t_u32, base, ctx.u32(offset)) if offset else base
        return ctx.emit(Op.AccessChain, m.type_pointer(StorageClass.Workgroup, component), buf, index)

    sid = ctx.builtin(BuiltIn.SubgroupId)
    tiles_n = plan.n // plan.tn
    for j in range(plan.tiles_per_subgroup):
        tile = ctx.emit(Op.IAdd, ctx.t_u32, sid, ctx.u32(j * plan.subgroups))
        tile_m = ctx.emit(Op.UDiv, ctx.t_u32, tile, ctx.u32(tiles_n))
        tile_n = ctx.emit(Op.UMod, ctx.t_u32, tile, ctx.u32(tiles_n))
        a_row = ctx.emit(Op.IMul, ctx.t_u32, tile_m, ctx.u32(plan.tm * plan.k))   # A[tile_m * tm][0]
        b_col = ctx.emit(Op.IMul, ctx.t_u32, tile_n, ctx.u32(plan.tn))            # B[0][tile_n * tn]
        c_at = ctx.emit(Op.IAdd, ctx.t_u32, ctx.emit(Op.IMul, ctx.t_u32, tile_m, ctx.u32(plan.tm * plan.n)), b_col)
        acc = ctx.emit(Op.CooperativeMatrixLoadKHR, tc, at(c_buf, acc_t, c_at, 0), row_major, ctx.u32(plan.n))
        for kk in range(plan.k // plan.tk):
            x = ctx.emit(Op.CooperativeMatrixLoadKHR, ta, at(a_buf, elem, a_row, kk * plan.tk), row_major,
                         ctx.u32(plan.k))
            y = ctx.emit(Op.CooperativeMatrixLoadKHR, tb, at(b_buf, elem, b_col, kk * plan.tk * plan.n), row_major,
                         ctx.u32(plan.n))
            acc = ctx.emit(Op.CooperativeMatrixMulAddKHR, tc, x, y, acc, *flags)
        ctx.emit(Op.CooperativeMatrixStoreKHR, None, at(c_buf, acc_t, c_at, 0), acc, row_major, ctx.u32(plan.n))
    ctx.barrier()

    lay = layout_of(plan.encoding, (plan.m, plan.n))
    ptr = m.type_pointer(StorageClass.Workgroup, acc_t)
    out = [ctx.emit(Op.Load, acc_t, ctx.emit(Op.AccessChain, ptr, c_buf, i)) for i in ctx.linear_indices(lay, (plan.n, 1))]
    ctx.set(res, DTensor(plan.encoding, lay, out))
