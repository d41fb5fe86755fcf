"""tt.dot on lavapipe against numpy in float64: ragged and square shapes with masked K loops,
transposed/strided operands, every supported dtype pair, `acc += tl.dot(a, b)` and
`tl.dot(a, b, acc)`, batched 3-D dots, an epilogue computed in the dot encoding, blocks smaller
than the workgroup, tiles beyond the device's workgroup memory (staged in K slices), and tutorial 06's fused attention
forward (causal and not, strided Q/K/V views) against a float64 softmax reference."""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import triton
import triton.language as tl

from triton.runtime.jit import TensorWrapper

import jitspv
from test_lower_arith import bf16_round

rng = np.random.default_rng()


def _slow(case):
    """A case whose kernels lavapipe of Mesa 25 takes tens of seconds or more to compile (cold);
    scripts/test.sh leaves these out of its run on that driver."""
    return pytest.param(case, marks=pytest.mark.slow_compile)


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


@pytest.mark.parametrize("num_warps", [_slow(2), _slow(4)])
def test_batched_dot(num_warps):
    for NB, M, N, K, BB, BM, BN, BK in [(3, 5, 7, 9, 4, 16, 16, 16), (2, 30, 20, 29, 2, 32, 32, 32)]:
        a = rng.standard_normal((NB, M, K)).astype(np.float32)
        b = rng.standard_normal((NB, K, N)).astype(np.float32)
        c = np.full((NB, M, N), np.nan, np.float32)
        batched[(1,)](a, b, c, NB, M, N, K, BB=BB, BM=BM, BN=BN, BK=BK, num_warps=num_warps)
        ref = np.einsum("bmk,bkn->bmn", a.astype(np.float64), b.astype(np.float64))
        assert _rel_err(c, ref) < 1e-5


