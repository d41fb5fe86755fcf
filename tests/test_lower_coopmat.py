"""tt.dot on cooperative matrices (rules/dot_coopmat.py), where the device has them (off: JITSPV_COOPMAT=0).

Lavapipe has no cooperative matrices, so CI lowers Triton's tutorial 03 (matmul: grouped ordering,
masked K loop, leaky-ReLU epilogue, fp16 output) and tutorial 06 (fused attention: two dots per loop,
online softmax in between) against a Target that claims the H200's shapes, and spirv-val (cmeel's
2025.5, which knows SPV_KHR_cooperative_matrix) checks every such module for Vulkan 1.3; the
disassembly must show OpCooperativeMatrixMulAddKHR. Without the shapes (no knob, lavapipe) the
FMA path runs unchanged. The numerics tests at the end run only where the device has cooperative
matrices (the H200) and JITSPV_COOPMAT is not 0.
"""
import dataclasses
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import triton.language as tl

import jitspv
from jitspv.frontend import runtime as rt
from jitspv.frontend.jit import lower_ttir
from jitspv.frontend.triton_bridge import TtirOptions, make_ttir
from jitspv.lower.errors import OutOfResources
from jitspv.lower.kernel import Target
from jitspv.lower.rules.dot_coopmat import _subgroup_grid
from jitspv.lower.spirv import tools
from jitspv.vk.device import get_device

ROOT = Path(__file__).resolve().parent.parent
rng = np.random.default_rng()


