"""tt.dot on lavapipe against numpy in float64: ragged and square shapes with masked K loops,
transposed/strided operands, every supported dtype pair, `acc += tl.dot(a, b)` and
`tl.dot(a, b, acc)`, batched 3-D dots, an epilogue computed in the dot encoding, blocks smaller
than the workgroup, a too-large tile (out of resources), and tutorial 06's fused attention
forward (causal and not, strided Q/K/V views) against a float64 softmax reference."""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv
from jitspv.errors import OutOfResources

rng = np.random.default_rng()


@jitspv.jit
def matmul(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
           BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, ACC: tl.constexpr,
           CAST: tl.constexpr, ACC_IN_DOT: tl.constexpr, LEAKY: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BM + tl.arange(0, BM)
    rn = pid_n * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    a_ptrs = a_ptr + rm[:, None] * sam + rk[None, :] * sak
    b_ptrs = b_ptr + rk[:, None] * sbk + rn[None, :] * sbn
    acc = tl.zeros((BM, BN), dtype=ACC)
    for k in range(0, tl.cdiv(K, BK)):
        a = tl.load(a_ptrs, mask=(rm[:, None] < M) & (rk[None, :] < K - k * BK), other=0)
        b = tl.load(b_ptrs, mask=(rk[:, None] < K - k * BK) & (rn[None, :] < N), other=0)
        if CAST:   # bf16 operands, made in the kernel (numpy has no bfloat16)
            a = a.to(tl.bfloat16)
            b = b.to(tl.bfloat16)
        if ACC_IN_DOT:
            acc = tl.dot(a, b, acc, input_precision="ieee", out_dtype=ACC)   # Triton 3.6 requires out_dtype
        else:
            acc += tl.dot(a, b)   # default precision: tf32, computed in full fp32
        a_ptrs += BK * sak
        b_ptrs += BK * sbk
    if LEAKY:
        acc = tl.where(acc >= 0, acc, 0.01 * acc)
    c = acc.to(c_ptr.dtype.element_ty)
    tl.store(c_ptr + rm[:, None] * scm + rn[None, :] * scn, c, mask=(rm[:, None] < M) & (rn[None, :] < N))


def _launch(a, b, c, BM, BN, BK, acc=tl.float32, cast=False, acc_in_dot=False, leaky=False, num_warps=4):
    M, K = a.shape
    N = b.shape[1]
    isz = a.itemsize
    grid = (triton.cdiv(M, BM), triton.cdiv(N, BN))
    matmul[grid](a, b, c, M, N, K, a.strides[0] // isz, a.strides[1] // isz, b.strides[0] // isz,
                 b.strides[1] // isz, c.strides[0] // c.itemsize, c.strides[1] // c.itemsize,
                 BM=BM, BN=BN, BK=BK, ACC=acc, CAST=cast, ACC_IN_DOT=acc_in_dot, LEAKY=leaky,
                 num_warps=num_warps)


def _rel_err(c, ref):
    return np.abs(c.astype(np.float64) - ref).max() / max(1.0, np.abs(ref).max())


# (M, N, K, BM, BN, BK, num_warps): tiles smaller than the workgroup (replicas), ragged edges
# in every dimension, several K steps, non-square register tiles.
F32_CASES = [(1, 1, 1, 16, 16, 16, 4), (17, 33, 65, 16, 32, 16, 1), (128, 256, 64, 64, 128, 16, 8),
             (70, 50, 90, 32, 64, 32, 4), (250, 250, 250, 128, 128, 8, 8), (5, 200, 40, 16, 256, 8, 4)]


@pytest.mark.parametrize("acc_in_dot", [False, True])
def test_matmul_f32(acc_in_dot):
    for M, N, K, BM, BN, BK, nw in F32_CASES:
        a = rng.standard_normal((M, K)).astype(np.float32)
        b = rng.standard_normal((K, N)).astype(np.float32)
        c = np.full((M, N), np.nan, np.float32)
        _launch(a, b, c, BM, BN, BK, acc_in_dot=acc_in_dot, num_warps=nw)
        ref = a.astype(np.float64) @ b
        assert _rel_err(c, ref) < 1e-5, (M, N, K, BM, BN, BK, nw)


def test_matmul_transposed_and_strided_operands():
    M, N, K = 45, 37, 53
    a = rng.standard_normal((K, M)).astype(np.float32).T             # column-major A
    big = rng.standard_normal((2 * K, 3 * N)).astype(np.float32)
    b = big[::2, 1::3]                                                # strided rows and columns of B
    out = np.full((N, M), np.nan, np.float32)
    c = out.T                                                         # C written column-major
    _launch(a, b, c, 32, 32, 16, num_warps=4)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    assert _rel_err(out.T, ref) < 1e-5


@pytest.mark.parametrize("dtype", ["f16", "bf16", "i8", "f64"])
def test_matmul_dtypes(dtype):
    for M, N, K, BM, BN, BK, nw in [(33, 47, 70, 32, 64, 32, 4), (1, 1, 1, 16, 16, 16, 1)]:
        if dtype == "i8":
            a = rng.integers(-128, 128, (M, K)).astype(np.int8)
            b = rng.integers(-128, 128, (K, N)).astype(np.int8)
            c = np.full((M, N), -12345, np.int32)
            _launch(a, b, c, BM, BN, BK, acc=tl.int32, num_warps=nw)
            assert np.array_equal(c, a.astype(np.int64) @ b.astype(np.int64))
            continue
        np_type = {"f16": np.float16, "bf16": np.float32, "f64": np.float64}[dtype]
        a = rng.standard_normal((M, K)).astype(np_type)
        b = rng.standard_normal((K, N)).astype(np_type)
        acc = tl.float64 if dtype == "f64" else tl.float32
        c = np.full((M, N), np.nan, np.float64 if dtype == "f64" else np.float32)
        _launch(a, b, c, BM, BN, BK, acc=acc, cast=dtype == "bf16", acc_in_dot=True, num_warps=nw)
        ref = a.astype(np.float64) @ b.astype(np.float64)
        tol = {"f16": 1e-3, "bf16": 1e-2, "f64": 1e-12}[dtype]
        assert _rel_err(c, ref) < tol, (dtype, M, N, K)


def test_matmul_fused_epilogue_and_f16_output():
    M, N, K = 100, 90, 33
    a = rng.standard_normal((M, K)).astype(np.float16)
    b = rng.standard_normal((K, N)).astype(np.float16)
    c = np.full((M, N), np.nan, np.float16)
    _launch(a, b, c, 64, 32, 16, leaky=True, num_warps=4)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    ref = np.where(ref >= 0, ref, 0.01 * ref)
    assert _rel_err(c, ref) < 2e-3


@jitspv.jit
def batched(a_ptr, b_ptr, c_ptr, NB, M, N, K, BB: tl.constexpr, BM: tl.constexpr, BN: tl.constexpr,
            BK: tl.constexpr):
    rb = tl.arange(0, BB)[:, None, None]
    rm = tl.arange(0, BM)[None, :, None]
    rn = tl.arange(0, BN)[None, None, :]
    rka = tl.arange(0, BK)[None, None, :]
    rkb = tl.arange(0, BK)[None, :, None]
    a = tl.load(a_ptr + rb * M * K + rm * K + rka, mask=(rb < NB) & (rm < M) & (rka < K), other=0.0)
    b = tl.load(b_ptr + rb * K * N + rkb * N + rn, mask=(rb < NB) & (rkb < K) & (rn < N), other=0.0)
    c = tl.dot(a, b)
    tl.store(c_ptr + rb * M * N + rm * N + rn, c, mask=(rb < NB) & (rm < M) & (rn < N))


@pytest.mark.parametrize("num_warps", [2, 4])
def test_batched_dot(num_warps):
    for NB, M, N, K, BB, BM, BN, BK in [(3, 5, 7, 9, 4, 16, 16, 16), (2, 30, 20, 29, 2, 32, 32, 32)]:
        a = rng.standard_normal((NB, M, K)).astype(np.float32)
        b = rng.standard_normal((NB, K, N)).astype(np.float32)
        c = np.full((NB, M, N), np.nan, np.float32)
        batched[(1,)](a, b, c, NB, M, N, K, BB=BB, BM=BM, BN=BN, BK=BK, num_warps=num_warps)
        ref = np.einsum("bmk,bkn->bmn", a.astype(np.float64), b.astype(np.float64))
        assert _rel_err(c, ref) < 1e-5


def test_too_large_tile_is_out_of_resources():
    # A^T (64 x 260 words) + B (64 x 256 words) of f32: 130 KiB, beyond any device's workgroup memory.
    a = np.zeros((256, 64), np.float32)
    b = np.zeros((64, 256), np.float32)
    c = np.zeros((256, 256), np.float32)
    with pytest.raises(OutOfResources, match="shared memory"):
        _launch(a, b, c, 256, 256, 64, num_warps=8)


_spec = importlib.util.spec_from_file_location(
    "fused_attention", Path(__file__).resolve().parent.parent / "examples" / "06_fused_attention.py")
attention_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(attention_example)


# (Z, H, N_CTX, HEAD_DIM, causal, BLOCK_M, BLOCK_N, num_warps): blocks smaller than the workgroup,
# several key blocks per program, one program per sequence, and a head dim above the key block.
ATTENTION_CASES = [(1, 1, 16, 16, True, 16, 16, 4), (2, 3, 48, 16, False, 16, 16, 1),
                   (1, 2, 64, 32, True, 32, 16, 8), (1, 1, 64, 64, False, 64, 32, 4),
                   (2, 1, 96, 32, True, 32, 32, 4)]


@pytest.mark.parametrize("case", ATTENTION_CASES, ids=[f"{c[2]}x{c[3]}-{'causal' if c[4] else 'full'}-w{c[7]}"
                                                        for c in ATTENTION_CASES])
def test_fused_attention_forward(case):
    Z, H, N_CTX, HEAD_DIM, causal, BM, BN, nw = case
    # Q, K, V as (Z, H, N, D) views of (Z, N, H, D) storage: the kernel follows their strides.
    q, k, v = (rng.standard_normal((Z, N_CTX, H, HEAD_DIM)).astype(np.float16).transpose(0, 2, 1, 3)
               for _ in range(3))
    sm_scale = 1.0 / math.sqrt(HEAD_DIM) * rng.uniform(1, 3)
    o = jitspv.asarray(np.full((Z, H, N_CTX, HEAD_DIM), np.nan, np.float16))
    m = jitspv.asarray(np.full((Z * H, N_CTX), np.nan, np.float32))
    attention_example.attention(q, k, v, causal, sm_scale, BM, BN, nw, o, m)
    o_ref, m_ref = attention_example.reference(q, k, v, causal, sm_scale)
    assert np.abs(o.numpy().astype(np.float64) - o_ref).max() < 1e-2
    assert np.abs(m.numpy() - m_ref).max() < 1e-3


def test_matmul_f32_1000_cubed():
    # The large ragged case: 1000 is not a multiple of any tile size, 8 x 8 programs.
    M = N = K = 1000
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    c = np.full((M, N), np.nan, np.float32)
    _launch(a, b, c, 128, 128, 16, num_warps=4)
    assert _rel_err(c, a.astype(np.float64) @ b) < 1e-5