def _whole_operand_bytes(BM, BN, BK, word_bytes=4, batch=1):
    """Workgroup memory of a dot staging both operands whole (rules/dot.py: A^T rows padded)."""
    a_row = -(-BM * word_bytes // 16) * 4
    a_row += 4 if a_row % 32 == 0 else 0
    return batch * BK * (a_row + BN * word_bytes // 4) * 4


# Tiles whose whole operands exceed lavapipe's 32 KiB: Triton's test_dot 64x64x64 fp32 at 4 warps
# (33,792 B), tutorial 03's 128x128x64 configs (66,560 B), a 128-deep K; ragged M, N and K,
# column-major operands (k along other thread terms), fp16/bf16/int8 operands.
# (M, N, K, BM, BN, BK, num_warps, dtype, A column-major, B column-major)
SLICED_CASES = [(70, 65, 130, 64, 64, 64, 4, "f32", False, False),
                _slow((64, 64, 64, 64, 64, 64, 1, "f32", False, False)),
                (130, 129, 100, 128, 128, 64, 4, "f16", False, False),
                _slow((77, 61, 200, 32, 64, 128, 4, "f32", True, True)),
                _slow((65, 33, 150, 64, 32, 128, 2, "bf16", True, False)),
                (61, 90, 77, 64, 128, 64, 8, "i8", False, True)]


@pytest.mark.parametrize("case", SLICED_CASES, ids=lambda c: "x".join(map(str, c[3:6])) + f"-w{c[6]}-{c[7]}")
def test_tiles_beyond_workgroup_memory_are_staged_in_k_slices(case):
    from jitspv.vk import get_device
    M, N, K, BM, BN, BK, nw, dtype, a_cols, b_cols = case
    limit = get_device().properties.max_compute_shared_memory_size
    if _whole_operand_bytes(BM, BN, BK) <= limit:   # the H200's 48 KiB (test_device_limits slices there)
        pytest.skip(f"the whole operands fit this device's {limit} bytes of workgroup memory")
    if dtype == "i8":
        a, b = rng.integers(-128, 128, (M, K)).astype(np.int8), rng.integers(-128, 128, (K, N)).astype(np.int8)
        c = np.full((M, N), -12345, np.int32)
    else:
        a = rng.standard_normal((M, K)).astype(np.float16 if dtype == "f16" else np.float32)
        b = rng.standard_normal((K, N)).astype(a.dtype)
        c = np.full((M, N), np.nan, np.float32)
    a, b = (np.asfortranarray(a) if a_cols else a), (np.asfortranarray(b) if b_cols else b)
    acc = tl.int32 if dtype == "i8" else tl.float32
    _launch(a, b, c, BM, BN, BK, acc=acc, cast=dtype == "bf16", acc_in_dot=dtype == "i8", num_warps=nw)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    if dtype == "i8":
        assert np.array_equal(c, ref.astype(np.int64))
    else:
        if dtype == "bf16":   # the kernel rounds the operands to bf16
            ref = _bf16(a) @ _bf16(b)
        assert _rel_err(c, ref) < {"f32": 1e-5, "f16": 1e-3, "bf16": 1e-5}[dtype], case
    isz = a.itemsize
    lowered = matmul.warmup(a, b, c, M, N, K, a.strides[0] // isz, a.strides[1] // isz, b.strides[0] // isz,
                            b.strides[1] // isz, N, 1, BM=BM, BN=BN, BK=BK, ACC=acc, CAST=dtype == "bf16",
                            ACC_IN_DOT=dtype == "i8", LEAKY=False, num_warps=nw, grid=(1,)).lowered
    assert lowered.shared_bytes <= limit


def _bf16(x):
    """x (float32) rounded to bfloat16 (to nearest even), as float64."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32).astype(np.float64)


def test_a_dot_that_fits_stages_its_operands_whole():
    # 64x64x16: no K slices, the pool holds both operands (the code is what it was before K slices).
    a = np.zeros((64, 16), np.float32)
    b = np.zeros((16, 64), np.float32)
    c = np.zeros((64, 64), np.float32)
    lowered = matmul.warmup(a, b, c, 64, 64, 16, 16, 1, 64, 1, 64, 1, BM=64, BN=64, BK=16, ACC=tl.float32,
                            CAST=False, ACC_IN_DOT=False, LEAKY=False, num_warps=4, grid=(1,)).lowered
    assert lowered.shared_bytes == _whole_operand_bytes(64, 64, 16)


# Triton's test_dot3d: 64x64x64 with 32x32 blocks (fp64 operands take two words an element), and 8
# batches of 32x32x32 fp16 at 2 warps (K slices shorter than the invocations' spans of k, several
# registers per invocation along k). (NB, M, N, K, BB, BM, BN, BK, dtype, num_warps)
BATCHED_SLICED_CASES = [_slow((3, 30, 27, 64, 4, 32, 32, 64, np.float32, 4)),
                        _slow((3, 30, 27, 64, 4, 32, 32, 64, np.float64, 4)),
                        _slow((8, 32, 32, 32, 8, 32, 32, 32, np.float16, 2))]


@pytest.mark.parametrize("case", BATCHED_SLICED_CASES, ids=lambda c: f"{c[4]}x{c[5]}x{c[6]}x{c[7]}-{np.dtype(c[8])}")
def test_batched_dot_beyond_workgroup_memory(case):
    NB, M, N, K, BB, BM, BN, BK, dtype, nw = case
    assert _whole_operand_bytes(BM, BN, BK, 8 if dtype == np.float64 else 4, BB) > 32768
    a = rng.standard_normal((NB, M, K)).astype(dtype)
    b = rng.standard_normal((NB, K, N)).astype(dtype)
    c = np.full((NB, M, N), np.nan, np.float64 if dtype == np.float64 else np.float32)
    batched[(1,)](a, b, c, NB, M, N, K, BB=BB, BM=BM, BN=BN, BK=BK, num_warps=nw)
    ref = np.einsum("bmk,bkn->bmn", a.astype(np.float64), b.astype(np.float64))
    assert _rel_err(c, ref) < {np.float64: 1e-12, np.float32: 1e-5, np.float16: 1e-3}[dtype]


@jitspv.jit
def dot_transposed_out(a_ptr, b_ptr, c_ptr, B: tl.constexpr):
    r = tl.arange(0, B)
    a = tl.load(a_ptr + r[:, None] * B + r[None, :])
    b = tl.load(b_ptr + r[:, None] * B + r[None, :])
    tl.store(c_ptr + r[:, None] * B + r[None, :], tl.trans(tl.dot(a, b)))


@pytest.mark.slow_compile
def test_dot_and_a_conversion_beyond_workgroup_memory():
    # The transposed 128 x 128 fp32 result goes through 64 KiB of scratch beside the dot's operands:
    # the conversion in parts, the dot in K slices.
    x = rng.standard_normal((128, 128)).astype(np.float32)
    y = rng.standard_normal((128, 128)).astype(np.float32)
    out = np.full((128, 128), np.nan, np.float32)
    dot_transposed_out[(1,)](x, y, out, B=128)
    assert _rel_err(out, (x.astype(np.float64) @ y).T) < 1e-5


_spec = importlib.util.spec_from_file_location(
    "fused_attention", Path(__file__).resolve().parent.parent / "examples" / "06_fused_attention.py")
attention_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(attention_example)


# (Z, H, N_CTX, HEAD_DIM, causal, BLOCK_M, BLOCK_N, num_warps): blocks smaller than the workgroup,
# several key blocks per program, one program per sequence, and a head dim above the key block.
# The last two exceed lavapipe's 32 KiB staged whole: their two dots take K slices (of different
# lengths where their K differ).
ATTENTION_CASES = [(1, 1, 16, 16, True, 16, 16, 4), (2, 3, 48, 16, False, 16, 16, 1),
                   _slow((1, 2, 64, 32, True, 32, 16, 8)), _slow((1, 1, 64, 64, False, 64, 32, 4)),
                   _slow((2, 1, 96, 32, True, 32, 32, 4)), _slow((1, 2, 128, 64, True, 64, 64, 4)),
                   _slow((1, 1, 96, 128, False, 32, 32, 4))]


@pytest.mark.parametrize("case", ATTENTION_CASES, ids=lambda c: f"{c[2]}x{c[3]}-{'causal' if c[4] else 'full'}-w{c[7]}")
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


@jitspv.jit
def _dot_precision(a_ptr, b_ptr, c_ptr, M: tl.constexpr, PRECISION: tl.constexpr):
    offs = tl.arange(0, M)
    a = tl.load(a_ptr + offs[:, None] * M + offs[None, :])
    b = tl.load(b_ptr + offs[:, None] * M + offs[None, :])
    tl.store(c_ptr + offs[:, None] * M + offs[None, :], tl.dot(a, b, input_precision=PRECISION))


@pytest.mark.parametrize("precision", ["tf32", "tf32x3", "ieee", "bf16x3", "bf16x6"])
def test_every_fp32_input_precision_is_computed_in_fp32(precision):
    """Triton's input_precision values all compile (bf16x3/bf16x6 were refused: 92 items of
    test_core.py); each is computed in full fp32, at least as accurate as it asks."""
    a, b = (rng.standard_normal((32, 32)).astype(np.float32) for _ in range(2))
    c = np.full((32, 32), np.nan, np.float32)
    _dot_precision[(1,)](a, b, c, M=32, PRECISION=precision)
    assert _rel_err(c, a.astype(np.float64) @ b) < 1e-6


@jitspv.jit
def scaled_dot(a_ptr, sa_ptr, b_ptr, sb_ptr, c_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr,
               FA: tl.constexpr, FB: tl.constexpr):
    # A: M x K (M x K/2 bytes for e2m1), row-major; B: K x N (K/2 x N bytes for e2m1); scales:
    # M x K/32 and N x K/32 bytes, or None.
    KA: tl.constexpr = K // 2 if FA == "e2m1" else K
    KB: tl.constexpr = K // 2 if FB == "e2m1" else K
    a = tl.load(a_ptr + tl.arange(0, M)[:, None] * KA + tl.arange(0, KA)[None, :])
    b = tl.load(b_ptr + tl.arange(0, KB)[:, None] * N + tl.arange(0, N)[None, :])
    G: tl.constexpr = K // 32
    sa = sa_ptr
    if sa_ptr is not None:
        sa = tl.load(sa_ptr + tl.arange(0, M)[:, None] * G + tl.arange(0, G)[None, :])
    sb = sb_ptr
    if sb_ptr is not None:
        sb = tl.load(sb_ptr + tl.arange(0, N)[:, None] * G + tl.arange(0, G)[None, :])
    c = tl.dot_scaled(a, sa, FA, b, sb, FB)
    tl.store(c_ptr + tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :], c)


_E2M1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6])


def _decode(codes, fmt, k_axis):
    """Microscaling element codes -> float64 values (e2m1: two per byte along `k_axis`, low first)."""
    if fmt == "e2m1":
        nibbles = np.stack([codes & 15, codes >> 4], axis=k_axis + 1).astype(np.int64)
        values = np.where(nibbles & 8, -1.0, 1.0) * _E2M1[nibbles & 7]
        shape = list(codes.shape)
        shape[k_axis] *= 2
        return values.reshape(shape)
    if fmt == "e5m2":   # the high byte of an fp16
        return (codes.astype(np.uint16) << 8).view(np.float16).astype(np.float64)
    if fmt == "e4m3":   # bias 7, no infinities, S.1111.111 is NaN
        e, m = (codes >> 3) & 15, (codes & 7).astype(np.float64)
        mag = np.where(e == 0, m * 2.0**-9, (1 + m / 8) * 2.0 ** (e.astype(np.float64) - 7))
        return np.where(codes & 0x80, -mag, mag)
    return codes.astype(np.float64)


@pytest.mark.slow_compile   # 23-44 s per case to compile on lavapipe of Mesa 25 (cold)
@pytest.mark.parametrize("fa, fb, scaled", [("e2m1", "bf16", "a"), ("fp16", "e2m1", "b"), ("e4m3", "e5m2", "ab"),
                                            ("e2m1", "e4m3", "ab")])
def test_dot_scaled(fa, fb, scaled):
    """tl.dot_scaled (microscaled fp4/fp8 operands, an e8m0 scale per 32 K): decomposed as Triton
    does without scaled MMAs; against the decoded operands in float64. A scale of 0xFF makes its
    row (or column) NaN."""
    m, n, k = 32, 16, 128

    def operand(fmt, shape, k_axis):
        if fmt in ("bf16", "fp16"):
            x = rng.standard_normal(shape) * 4
            if fmt == "bf16":
                x = bf16_round(x)
                return TensorWrapper((x.view(np.uint32) >> 16).astype(np.uint16), tl.bfloat16), x.astype(np.float64)
            x = x.astype(np.float16)
            return x, x.astype(np.float64)
        packed = list(shape)
        packed[k_axis] //= 2 if fmt == "e2m1" else 1
        codes = rng.integers(0, 256, packed).astype(np.uint8)
        if fmt == "e4m3":
            codes[(codes & 0x7F) == 0x7F] &= 0xF7   # no NaN codes
        if fmt == "e5m2":
            codes[(codes & 0x7C) == 0x7C] &= 0x83   # no infinities or NaNs
        return codes, _decode(codes, fmt, k_axis)

    a, a64 = operand(fa, (m, k), 1)
    b, b64 = operand(fb, (k, n), 0)
    # fp16 computes in fp16: scales near 1 keep the scaled operands in its range
    low, high = (124, 131) if "fp16" in (fa, fb) else (100, 150)
    sa = rng.integers(low, high, (m, k // 32)).astype(np.uint8) if "a" in scaled else None
    sb = rng.integers(low, high, (n, k // 32)).astype(np.uint8) if "b" in scaled else None
    if sa is not None:
        sa[3, 1] = 0xFF   # NaN: row 3 of the result
        a64 = a64 * np.exp2(np.repeat(sa.astype(np.float64) - 127, 32, axis=1))
        a64[3, 32:64] = np.nan
    if sb is not None:
        sb[5, 2] = 0xFF   # NaN: column 5
        b64 = b64 * np.exp2(np.repeat(sb.astype(np.float64) - 127, 32, axis=1)).T
        b64[64:96, 5] = np.nan
    c = np.full((m, n), -7.0, np.float32)
    scaled_dot[(1,)](a, sa, b, sb, c, m, n, k, fa, fb)
    want = a64 @ b64
    np.testing.assert_array_equal(np.isnan(c), np.isnan(want))
    scale = np.nanmax(np.abs(a64)) * np.nanmax(np.abs(b64)) * k
    np.testing.assert_allclose(c, want, rtol=1e-5, atol=1e-6 * scale)