def _example(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


matmul_example = _example("03_matrix_multiplication")
attention_example = _example("06_fused_attention")

# The H200's subgroup-scope shapes (driver 580, /work/shared/DESIGN.md), as jitspv.vk.device lists them.
H200_SHAPES = (tuple((m, n, k, "f16", "f16", c, c) for m, n, k in ((16, 16, 16), (16, 8, 16), (16, 8, 8))
                     for c in ("f16", "f32"))
               + ((16, 16, 16, "bf16", "bf16", "f32", "f32"),)
               + tuple((m, n, 32, t, t, r, r) for m, n in ((16, 16), (16, 8)) for t, r in (("s8", "s32"), ("u8", "u32"))))
H200 = Target(subgroup_size=32, max_shared_memory=48 * 1024, max_push_constants=256, has_float16=True,
              has_float64=True, has_int8=True, has_int16=True, vulkan_memory_model=True,
              cooperative_matrix_shapes=H200_SHAPES)
# Another vendor's shapes: a 64-wide subgroup and only 16x16x16 f16 -> f32, 16x16x32 s8 (nothing NVIDIA's).
WIDE = dataclasses.replace(H200, subgroup_size=64,
                           cooperative_matrix_shapes=((16, 16, 16, "f16", "f16", "f32", "f32"),
                                                      (16, 16, 32, "s8", "s8", "s32", "s32")))

_MATMUL_SIG = {"a_ptr": "*fp16", "b_ptr": "*fp16", "c_ptr": "*fp16", "M": "i32", "N": "i32", "K": "i32",
               **{s: "i32" for s in ("stride_am", "stride_ak", "stride_bk", "stride_bn", "stride_cm", "stride_cn")},
               **{c: "constexpr" for c in ("BLOCK_SIZE_M", "BLOCK_SIZE_N", "BLOCK_SIZE_K", "GROUP_SIZE_M", "ACTIVATION",
                                           "ACC_DTYPE")}}


def _matmul_ttir(bm, bn, bk, num_warps, num_stages=1, operands="*fp16"):
    """Tutorial 03's TTIR; int8 operands ("*i8") accumulate into int32 and store int32, without the activation."""
    int8 = operands == "*i8"
    consts = {"BLOCK_SIZE_M": bm, "BLOCK_SIZE_N": bn, "BLOCK_SIZE_K": bk, "GROUP_SIZE_M": 8,
              "ACTIVATION": "" if int8 else "leaky_relu", "ACC_DTYPE": tl.int32 if int8 else tl.float32}
    sig = dict(_MATMUL_SIG, a_ptr=operands, b_ptr=operands, c_ptr="*i32" if int8 else "*fp16")
    return make_ttir(matmul_example.matmul_kernel.fn, sig, consts,
                     options=TtirOptions(num_warps=num_warps, num_stages=num_stages)).text


def _attention_ttir(bm, bn, head_dim, stage, num_warps):
    sig = {"Q": "*fp16", "K": "*fp16", "V": "*fp16", "sm_scale": "fp32", "M": "*fp32", "Out": "*fp16",
           **{f"stride_{t}{d}": "i32" for t, dims in (("q", "zhmk"), ("k", "zhnk"), ("v", "zhkn"), ("o", "zhmn"))
              for d in dims},
           "Z": "i32", "H": "i32", **{c: "constexpr" for c in ("N_CTX", "HEAD_DIM", "BLOCK_M", "BLOCK_N", "STAGE")}}
    consts = {"N_CTX": 1024, "HEAD_DIM": head_dim, "BLOCK_M": bm, "BLOCK_N": bn, "STAGE": stage}
    return make_ttir(attention_example._attn_fwd, sig, consts, options=TtirOptions(num_warps=num_warps)).text


def _lower(ttir, target, num_warps, num_stages=1):
    lowered = lower_ttir(ttir, target, TtirOptions(num_warps=num_warps, num_stages=num_stages))
    tools.validate(lowered.spirv, "vulkan1.3")
    return lowered, tools.disassemble(lowered.spirv)


def _count(asm, opname):
    return sum(1 for line in asm.splitlines() if line.split("=")[-1].split()[:1] == [opname])


@pytest.mark.parametrize("operands", ["*fp16", "*bf16"])
@pytest.mark.parametrize("bm,bn,bk,num_warps,num_stages", [(64, 64, 32, 4, 1), (64, 128, 32, 8, 2), (32, 64, 16, 2, 3)])
def test_tutorial_03_matmul_lowers_to_cooperative_matrices(bm, bn, bk, num_warps, num_stages, operands):
    lowered, asm = _lower(_matmul_ttir(bm, bn, bk, num_warps, num_stages, operands), H200, num_warps, num_stages)
    assert "OpCapability CooperativeMatrixKHR" in asm and 'OpExtension "SPV_KHR_cooperative_matrix"' in asm
    # bf16 operands are staged as SPV_KHR_bfloat16's bfloat16, whose matrices need a capability of their own.
    assert ("OpCapability BFloat16CooperativeMatrixKHR" in asm) == (operands == "*bf16")
    # The largest shape that tiles, 16x16x16: (bm/16)(bn/16) result tiles over num_warps subgroups,
    # bk/16 K steps each, one tile store each (the K-tile prefetch of num_stages keeps one dot).
    tiles = bm // 16 * (bn // 16) // num_warps
    assert _count(asm, "OpCooperativeMatrixMulAddKHR") == tiles * (bk // 16)
    # The epilogue moves C through workgroup memory in row chunks (one store per tile and chunk), the
    # chunks no larger than the A and B staging (rows padded by 16 bytes) where the layout allows.
    stores = _count(asm, "OpCooperativeMatrixStoreKHR")
    assert stores % tiles == 0 and bm % (stores // tiles) == 0
    chunk_rows = bm // (stores // tiles)
    staging_ab = (bm * (bk + 8) + bk * (bn + 8)) * 2
    assert chunk_rows % 16 == 0 and (chunk_rows * (bn + 4) * 4 <= staging_ab or chunk_rows <= 32)
    assert "%uint_3 %uint_16 %uint_16 %uint_2" in asm          # subgroup-scope 16x16 accumulator
    # The K loop carries the accumulator in cooperative matrices (one OpPhi per tile, the tl.zeros
    # init built in place) and never loads one: the only tile store is the epilogue's, after the loop.
    acc_type = next(line.split()[0] for line in asm.splitlines()
                    if "OpTypeCooperativeMatrixKHR" in line and line.endswith("%uint_2"))
    assert _count(asm, "OpPhi") >= tiles and sum(f"OpPhi {acc_type}" in line for line in asm.splitlines()) == tiles
    # Each subgroup owns a wm x wn block of tiles: per K step wm A tiles and wn B tiles, no more.
    sm, sn = _subgroup_grid(bm // 16, bn // 16, num_warps)
    wm, wn = bm // 16 // sm, bn // 16 // sn
    assert wm * wn == tiles and _count(asm, "OpCooperativeMatrixLoadKHR") == (bk // 16) * (wm + wn)
    # Under the Vulkan memory model, workgroup accesses see other invocations' writes after a barrier
    # only as NonPrivatePointer: the cooperative loads and stores too.
    coop_access = [line for line in asm.splitlines() if "OpCooperativeMatrixLoadKHR" in line
                   or "OpCooperativeMatrixStoreKHR" in line]
    assert coop_access and all(line.endswith("NonPrivatePointer") for line in coop_access)
    assert lowered.shared_bytes <= H200.max_shared_memory


@pytest.mark.parametrize("bm,bn,bk,num_warps,num_stages", [(64, 64, 64, 4, 1), (128, 256, 32, 8, 2)])
def test_tutorial_03_int8_lowers_to_cooperative_matrices(bm, bn, bk, num_warps, num_stages):
    """bench/matmul.py --dtype int8: int8 operands, int32 accumulator, on 16x16x32 s8 matrices with
    signed components."""
    _, asm = _lower(_matmul_ttir(bm, bn, bk, num_warps, num_stages, "*i8"), H200, num_warps, num_stages)
    tiles = bm // 16 * (bn // 16) // num_warps
    assert _count(asm, "OpCooperativeMatrixMulAddKHR") == tiles * (bk // 32)
    assert "MatrixASignedComponentsKHR|MatrixBSignedComponentsKHR" in asm.replace(" ", "")


@pytest.mark.parametrize("bm,bn,bk,num_warps", [(128, 128, 64, 4), (128, 128, 32, 8), (256, 128, 32, 8),
                                                 (128, 256, 32, 16), (256, 128, 32, 16)])
def test_large_tiles_move_the_accumulator_in_chunks(bm, bn, bk, num_warps):
    """A 128 x 128 f32 accumulator alone is 64 KiB, more than the H200 gives a workgroup (48 KiB):
    it goes through workgroup memory in row chunks, so those tiles run on cooperative matrices.
    (16 subgroups: the near-square register tiles' thread grid spans 64 rows, chunks of 64 rows
    would not fit; the wide encoding's chunks do.)"""
    lowered, asm = _lower(_matmul_ttir(bm, bn, bk, num_warps, 2), H200, num_warps, 2)
    tiles = bm // 16 * (bn // 16) // num_warps
    assert _count(asm, "OpCooperativeMatrixMulAddKHR") == tiles * (bk // 16)
    assert _count(asm, "OpCooperativeMatrixStoreKHR") > tiles           # more than one chunk
    assert lowered.shared_bytes <= H200.max_shared_memory


@pytest.mark.parametrize("stage", [1, 3], ids=["full", "causal"])
@pytest.mark.parametrize("bm,bn,head_dim,num_warps", [(64, 32, 64, 4), (128, 32, 32, 8), (32, 16, 32, 2)])
def test_tutorial_06_attention_lowers_to_cooperative_matrices(bm, bn, head_dim, num_warps, stage):
    lowered, asm = _lower(_attention_ttir(bm, bn, head_dim, stage, num_warps), H200, num_warps)
    # Per loop q @ k^T (bm x bn over head_dim) and p @ v (bm x head_dim over bn), both on 16x16x16:
    # bm * bn * head_dim / 16^3 multiply-adds over num_warps subgroups each; the causal stage has two loops.
    loops = 2 if stage == 3 else 1
    assert _count(asm, "OpCooperativeMatrixMulAddKHR") == loops * 2 * bm * bn * head_dim // (16 ** 3 * num_warps)
    # Tiles go to workgroup memory where elementwise code reads them: per loop q @ k^T (the softmax
    # reads it), once after the last loop for the epilogue. The carried accumulator stays in
    # cooperative matrices: the rescale acc * alpha[:, None] multiplies each tile by a tile of alpha
    # rows, and the causal stage's two loops pass it on as it is.
    # (Accumulators move in row chunks where the staging is smaller than C: up to twice the stores.)
    qk_tiles, acc_tiles = (bm // 16) * (bn // 16) // num_warps, (bm // 16) * (head_dim // 16) // num_warps
    stores = loops * qk_tiles + acc_tiles
    assert stores <= _count(asm, "OpCooperativeMatrixStoreKHR") <= 2 * stores
    acc_type = next(line.split()[0] for line in asm.splitlines()
                    if "OpTypeCooperativeMatrixKHR" in line and line.endswith("%uint_2") and "%float " in line)
    assert sum(f"OpFMul {acc_type}" in line for line in asm.splitlines()) == loops * acc_tiles
    assert "OpFConvert" in asm   # p.to(fp16) between the dots stays elementwise on known layouts
    # q is loop-invariant: staged and loaded as A tiles once, before the loop (each subgroup's wm
    # tile rows, head_dim / 16 K steps); in the loop only p is an A operand.
    lines = asm.splitlines()
    a_type = next(line.split()[0] for line in lines if "OpTypeCooperativeMatrixKHR" in line and line.endswith("%uint_0"))
    first_loop = next(i for i, line in enumerate(lines) if "OpLoopMerge" in line)
    wm = bm // 16 // _subgroup_grid(bm // 16, bn // 16, num_warps)[0]
    a_loads = [i for i, line in enumerate(lines) if "OpCooperativeMatrixLoadKHR" in line and line.split()[3] == a_type]
    assert sum(i < first_loop for i in a_loads) == wm * (head_dim // 16)


def test_attention_scores_are_read_in_rows():
    """q @ k^T, whose rows the online softmax reduces, is read from workgroup memory in the row
    encoding: at 128 x 64 on 8 subgroups each row is held by 2 invocations (32 scores each, in
    chunks of 16), so the row max and the row sum take one shuffle each, p = exp2(...).to(fp16) is staged
    by 4 quad stores per invocation, and alpha's table rows (16 f32) are shared out between the 2
    invocations holding them (2 quads each, where each alone would write 4). With Q staged once
    before the loop (4 quads) and K and V per pass (2 each), those are all the quad stores."""
    _, asm = _lower(_attention_ttir(128, 64, 64, 1, 8), H200, 8)
    lines = asm.splitlines()
    assert sum("OpGroupNonUniformShuffle" in line for line in lines) == 2
    quads = sum(1 for line in lines if "OpCompositeConstruct %v4uint" in line)
    assert quads == 4 + 2 * 2 + 4 + 2
    assert "OpBitFieldUExtract" in asm                   # the replica's index among its row's holders


def test_int8_and_fp16_accumulator_dots_lower_on_a_64_wide_subgroup():
    """Nothing assumes NVIDIA's subgroup of 32 or its shape list: a 64-wide subgroup and 16x16x32
    int8 (signed multiply-add operands), and f16 -> f16, which that list lacks, stays on FMAs."""
    def ttir(a, c, acc):
        sig = {"a": a, "b": a, "c": c, "M": "constexpr", "ACC": "constexpr", "CAST": "constexpr"}
        return make_ttir(_square_dot, sig, {"M": 64, "ACC": acc, "CAST": None}, options=TtirOptions(num_warps=4)).text
    _, asm = _lower(ttir("*i8", "*i32", tl.int32), WIDE, 4)
    # (64/16)^2 tiles of 16x16x32 over 128 / 64 = 2 subgroups, 64 / 32 K steps each.
    assert _count(asm, "OpCooperativeMatrixMulAddKHR") == (64 // 16) ** 2 // 2 * (64 // 32)
    assert "MatrixASignedComponentsKHR|MatrixBSignedComponentsKHR" in asm.replace(" ", "")
    _, asm = _lower(ttir("*fp16", "*fp16", tl.float16), WIDE, 4)
    assert "CooperativeMatrix" not in asm
    _, asm = _lower(_matmul_ttir(64, 64, 32, 4, operands="*bf16"), WIDE, 4)   # no bf16 shape listed
    assert "CooperativeMatrix" not in asm
    _, asm = _lower(ttir("*fp16", "*fp16", tl.float16), H200, 4)
    assert _count(asm, "OpCooperativeMatrixMulAddKHR") > 0


@jitspv.jit
def _square_dot(a, b, c, M: tl.constexpr, ACC: tl.constexpr, CAST: tl.constexpr = None):
    r = tl.arange(0, M)
    x = tl.load(a + r[:, None] * M + r[None, :])
    y = tl.load(b + r[:, None] * M + r[None, :])
    if CAST is not None:   # bf16 operands, made in the kernel (numpy has no bfloat16)
        x = x.to(CAST)
        y = y.to(CAST)
    tl.store(c + r[:, None] * M + r[None, :], tl.dot(x, y, out_dtype=ACC))


@pytest.mark.parametrize("why,target,consts,num_warps", [
    ("no shapes on the target (JITSPV_COOPMAT=0, or a device without them)", dataclasses.replace(H200, cooperative_matrix_shapes=()),
     (64, 64, 32), 4),
    ("no Vulkan memory model (SPIR-V requires it with cooperative matrices)",
     dataclasses.replace(H200, vulkan_memory_model=False), (64, 64, 32), 4),
    ("16x32 makes 2 or 4 tiles of the shapes, not a multiple of 8 subgroups", H200, (16, 32, 32), 8),
    ("staged operands larger than shared memory", dataclasses.replace(H200, max_shared_memory=4096), (64, 64, 16), 4),
])
def test_fma_path_where_cooperative_matrices_do_not_apply(why, target, consts, num_warps):
    try:
        _, asm = _lower(_matmul_ttir(*consts, num_warps), target, num_warps)
    except OutOfResources as e:   # the FMA path does not fit either: it is the one that says so
        assert "cooperative" not in str(e), why
        return
    assert "CooperativeMatrix" not in asm, why


@pytest.mark.parametrize("kind", ["subgroup", "subgroup, tensor layouts", "workgroup", "workgroup, tensor layouts clamped"])
def test_ceiling_bench_kernels_validate(kind):
    """bench/coopmat_ceiling.py's hand-built kernels (run only on a GPU) are valid SPIR-V for Vulkan 1.3:
    pointer loads, workgroup scope (VK_NV_cooperative_matrix2) and tensor layouts (SPV_NV_tensor_addressing)."""
    spec = importlib.util.spec_from_file_location("coopmat_ceiling", ROOT / "bench" / "coopmat_ceiling.py")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    clamp = 1 if "clamped" in kind else 0 if "tensor" in kind else None
    spv = (bench.direct_matmul(128, 128, 1, 1, tk=32, workgroup=256, clamp=clamp) if kind.startswith("workgroup")
           else bench.direct_matmul(128, 256, 2, 4, unroll=2, clamp=clamp))
    tools.validate(spv, "vulkan1.3")
    asm = tools.disassemble(spv)
    assert ("OpCooperativeMatrixLoadTensorNV" in asm) == (clamp is not None)
    scopes = {line.split()[4] for line in asm.splitlines() if "OpTypeCooperativeMatrixKHR" in line}
    assert scopes == ({"%uint_2"} if kind.startswith("workgroup") else {"%uint_3"})   # Scope Workgroup / Subgroup


def _shapes_in_a_process(**env_changes):
    code = ("from jitspv.frontend.runtime import current_target; from jitspv.vk.device import get_device; "
            "print(current_target().cooperative_matrix_shapes == (), get_device().features.cooperative_matrix_khr)")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)   # keep the caller's (cffi)
    env = {k: v for k, v in dict(os.environ, PYTHONPATH=path, **env_changes).items() if v is not None}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.split()


def test_shapes_where_the_device_has_them_none_with_the_knob_off():
    """A device lists its shapes unless JITSPV_COOPMAT=0; lavapipe has none."""
    no_shapes, supported = _shapes_in_a_process(JITSPV_COOPMAT=None)
    assert no_shapes == ("False" if supported == "True" else "True")
    assert _shapes_in_a_process(JITSPV_COOPMAT="0") == ["True", supported]
    if get_device().properties.driver_name == "llvmpipe":
        assert supported == "False"


@pytest.mark.skipif(bool(rt.current_target().cooperative_matrix_shapes),
                    reason="this process runs with cooperative matrices (a device that has them, JITSPV_COOPMAT not 0)")
def test_fma_path_unchanged_without_cooperative_matrices():
    a, b = (rng.standard_normal((32, 32)).astype(np.float16) for _ in range(2))
    c = jitspv.asarray(np.full((32, 32), np.nan, np.float16))
    compiled = _square_dot.warmup(a, b, c, M=32, ACC=tl.float16, grid=(1,))
    assert "CooperativeMatrix" not in compiled.asm["spvasm"]
    _square_dot[(1,)](a, b, c, M=32, ACC=tl.float16)
    np.testing.assert_allclose(c.numpy().astype(np.float64), a.astype(np.float64) @ b, rtol=2e-2, atol=5e-2)


# ---- on a device with cooperative matrices (JITSPV_COOPMAT not 0): numerics against float64 numpy ----
needs_coopmat = pytest.mark.skipif(
    not rt.current_target().cooperative_matrix_shapes,
    reason="the device has no cooperative matrices, or JITSPV_COOPMAT=0")


@needs_coopmat
@pytest.mark.parametrize("m,n,k", [(16, 16, 16), (17, 33, 65), (256, 256, 256), (1000, 1000, 1000)])
@pytest.mark.parametrize("activation", ["", "leaky_relu"])
# The second: C in chunks; the third: in chunks of the wide encoding (16 subgroups).
@pytest.mark.parametrize("bm,bn,bk,warps", [(64, 128, 32, 8), (128, 128, 64, 4), (128, 256, 32, 16)])
def test_gpu_tutorial_03_matmul(m, n, k, activation, bm, bn, bk, warps):
    """Tutorial 03's kernel at cooperative-matrix configs (K tile prefetched)."""
    a, b = (rng.standard_normal(s).astype(np.float16) for s in ((m, k), (k, n)))
    c = jitspv.asarray(np.full((m, n), np.nan, np.float16))
    args = (a, b, c, m, n, k, k, 1, n, 1, n, 1)
    meta = dict(BLOCK_SIZE_M=bm, BLOCK_SIZE_N=bn, BLOCK_SIZE_K=bk, GROUP_SIZE_M=8, ACTIVATION=activation,
                num_warps=warps, num_stages=2)
    kernel = matmul_example.matmul_kernel.fn
    kernel[(-(-m // bm) * -(-n // bn),)](*args, **meta)
    assert "OpCooperativeMatrixMulAddKHR" in kernel.warmup(*args, grid=(1,), **meta).asm["spvasm"]
    ref = a.astype(np.float64) @ b
    if activation:
        ref = np.where(ref >= 0, ref, 0.01 * ref)
    # fp32 accumulation of exact fp16 products: the fp16 output's rounding dominates.
    np.testing.assert_allclose(c.numpy().astype(np.float64), ref, rtol=2e-3, atol=2e-2)


@needs_coopmat
@pytest.mark.parametrize("dtype,acc", [(np.float16, tl.float32), (np.float16, tl.float16), (np.int8, tl.int32),
                                       ("bf16", tl.float32)])
def test_gpu_square_dots(dtype, acc):
    out_dtype = {tl.float32: np.float32, tl.float16: np.float16, tl.int32: np.int32}[acc]
    if dtype == np.int8:
        a, b = (rng.integers(-128, 128, (64, 64)).astype(np.int8) for _ in range(2))
    elif dtype == "bf16":   # bf16-exact values (integers below 256: 8 significant bits), cast to bf16 in the kernel
        a, b = (np.clip(np.round(rng.standard_normal((64, 64)) * 64), -255, 255).astype(np.float32) / 64
                for _ in range(2))
    else:
        a, b = (rng.standard_normal((64, 64)).astype(np.float16) for _ in range(2))
    c = jitspv.asarray(np.full((64, 64), -7, out_dtype))
    cast = tl.bfloat16 if dtype == "bf16" else None
    _square_dot[(1,)](a, b, c, M=64, ACC=acc, CAST=cast)
    assert "OpCooperativeMatrixMulAddKHR" in _square_dot.warmup(a, b, c, M=64, ACC=acc, CAST=cast,
                                                                grid=(1,)).asm["spvasm"]
    ref = a.astype(np.float64) @ b
    if dtype == np.int8:
        np.testing.assert_array_equal(c.numpy(), ref.astype(np.int32))
    else:
        np.testing.assert_allclose(c.numpy().astype(np.float64), ref, rtol=2e-2, atol=0.1 if acc == tl.float16 else 2e-2)


@needs_coopmat
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("n_ctx,bm,bn,num_warps", [(128, 64, 32, 4), (1024, 128, 64, 8)])
def test_gpu_tutorial_06_attention(causal, n_ctx, bm, bn, num_warps):
    q, k, v = (rng.standard_normal((1, 2, n_ctx, 64)).astype(np.float16) for _ in range(3))
    sm_scale = 1.0 / math.sqrt(64)
    o = jitspv.asarray(np.full(q.shape, np.nan, np.float16))
    m = jitspv.asarray(np.full((2, n_ctx), np.nan, np.float32))
    attention_example.attention(q, k, v, causal, sm_scale, bm, bn, num_warps, o, m)
    o_ref, m_ref = attention_example.reference(q, k, v, causal, sm_scale)
    assert np.abs(o.numpy().astype(np.float64) - o_ref).max() < 1e-2
    assert np.abs(m.numpy() - m_ref).max() < 1e-3
