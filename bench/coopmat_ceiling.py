"""What cooperative matrices can reach without workgroup-memory staging: hand-built fp16 matmuls
(C = A @ B, fp32 accumulators and output) whose A and B tiles load straight from global memory, next
to tutorial 03 through jitspv (operands staged through workgroup memory, the lowering of today) and
Triton-CUDA, same run, same card. A design measurement for tl.dot on tensor cores (issue 10): if a
direct kernel is much faster, the lowering should load dot operands that come straight from tl.load
that way. (On the H200, driver 580, every direct variant was slower than the staged lowering:
bench/RESULTS.md, 2026-12-04.)

The kernels: a workgroup computes a BM x BN block of C (grouped ordering, GROUP_M 8, as tutorial 03).
Subgroup scope: SM x SN subgroups each a (BM / SM) x (BN / SN) block of 16 x 16 x 16 tiles; per K
step of 16 every subgroup loads its A and B tiles (OpCooperativeMatrixLoadKHR on PhysicalStorageBuffer
pointers; L1/L2 serve the repeats) and multiply-adds. Workgroup scope: one BM x BK by BK x BN
multiply-add per K step, the driver distributing it. Either may load through tensor layouts
(OpCooperativeMatrixLoadTensorNV on slices of the whole arrays) instead of pointers and strides.
M, N must be multiples of BM, BN and K of the K step (no masks: a ceiling, not a kernel for users).

Workgroup-scope matrices (the driver stages them) and tensor-layout loads need VK_NV_cooperative_matrix2,
enabled with JITSPV_COOPMAT2=1 (the tiles that need it are left out otherwise).

Run: JITSPV_COOPMAT2=1 python bench/coopmat_ceiling.py [--sizes 4096,1024] [--tiles ...]
(a device with 16x16x16 f16 cooperative matrices; prints a markdown table)
"""
import argparse
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import jitspv  # noqa: E402
from jitspv.lower.spirv.builder import Module  # noqa: E402
from jitspv.lower.spirv.grammar import (AddressingModel, BuiltIn, Capability, CooperativeMatrixLayout,  # noqa: E402
                                        CooperativeMatrixUse, Decoration, ExecutionMode, ExecutionModel,
                                        LoopControl, MemoryAccess, MemoryModel, Op, Scope, StorageClass,
                                        TensorClampMode)
from jitspv.testing import do_bench  # noqa: E402
from jitspv.vk import Pipeline, get_device  # noqa: E402
from common import cuda_available, header, table  # noqa: E402
from matmul import _jitspv_tiled_matmul, _triton_cuda_matmul  # noqa: E402

ARGS = "<QQQIIIIII"   # a, b, c addresses; M, N, K; lda, ldb, ldc (elements)
GROUP_M = 8


