"""Triton tutorial 05 (layer normalization, forward and backward), run by jitspv.

The kernels are Triton's, unchanged except for the decorator. The backward pass accumulates the
weight/bias gradients in GROUP_SIZE_M partial buffers, each guarded by a spin lock (atomic_cas to
take it, atomic_xchg to release it), then sums the partial buffers in a second kernel. Inputs are
numpy arrays or jitspv device arrays instead of CUDA tensors. Checks forward and backward against a
float64 numpy reference and prints the errors; on a GPU (or with --bench) prints a small bandwidth
table.

    python examples/05_layer_norm.py [--check | --bench]
"""

import numpy as np
import triton.language as tl

import jitspv
from jitspv.testing import do_bench, run_example


@jitspv.jit
def _layer_norm_fwd_fused(X, Y, W, B, Mean, Rstd, stride, N, eps, BLOCK_SIZE: tl.constexpr):
    # Map the program id to the row of X and Y it should compute.
    row = tl.program_id(0)
    Y += row * stride
    X += row * stride
    # Compute mean
    mean = 0
    _mean = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        a = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        _mean += a
    mean = tl.sum(_mean, axis=0) / N
    # Compute variance
    _var = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        x = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        x = tl.where(cols < N, x - mean, 0.)
        _var += x * x
    var = tl.sum(_var, axis=0) / N
    rstd = 1 / tl.sqrt(var + eps)
    # Write mean / rstd
    tl.store(Mean + row, mean)
    tl.store(Rstd + row, rstd)
    # Normalize and apply linear transformation
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        mask = cols < N
        w = tl.load(W + cols, mask=mask)
        b = tl.load(B + cols, mask=mask)
        x = tl.load(X + cols, mask=mask, other=0.).to(tl.float32)
        x_hat = (x - mean) * rstd
        y = x_hat * w + b
        # Write output
        tl.store(Y + cols, y, mask=mask)


@jitspv.jit
def _layer_norm_bwd_dx_fused(DX, DY, DW, DB, X, W, Mean, Rstd, Lock, stride, N,
                             GROUP_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr):
    # Map the program id to the elements of X, DX, and DY it should compute.
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE_N)
    mask = cols < N
    X += row * stride
    DY += row * stride
    DX += row * stride
    # Offset locks and weights/biases gradient pointer for parallel reduction
    lock_id = row % GROUP_SIZE_M
    Lock += lock_id
    Count = Lock + GROUP_SIZE_M
    DW = DW + lock_id * N + cols
    DB = DB + lock_id * N + cols
    # Load data to SRAM
    x = tl.load(X + cols, mask=mask, other=0).to(tl.float32)
    dy = tl.load(DY + cols, mask=mask, other=0).to(tl.float32)
    w = tl.load(W + cols, mask=mask).to(tl.float32)
    mean = tl.load(Mean + row)
    rstd = tl.load(Rstd + row)
    # Compute dx
    xhat = (x - mean) * rstd
    wdy = w * dy
    xhat = tl.where(mask, xhat, 0.)
    wdy = tl.where(mask, wdy, 0.)
    c1 = tl.sum(xhat * wdy, axis=0) / N
    c2 = tl.sum(wdy, axis=0) / N
    dx = (wdy - (xhat * c1 + c2)) * rstd
    # Write dx
    tl.store(DX + cols, dx, mask=mask)
    # Accumulate partial sums for dw/db
    partial_dw = (dy * xhat).to(w.dtype)
    partial_db = (dy).to(w.dtype)
    while tl.atomic_cas(Lock, 0, 1) == 1:
        pass
    count = tl.load(Count)
    # First store doesn't accumulate
    if count == 0:
        tl.atomic_xchg(Count, 1)
    else:
        partial_dw += tl.load(DW, mask=mask)
        partial_db += tl.load(DB, mask=mask)
    tl.store(DW, partial_dw, mask=mask)
    tl.store(DB, partial_db, mask=mask)
    # need a barrier to ensure all threads finished before
    # releasing the lock
    tl.debug_barrier()
    # Release the lock
    tl.atomic_xchg(Lock, 0)


@jitspv.jit
def _layer_norm_bwd_dwdb(DW, DB, FINAL_DW, FINAL_DB, M, N, BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr):
    # Map the program id to the elements of DW and DB it should compute.
    pid = tl.program_id(0)
    cols = pid * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    dw = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    db = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    # Iterate through the rows of DW and DB to sum the partial sums.
    for i in range(0, M, BLOCK_SIZE_M):
        rows = i + tl.arange(0, BLOCK_SIZE_M)
        mask = (rows[:, None] < M) & (cols[None, :] < N)
        offs = rows[:, None] * N + cols[None, :]
        dw += tl.load(DW + offs, mask=mask, other=0.)
        db += tl.load(DB + offs, mask=mask, other=0.)
    # Write the final sum to the output.
    sum_dw = tl.sum(dw, axis=0)
    sum_db = tl.sum(db, axis=0)
    tl.store(FINAL_DW + cols, sum_dw, mask=cols < N)
    tl.store(FINAL_DB + cols, sum_db, mask=cols < N)


