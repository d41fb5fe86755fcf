"""Memory-bound kernels: jitspv vs Triton-CUDA (same kernel source) vs torch, same run, same GPU.

  vector add fp32 (Triton tutorial 01), n = 2^20, 2^24, 2^28, 10^8 + 7   GB/s = 3 * 4 * n / t
  fused softmax fp32 (tutorial 02), 8192 x 8192 and 8192 x 5000          GB/s = 2 * 4 * rows * cols / t
  layer norm forward fp16 (tutorial 05), 4096 x 8192 and 4096 x 5000     GB/s = (2 * M * N + 2 * N) * 2 / t

Sizes that are not multiples of 16 (10^8 + 7, 5000 columns) leave the masks' divisibility unknown to
both compilers. Each row is measured in 3 interleaved rounds (jitspv, Triton-CUDA, torch, jitspv,
...; medians) with the SM clock sampled through NVML, because the H200 was seen lowering its SM
clock mid-run. Time per call: device time (Vulkan timestamps / CUDA events, do_bench) except for
vector add at 2^20 and 2^24, launch-bound or close, where both sides are timed by the same method,
host wall time per launch of 500 back to back (common.back_to_back_ms).

Run: python bench/bandwidth.py [--small]   (--small: sizes for lavapipe; no GPU needed)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import triton  # noqa: E402
import triton.language as tl  # noqa: E402

import jitspv  # noqa: E402
from jitspv.testing import do_bench  # noqa: E402
from common import back_to_back_ms, cuda_available, header, load_example, side_by_side, table  # noqa: E402

SMALL = "--small" in sys.argv


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


@triton.jit
def softmax_kernel(out_ptr, in_ptr, in_stride, out_stride, n_rows, n_cols, BLOCK: tl.constexpr):
    row_start = tl.program_id(0)
    row_step = tl.num_programs(0)
    for row_idx in tl.range(row_start, n_rows, row_step):
        cols = tl.arange(0, BLOCK)
        mask = cols < n_cols
        row = tl.load(in_ptr + row_idx * in_stride + cols, mask=mask, other=-float("inf"))
        row = row - tl.max(row, axis=0)
        num = tl.exp(row)
        tl.store(out_ptr + row_idx * out_stride + cols, num / tl.sum(num, axis=0), mask=mask)


jit_add, jit_softmax = jitspv.jit(add_kernel), jitspv.jit(softmax_kernel)


def bench_add(rows, n, back_to_back=False):
    block, warps = 1024, 4
    x, y = np.random.rand(n).astype(np.float32), np.random.rand(n).astype(np.float32)
    X, Y, O = jitspv.asarray(x), jitspv.asarray(y), jitspv.full(n, np.nan)
    grid = (triton.cdiv(n, block),)

    def run_jitspv():
        jit_add[grid](X, Y, O, n, BLOCK=block, num_warps=warps)
    run_jitspv()
    err = float(np.abs(O.numpy() - (x + y)).max())
    sides = {"jitspv": (run_jitspv, jitspv.synchronize)}
    if cuda_available():
        import torch
        tx, ty = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()
        to = torch.empty_like(tx)
        sides["triton"] = (lambda: add_kernel[grid](tx, ty, to, n, BLOCK=block, num_warps=warps), torch.cuda.synchronize)
        sides["torch"] = (lambda: torch.add(tx, ty, out=to), torch.cuda.synchronize)
    def timer(side, launch, synchronize):
        if back_to_back:
            return lambda: back_to_back_ms(launch, synchronize)
        return lambda: (do_bench if side == "jitspv" else triton.testing.do_bench)(launch)
    timed = {side: timer(side, *calls) for side, calls in sides.items()}
    name = f"vector add fp32 n=2^{n.bit_length() - 1}" if n & (n - 1) == 0 else f"vector add fp32 n={n}"
    rows.append(_row(name + (" (back to back)" if back_to_back else ""), err, side_by_side(timed),
                     lambda ms: 3 * 4 * n / ms * 1e-6))


def bench_softmax(rows, R, C):
    block = triton.next_power_of_2(C)
    warps = 8 if block >= 2048 else 4
    programs = min(R, 132 * 8)
    a = np.random.randn(R, C).astype(np.float32)
    A, O = jitspv.asarray(a), jitspv.full((R, C), np.nan)

    def run_jitspv():
        jit_softmax[(programs,)](O, A, C, C, R, C, BLOCK=block, num_warps=warps)
    run_jitspv()
    ref = np.exp(a - a.max(1, keepdims=True))
    ref /= ref.sum(1, keepdims=True)
    err = float(np.abs(O.numpy() - ref).max())
    sides = {"jitspv": lambda: do_bench(run_jitspv)}
    if cuda_available():
        import torch
        ta = torch.from_numpy(a).cuda()
        to = torch.empty_like(ta)
        sides["triton"] = lambda: triton.testing.do_bench(
            lambda: softmax_kernel[(programs,)](to, ta, C, C, R, C, BLOCK=block, num_warps=warps))
        sides["torch"] = lambda: triton.testing.do_bench(lambda: torch.softmax(ta, dim=1))
    rows.append(_row(f"fused softmax fp32 {R}x{C}", err, side_by_side(sides), lambda ms: 2 * 4 * R * C / ms * 1e-6))


def bench_layer_norm(rows, M, N):
    ln = load_example("05_layer_norm.py")
    x = (np.random.randn(M, N) * 2 + 0.5).astype(np.float16)
    w, b = np.random.rand(N).astype(np.float16), np.random.rand(N).astype(np.float16)
    X, W, B = jitspv.asarray(x), jitspv.asarray(w), jitspv.asarray(b)
    eps = 1e-5
    y, _, _ = ln.layer_norm_forward(X, W, B, eps)
    block, warps = ln._block_and_warps(N, 2)
    Y, mean, rstd = jitspv.empty_like(X), jitspv.empty(M), jitspv.empty(M)

    def run_jitspv():   # outputs allocated once, as on the Triton side
        ln._layer_norm_fwd_fused[(M,)](X, Y, W, B, mean, rstd, N, N, eps, BLOCK_SIZE=block, num_warps=warps)
    x64 = x.astype(np.float64)
    ref = (x64 - x64.mean(1, keepdims=True)) / np.sqrt(x64.var(1, keepdims=True) + eps) * w + b
    err = float(np.abs(y.numpy().astype(np.float64) - ref).max())
    sides = {"jitspv": lambda: do_bench(run_jitspv)}
    if cuda_available():
        import torch
        fwd = triton.jit(ln._layer_norm_fwd_fused.fn)   # the same kernel source, Triton's CUDA backend
        tx, tw, tb = (torch.from_numpy(a).cuda() for a in (x, w, b))
        ty = torch.empty_like(tx)
        tmean, trstd = (torch.empty(M, device="cuda") for _ in range(2))

        def run_triton():
            fwd[(M,)](tx, ty, tw, tb, tmean, trstd, N, N, eps, BLOCK_SIZE=block, num_warps=warps)
        sides["triton"] = lambda: triton.testing.do_bench(run_triton)
        sides["torch"] = lambda: triton.testing.do_bench(
            lambda: torch.nn.functional.layer_norm(tx, (N,), tw, tb, eps))
    rows.append(_row(f"layer norm fwd fp16 {M}x{N}", err, side_by_side(sides),
                     lambda ms: (2 * M * N + 2 * N) * 2 / ms * 1e-6))


def _row(name, err, measured, gbs):
    """A table row: GB/s of each side, then (with CUDA) the ratio and the SM clocks seen."""
    row = [name, gbs(measured["jitspv"][0]), err]
    if "triton" in measured:
        row += [gbs(measured["triton"][0]), gbs(measured["torch"][0]),
                measured["triton"][0] / measured["jitspv"][0],
                "/".join(str(measured[k][1]) for k in ("jitspv", "triton", "torch"))]
    return row


def main():
    rows = []
    if SMALL:
        bench_add(rows, 1 << 20)
        bench_softmax(rows, 512, 1000)
        bench_layer_norm(rows, 256, 1000)
    else:
        bench_add(rows, 1 << 20, back_to_back=True)
        bench_add(rows, 1 << 24, back_to_back=True)
        bench_add(rows, 1 << 28)
        bench_add(rows, 10**8 + 7)
        for cols in (8192, 5000):
            bench_softmax(rows, 8192, cols)
        for cols in (8192, 5000):
            bench_layer_norm(rows, 4096, cols)
    cols = ["kernel", "jitspv GB/s", "max abs err"]
    if cuda_available():
        cols += ["Triton-CUDA GB/s", "torch GB/s", "jitspv / Triton", "SM MHz jitspv/Triton/torch"]
    print(header("Memory-bound kernels (GB/s, higher is better)"))
    print(table(cols, rows))


if __name__ == "__main__":
    main()