def direct_matmul(bm, bn, sm, sn, unroll=1, subgroup_size=32, tk=16, workgroup=None, clamp=None) -> bytes:
    """Subgroup scope: sm x sn subgroups, 16 x 16 x 16 tiles. workgroup=T (VK_NV_cooperative_matrix2):
    one workgroup-scope bm x tk by tk x bn product per K step over T invocations (sm = sn = 1).
    clamp (a TensorClampMode): A and B load through tensor layouts (SPV_NV_tensor_addressing),
    slices of the whole M x K and K x N arrays."""
    m = Module(version=(1, 6) if clamp is not None else (1, 5))
    for cap in (Capability.Shader, Capability.PhysicalStorageBufferAddresses, Capability.Int64, Capability.Float16,
                Capability.StorageBuffer16BitAccess, Capability.VulkanMemoryModel, Capability.GroupNonUniform):
        m.capability(cap)
    m.memory_model(AddressingModel.PhysicalStorageBuffer64, MemoryModel.Vulkan)
    void, u32, u64, f16, f32 = m.type_void(), m.type_int(32, False), m.type_int(64, False), m.type_float(16), m.type_float(32)
    boolean = m.type_bool()
    c = lambda v: m.const(u32, v)   # noqa: E731
    args = m.type_struct([u64] * 3 + [u32] * 6, offsets=[0, 8, 16, 24, 28, 32, 36, 40, 44])
    m.decorate(args, Decoration.Block)
    pc = m.variable(m.type_pointer(StorageClass.PushConstant, args), StorageClass.PushConstant)
    wid_var = m.variable(m.type_pointer(StorageClass.Input, m.type_vector(u32, 3)), StorageClass.Input)
    m.decorate(wid_var, Decoration.BuiltIn, BuiltIn.WorkgroupId)
    sid_var = m.variable(m.type_pointer(StorageClass.Input, u32), StorageClass.Input)
    m.decorate(sid_var, Decoration.BuiltIn, BuiltIn.SubgroupId)
    scope = c(Scope.Workgroup if workgroup else Scope.Subgroup)
    tm, tn = (bm, bn) if workgroup else (16, 16)
    mat = lambda comp, rows, cols, use: m.type_cooperative_matrix(comp, scope, c(rows), c(cols), c(use))   # noqa: E731
    t_a, t_b = mat(f16, tm, tk, CooperativeMatrixUse.MatrixAKHR), mat(f16, tk, tn, CooperativeMatrixUse.MatrixBKHR)
    t_c = mat(f32, tm, tn, CooperativeMatrixUse.MatrixAccumulatorKHR)
    row_major = c(CooperativeMatrixLayout.RowMajorKHR)
    p_f16 = m.type_pointer(StorageClass.PhysicalStorageBuffer, f16)
    p_f32 = m.type_pointer(StorageClass.PhysicalStorageBuffer, f32)
    wm, wn = bm // tm // sm, bn // tn // sn

    f = m.function(void, m.type_function(void, []))
    entry, header_l, body, cont, merge = f.label(), f.label(), f.label(), f.label(), f.label()
    f.begin_block(entry)
    e = f.emit
    arg = lambda i, t: e(Op.Load, t, e(Op.AccessChain, m.type_pointer(StorageClass.PushConstant, t), pc, c(i)))   # noqa: E731
    a_base, b_base, c_base = (arg(i, u64) for i in range(3))
    M, N, K, lda, ldb, ldc = (arg(i, u32) for i in range(3, 9))
    pid = e(Op.CompositeExtract, u32, e(Op.Load, m.type_vector(u32, 3), wid_var), 0)
    sid = c(0) if workgroup else e(Op.Load, u32, sid_var)
    # Grouped ordering (tutorial 03): GROUP_M block rows at a time, column by column.
    num_m, num_n = e(Op.UDiv, u32, M, c(bm)), e(Op.UDiv, u32, N, c(bn))
    in_group = e(Op.IMul, u32, num_n, c(GROUP_M))
    first_m = e(Op.IMul, u32, e(Op.UDiv, u32, pid, in_group), c(GROUP_M))
    size_m = e(Op.ExtInst, u32, m.ext_inst_import("GLSL.std.450"), 38, e(Op.ISub, u32, num_m, first_m), c(GROUP_M))  # UMin
    pid_m = e(Op.IAdd, u32, first_m, e(Op.UMod, u32, pid, size_m))
    pid_n = e(Op.UDiv, u32, e(Op.UMod, u32, pid, in_group), size_m)
    row = e(Op.IAdd, u32, e(Op.IMul, u32, pid_m, c(bm)), e(Op.IMul, u32, e(Op.UDiv, u32, sid, c(sn)), c(wm * tm)))
    col = e(Op.IAdd, u32, e(Op.IMul, u32, pid_n, c(bn)), e(Op.IMul, u32, e(Op.UMod, u32, sid, c(sn)), c(wn * tn)))

    if clamp is not None:
        m.capability(Capability.CooperativeMatrixTensorAddressingNV)
        m.extension("SPV_NV_cooperative_matrix2")
        t_layout = m.type_tensor_layout(c(2), c(clamp))
        def layout(rows, cols, stride):
            lay = e(Op.TensorLayoutSetDimensionNV, t_layout, e(Op.CreateTensorLayoutNV, t_layout), rows, cols)
            return e(Op.TensorLayoutSetStrideNV, t_layout, lay, stride, c(1))
        a_layout, b_layout = layout(M, K, lda), layout(K, N, ldb)
        a_ptr, b_ptr = e(Op.ConvertUToPtr, p_f16, a_base), e(Op.ConvertUToPtr, p_f16, b_base)

    def tensor_load(t, ptr, lay, row0, rows, col0, cols):
        part = e(Op.TensorLayoutSliceNV, t_layout, lay, row0, c(rows), col0, c(cols))
        return e(Op.CooperativeMatrixLoadTensorNV, t, ptr, e(Op.Undef, t), part, MemoryAccess.Aligned, 16, 0)

    def address(base, element, esize):
        return e(Op.IAdd, u64, base, e(Op.IMul, u64, e(Op.UConvert, u64, element), m.const(u64, esize)))
    zero = e(Op.CompositeConstruct, t_c, m.const(f32, 0.0))
    e(Op.Branch, None, header_l)

    f.begin_block(header_l)
    k = f.phi(u32, (c(0), entry))
    acc = [f.phi(t_c, (zero, entry)) for _ in range(wm * wn)]
    more = e(Op.ULessThan, boolean, k, K)
    e(Op.LoopMerge, None, merge, cont, LoopControl.None_)
    e(Op.BranchConditional, None, more, body, merge)

    f.begin_block(body)
    new = acc
    for u in range(unroll):   # K steps of tk per loop pass (K must be a multiple of tk * unroll)
        kk = e(Op.IAdd, u32, k, c(tk * u))
        if clamp is not None:
            xs = [tensor_load(t_a, a_ptr, a_layout, e(Op.IAdd, u32, row, c(tm * i)), tm, kk, tk) for i in range(wm)]
            ys = [tensor_load(t_b, b_ptr, b_layout, kk, tk, e(Op.IAdd, u32, col, c(tn * j)), tn) for j in range(wn)]
        else:
            xs = [e(Op.CooperativeMatrixLoadKHR, t_a,
                    e(Op.ConvertUToPtr, p_f16, address(a_base, e(Op.IAdd, u32, e(Op.IMul, u32, e(Op.IAdd, u32, row, c(tm * i)), lda), kk), 2)),
                    row_major, lda, MemoryAccess.Aligned, 16) for i in range(wm)]
            ys = [e(Op.CooperativeMatrixLoadKHR, t_b,
                    e(Op.ConvertUToPtr, p_f16, address(b_base, e(Op.IAdd, u32, e(Op.IMul, u32, kk, ldb), e(Op.IAdd, u32, col, c(tn * j))), 2)),
                    row_major, ldb, MemoryAccess.Aligned, 16) for j in range(wn)]
        new = [e(Op.CooperativeMatrixMulAddKHR, t_c, xs[i], ys[j], new[i * wn + j]) for i in range(wm) for j in range(wn)]
    e(Op.Branch, None, cont)

    f.begin_block(cont)
    k_next = e(Op.IAdd, u32, k, c(tk * unroll))
    f.add_incoming(k, k_next, cont)
    for phi, v in zip(acc, new):
        f.add_incoming(phi, v, cont)
    e(Op.Branch, None, header_l)

    f.begin_block(merge)
    for i in range(wm):
        for j in range(wn):
            at = e(Op.IAdd, u32, e(Op.IMul, u32, e(Op.IAdd, u32, row, c(tm * i)), ldc), e(Op.IAdd, u32, col, c(tn * j)))
            e(Op.CooperativeMatrixStoreKHR, None, e(Op.ConvertUToPtr, p_f32, address(c_base, at, 4)), acc[i * wn + j],
              row_major, ldc, MemoryAccess.Aligned, 16)
    e(Op.Return, None)
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, workgroup or sm * sn * subgroup_size, 1, 1)
    return m.assemble()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="4096,1024")
    # BM:BN:SM:SN:U (subgroup scope), U = K steps of 16 per loop pass; wg:BM:BN:BK:T:U (workgroup
    # scope, T invocations; VK_NV_cooperative_matrix2)
    # scope, T invocations; VK_NV_cooperative_matrix2); prefixed t (sgt:..., wgt:...) loads through tensor
    # layouts (clamp mode Undefined), c (wgc:...) with clamp mode Constant
    parser.add_argument("--tiles", default="128:256:2:4:2,sgt:128:256:2:4:2,wg:128:256:32:256:1,wgt:128:256:32:256:1,"
                                           "wgt:128:128:32:256:1,wgt:128:128:64:256:1,wgt:256:128:32:256:1,"
                                           "wgc:128:256:32:256:1,wgt:64:64:32:128:1")
    opts = parser.parse_args()
    dev = get_device()
    shapes = jitspv.frontend.runtime.current_target().cooperative_matrix_shapes
    if not any(tuple(x[:4]) == (16, 16, 16, "f16") and x[5] == "f32" for x in shapes):
        sys.exit(f"{dev.name}: no 16x16x16 f16 -> f32 cooperative matrices (or JITSPV_COOPMAT=0)")
    sizes = [int(s) for s in opts.sizes.split(",")]
    tiles = [t.split(":") for t in opts.tiles.split(",")]
    if "VK_NV_cooperative_matrix2" not in dev.enabled_extensions:
        print(f"{dev.name}: no VK_NV_cooperative_matrix2: workgroup-scope and tensor-layout tiles left out")
        tiles = [t for t in tiles if t[0][0].isdigit()]
    rng = np.random.default_rng(0)
    staged = _jitspv_tiled_matmul()
    cuda = cuda_available()
    if cuda:
        import torch
        import triton.testing
        triton_mm = _triton_cuda_matmul("fp16")
    rows = []
    for n in sizes:
        a, b = (rng.standard_normal((n, n)).astype(np.float16) for _ in range(2))
        A, B = jitspv.asarray(a), jitspv.asarray(b)
        ref = a[:64].astype(np.float32) @ b.astype(np.float32)
        measured = [("jitspv, tutorial 03 (staged, autotuned)", do_bench(lambda: staged(A, B), quantiles=[0.5]),
                     float(np.abs(staged(A, B).numpy()[:64].astype(np.float32) - ref).max()), None)]
        for tile in tiles:
            kind = tile[0] if not tile[0].isdigit() else "sg"
            clamp = {"t": TensorClampMode.Undefined, "c": TensorClampMode.Constant}.get(kind[2:])
            how = {None: "", TensorClampMode.Undefined: ", tensor layouts", TensorClampMode.Constant: ", tensor layouts clamped"}[clamp]
            if kind.startswith("wg"):
                bm, bn, bk, threads, unroll = (int(x) for x in tile[1:])
                spirv = direct_matmul(bm, bn, 1, 1, unroll, tk=bk, workgroup=threads, clamp=clamp)
                name = f"workgroup scope {bm}x{bn}x{bk}, {threads} invocations, K by {bk * unroll}{how}"
            else:
                bm, bn, sm, sn, unroll = (int(x) for x in tile[-5:])
                threads, bk = sm * sn * dev.properties.subgroup_size, 16
                spirv = direct_matmul(bm, bn, sm, sn, unroll, dev.properties.subgroup_size, clamp=clamp)
                name = f"direct loads {bm}x{bn}, {sm}x{sn} subgroups, K by {16 * unroll}{how}"
            if n % bm or n % bn or n % (bk * unroll):
                continue
            pipe = Pipeline(dev, spirv, struct.calcsize(ARGS), local_size=(threads, 1, 1))
            C = jitspv.full((n, n), np.nan)
            args = struct.pack(ARGS, A.data_ptr(), B.data_ptr(), C.data_ptr(), n, n, n, n, n, n)
            run = lambda: pipe.launch(((n // bm) * (n // bn), 1, 1), args)   # noqa: E731
            run()
            err = float(np.abs(C.numpy()[:64] - ref).max())
            measured.append((name, do_bench(run, quantiles=[0.5]), err,
                             pipe.statistics().get("Register Count")))
        if cuda:
            ta, tb = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
            tc = torch.empty((n, n), device="cuda", dtype=torch.float16)
            triton_mm(ta, tb, tc)
            measured.append(("Triton-CUDA, tutorial 03 (autotuned)", triton.testing.do_bench(lambda: triton_mm(ta, tb, tc), quantiles=[0.5]),
                             float((tc[:64].float().cpu() - torch.from_numpy(ref)).abs().max()), None))
            measured.append(("torch.matmul", triton.testing.do_bench(lambda: torch.matmul(ta, tb), quantiles=[0.5]), 0.0, None))
        base = measured[-2][1] if cuda else None
        for name, ms, err, regs in measured:
            rows.append([name, n, 2.0 * n ** 3 / ms * 1e-9, base / ms if base else None, err, regs])
            print(rows[-1], flush=True)
    print(header("fp16 matmul on cooperative matrices: operands straight from global memory"))
    print(table(["kernel", "M=N=K", "TFLOP/s", "/ Triton-CUDA", "max abs err (64 rows)", "registers"], rows))


if __name__ == "__main__":
    main()
