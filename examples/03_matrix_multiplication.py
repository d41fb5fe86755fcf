"""Triton tutorial 03 (matrix multiplication), run by jitspv.

The kernel is Triton's: blocked matmul with grouped program ordering (programs sharing rows of A
run together, for cache reuse), a K loop accumulating `acc += tl.dot(a, b)` in fp32, an optional
fused leaky_relu, autotuned over a few block configurations. Inputs are numpy arrays or jitspv
device arrays instead of CUDA tensors. Checks fp32 and fp16 inputs against numpy (float64) and
prints the errors; on a GPU (or with --bench) prints a TFLOP/s table (bench/matmul.py compares
with Triton-CUDA and cuBLAS). One addition to the tutorial's kernel: ACC_DTYPE, the accumulator's
type and the dot's out_dtype (tl.float32, as in the tutorial; int8 operands need tl.int32, as
bench/matmul.py --dtype int8 passes; Triton 3.6 requires out_dtype to match the accumulator).

    python examples/03_matrix_multiplication.py [--check | --bench]
"""

import numpy as np
import triton.language as tl

import jitspv
from jitspv.testing import do_bench, run_example


def _configs():
    # (BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages), chosen with `bench/matmul.py --sweep` on an
    # H100: large tiles for large matrices, 64-row tiles that fill the GPU at ~1024^2, the next K
    # tile prefetched (num_stages=2) where that measured faster. All fit lavapipe's 32 KiB.
    shapes = [(128, 128, 16, 4, 1), (128, 128, 16, 8, 1), (64, 128, 16, 8, 2), (64, 128, 32, 8, 2)]
    return [jitspv.Config({"BLOCK_SIZE_M": m, "BLOCK_SIZE_N": n, "BLOCK_SIZE_K": k, "GROUP_SIZE_M": 8},
                          num_warps=w, num_stages=s) for m, n, k, w, s in shapes]


@jitspv.autotune(configs=_configs(), key=["M", "N", "K"])
@jitspv.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn,
                  stride_cm, stride_cn, BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr,
                  BLOCK_SIZE_K: tl.constexpr, GROUP_SIZE_M: tl.constexpr, ACTIVATION: tl.constexpr,
                  ACC_DTYPE: tl.constexpr = tl.float32):
    pid = tl.program_id(axis=0)
    num_pid_m = tl.cdiv(M, BLOCK_SIZE_M)
    num_pid_n = tl.cdiv(N, BLOCK_SIZE_N)
    num_pid_in_group = GROUP_SIZE_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_SIZE_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_SIZE_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m

    offs_am = (pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)) % M
    offs_bn = (pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)) % N
    offs_k = tl.arange(0, BLOCK_SIZE_K)
    a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)

    accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=ACC_DTYPE)
    for k in range(0, tl.cdiv(K, BLOCK_SIZE_K)):
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_SIZE_K, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_SIZE_K, other=0.0)
        accumulator = tl.dot(a, b, accumulator, input_precision="ieee", out_dtype=ACC_DTYPE)
        a_ptrs += BLOCK_SIZE_K * stride_ak
        b_ptrs += BLOCK_SIZE_K * stride_bk
    if ACTIVATION == "leaky_relu":
        accumulator = leaky_relu(accumulator)
    c = accumulator.to(c_ptr.dtype.element_ty)

    offs_cm = pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
    offs_cn = pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
    c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
    tl.store(c_ptrs, c, mask=c_mask)


@jitspv.jit
def leaky_relu(x):
    return tl.where(x >= 0, x, 0.01 * x)


def matmul(a, b, activation=""):
    M, K = a.shape
    K2, N = b.shape
    assert K == K2, "incompatible dimensions"
    out_dtype = np.float16 if a.dtype == np.float16 else np.float32
    c = jitspv.empty((M, N), dtype=out_dtype)
    grid = lambda META: (jitspv.cdiv(M, META["BLOCK_SIZE_M"]) * jitspv.cdiv(N, META["BLOCK_SIZE_N"]),)
    sa, sb, sc = (x.strides for x in (a, b, c))
    ia, ib, ic = (x.dtype.itemsize for x in (a, b, c))
    matmul_kernel[grid](a, b, c, M, N, K, sa[0] // ia, sa[1] // ia, sb[0] // ib, sb[1] // ib,
                        sc[0] // ic, sc[1] // ic, ACTIVATION=activation)
    return c


def check():
    rng = np.random.default_rng()
    for M, N, K, dtype, activation, tol in [(256, 256, 256, np.float32, "", 1e-5),
                                            (333, 197, 129, np.float32, "leaky_relu", 1e-5),
                                            (200, 300, 100, np.float16, "", 2e-3)]:
        a = rng.standard_normal((M, K)).astype(dtype)
        b = rng.standard_normal((K, N)).astype(dtype)
        c = matmul(jitspv.asarray(a), jitspv.asarray(b), activation).numpy()
        ref = a.astype(np.float64) @ b.astype(np.float64)
        if activation:
            ref = np.where(ref >= 0, ref, 0.01 * ref)
        err = np.max(np.abs(c - ref)) / np.max(np.abs(ref))
        print(f"matmul {M}x{N}x{K} {np.dtype(dtype).name} {activation or 'no activation'}: "
              f"max error vs numpy (float64) {err:.2e} (relative to max |C|)")
        assert err <= tol, f"result differs from numpy: {err}"


def bench():
    rng = np.random.default_rng(0)
    print("matmul fp32 (ieee): TFLOP/s")
    for n in (512, 1024, 2048, 4096):
        a = jitspv.asarray(rng.standard_normal((n, n)).astype(np.float32))
        b = jitspv.asarray(rng.standard_normal((n, n)).astype(np.float32))
        ms = do_bench(lambda: matmul(a, b), quantiles=[0.5])
        print(f"{n:>6} {2 * n ** 3 / ms * 1e-9:>8.2f}")


if __name__ == "__main__":
    run_example(check, bench)