def _block_and_warps(N, itemsize):
    # The tutorial's heuristics: the whole row in one block (up to 64 KB), 256 elements per warp.
    block = min(65536 // itemsize, jitspv.next_power_of_2(N))
    if N > block:
        raise RuntimeError("This layer norm doesn't support feature dim >= 64KB.")
    return block, min(max(block // 256, 1), 8)


def layer_norm_forward(x, weight, bias, eps):
    """x: (M, N) jitspv array; returns y, mean, rstd (jitspv arrays)."""
    M, N = x.shape
    y = jitspv.empty_like(x)
    mean = jitspv.empty((M,), np.float32)
    rstd = jitspv.empty((M,), np.float32)
    block, warps = _block_and_warps(N, x.itemsize)
    _layer_norm_fwd_fused[(M,)](x, y, weight, bias, mean, rstd, x.strides[0] // x.itemsize, N, eps,
                                BLOCK_SIZE=block, num_warps=warps)
    return y, mean, rstd


def _group_size_m(N):
    # The tutorial's number of partial dw/db buffers: more of them for narrow rows.
    if N <= 1024:
        return 256
    if N <= 4096:
        return 128
    if N <= 8192:
        return 96
    return 64


def layer_norm_backward(dy, x, weight, mean, rstd):
    """Returns dx, dw, db (jitspv arrays)."""
    M, N = x.shape
    group = _group_size_m(N)
    locks = jitspv.zeros((2 * group,), np.int32)
    partial_dw = jitspv.zeros((group, N), x.dtype)
    partial_db = jitspv.zeros((group, N), x.dtype)
    dw = jitspv.empty((N,), weight.dtype)
    db = jitspv.empty((N,), weight.dtype)
    dx = jitspv.empty_like(dy)
    block, warps = _block_and_warps(N, x.itemsize)
    _layer_norm_bwd_dx_fused[(M,)](dx, dy, partial_dw, partial_db, x, weight, mean, rstd, locks,
                                   x.strides[0] // x.itemsize, N,
                                   BLOCK_SIZE_N=block, GROUP_SIZE_M=group, num_warps=warps)
    _layer_norm_bwd_dwdb[lambda meta: (jitspv.cdiv(N, meta["BLOCK_SIZE_N"]),)](
        partial_dw, partial_db, dw, db, group, N, BLOCK_SIZE_M=32, BLOCK_SIZE_N=128)
    return dx, dw, db


def reference(x, weight, bias, dy, eps):
    """float64 numpy layer norm forward and backward."""
    x, w, b, dy = (a.astype(np.float64) for a in (x, weight, bias, dy))
    mean = x.mean(axis=1, keepdims=True)
    rstd = 1 / np.sqrt(((x - mean) ** 2).mean(axis=1, keepdims=True) + eps)
    xhat = (x - mean) * rstd
    y = xhat * w + b
    wdy = w * dy
    dx = (wdy - (xhat * (xhat * wdy).mean(axis=1, keepdims=True) + wdy.mean(axis=1, keepdims=True))) * rstd
    return y, mean[:, 0], rstd[:, 0], dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)


def _inputs(rng, M, N, dtype):
    weight = rng.random(N).astype(dtype)
    bias = rng.random(N).astype(dtype)
    x = (-2.3 + 0.5 * rng.standard_normal((M, N))).astype(dtype)
    dy = (0.1 * rng.standard_normal((M, N))).astype(dtype)
    return x, weight, bias, dy


def check():
    rng = np.random.default_rng()
    eps = 1e-5
    # fp32 and fp16 as in the tutorial; odd sizes; M above GROUP_SIZE_M, so programs contend for locks.
    for M, N, dtype, tol in [(301, 1000, np.float32, 1e-4), (517, 3000, np.float32, 1e-4),
                             (97, 33, np.float32, 1e-4), (300, 777, np.float16, 2e-2)]:
        x, weight, bias, dy = _inputs(rng, M, N, dtype)
        X, W, B, DY = (jitspv.asarray(a) for a in (x, weight, bias, dy))
        y, mean, rstd = layer_norm_forward(X, W, B, eps)
        dx, dw, db = layer_norm_backward(DY, X, W, mean, rstd)
        ry, rmean, rrstd, rdx, rdw, rdb = reference(x, weight, bias, dy, eps)
        errors = {
            "y": np.max(np.abs(y.numpy() - ry)),
            "mean": np.max(np.abs(mean.numpy() - rmean)),
            "rstd": np.max(np.abs(rstd.numpy() - rrstd) / rrstd),
            "dx": np.max(np.abs(dx.numpy() - rdx)),
            # dw/db sum M rows: relative to the largest value (the tutorial checks them to 1 decimal).
            "dw": np.max(np.abs(dw.numpy() - rdw)) / np.max(np.abs(rdw)),
            "db": np.max(np.abs(db.numpy() - rdb)) / np.max(np.abs(rdb)),
        }
        print(f"layer norm M={M} N={N} {np.dtype(dtype).name}: max error vs numpy (float64) "
              + ", ".join(f"{k} {v:.2e}" for k, v in errors.items()))
        bad = {k: v for k, v in errors.items() if not v <= tol * (10 if k in ("dw", "db") else 1)}
        assert not bad, f"result differs from numpy: {bad}"


def bench():
    M = 4096
    rng = np.random.default_rng(0)
    print(f"layer norm, M={M}, fp16: GB/s")
    print(f"{'N':>6} {'forward':>10} {'backward':>10}")
    for N in (1024, 2048, 4096, 8192, 16384):
        x, weight, bias, dy = (jitspv.asarray(a) for a in _inputs(rng, M, N, np.float16))
        y, mean, rstd = layer_norm_forward(x, weight, bias, 1e-5)
        fwd = do_bench(lambda: layer_norm_forward(x, weight, bias, 1e-5), quantiles=[0.5])
        bwd = do_bench(lambda: layer_norm_backward(dy, x, weight, mean, rstd), quantiles=[0.5])
        # Bytes as the tutorial counts them: x read + y written forward; x, dy read + dx written backward.
        print(f"{N:>6} {2 * x.nbytes / fwd * 1e-6:>10.1f} {3 * x.nbytes / bwd * 1e-6:>10.1f}")


if __name__ == "__main__":
    run_example(check, bench)
