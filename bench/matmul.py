"""Matmul: jitspv vs Triton-CUDA vs torch.matmul, one run, one card. fp32 (default): Triton with
input_precision="ieee", torch with TF32 off; fp16 (--dtype fp16): fp16 in and out, fp32 accumulation,
jitspv autotuned over tile configs where tl.dot runs on cooperative matrices (JITSPV_COOPMAT=0: FMAs);
bf16 (--dtype bf16): bf16 in (jitspv: triton.reinterpret of uint16 arrays), tutorial 03's fp16 out;
int8 (--dtype int8): int8 in, int32 accumulation and out (tutorial 03's kernel with ACC_DTYPE
tl.int32; torch's column is torch._int_mm), results compared exactly. Prints TFLOP/s (int8: TOP/s)
per size and the ratios to jitspv.

    python bench/matmul.py                 # 4096^3, 1024^3, 4000^3 (GPU machine)
    python bench/matmul.py --dtype fp16
    python bench/matmul.py --dtype bf16
    python bench/matmul.py --dtype int8
    python bench/matmul.py --sizes 128,200 # any sizes; on lavapipe only the jitspv column runs
    python bench/matmul.py --sweep         # jitspv TFLOP/s of each block config (BM,BN,BK,warps)
    python bench/matmul.py --sweep 64:128:16:8:1,64:128:16:8:2   # optional 5th field: num_stages
    JITSPV_PIPELINE_STATS=1 python bench/matmul.py --sweep ...  # also the driver's registers, spills

Triton-CUDA and torch columns appear when torch with CUDA is importable. Every backend is first
checked against the others (or numpy for small sizes) so a fast wrong kernel cannot win.
"""
import argparse

import numpy as np
import triton.language as tl
from triton.runtime.jit import TensorWrapper

from common import load_example  # noqa: E402  (bench/ is the script's directory)

example = load_example("03_matrix_multiplication.py")

import jitspv  # noqa: E402
from jitspv.testing import do_bench  # noqa: E402


def _cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


# (BLOCK_M, BLOCK_N, BLOCK_K, num_stages, num_warps) Triton-CUDA autotunes over: fp32 ours, fp16 tutorial 03's.
TRITON_CONFIGS = {
    "fp32": [(128, 128, 32, 3, 8), (128, 64, 32, 4, 4), (64, 128, 32, 4, 4), (128, 128, 16, 4, 4), (64, 64, 32, 4, 4)],
    "fp16": [(128, 256, 64, 3, 8), (64, 256, 32, 4, 4), (128, 128, 32, 4, 4), (128, 64, 32, 4, 4), (64, 128, 32, 4, 4),
             (128, 32, 32, 4, 4), (64, 32, 32, 5, 2), (32, 64, 32, 5, 2)],
}
TRITON_CONFIGS["bf16"] = TRITON_CONFIGS["int8"] = TRITON_CONFIGS["fp16"]
# tutorial 03's ACC_DTYPE per --dtype (int8 operands accumulate in int32)
_ACC_DTYPE = {"fp32": tl.float32, "fp16": tl.float32, "bf16": tl.float32, "int8": tl.int32}
# (BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages) jitspv autotunes over for fp16: tiles whose staged
# operands and accumulator fit 48 KiB with cooperative matrices.
JITSPV_FP16_CONFIGS = [(128, 256, 32, 8, 2), (128, 128, 32, 4, 1), (128, 128, 32, 4, 2), (128, 128, 64, 8, 2),
                       (64, 128, 32, 4, 2), (64, 64, 32, 4, 2)]


def _jitspv_tiled_matmul(dtype="fp16"):
    """Tutorial 03's kernel autotuned over JITSPV_FP16_CONFIGS: fp16 out (int8: int32 accumulation and out)."""
    kernel = jitspv.autotune(
        configs=[jitspv.Config({"BLOCK_SIZE_M": m, "BLOCK_SIZE_N": n, "BLOCK_SIZE_K": k, "GROUP_SIZE_M": 8},
                               num_warps=w, num_stages=s) for m, n, k, w, s in JITSPV_FP16_CONFIGS],
        key=["M", "N", "K"])(example.matmul_kernel.fn)

    def run(a, b):
        M, K = a.shape
        N = b.shape[1]
        c = jitspv.empty((M, N), dtype=np.int32 if dtype == "int8" else np.float16)
        grid = lambda META: (jitspv.cdiv(M, META["BLOCK_SIZE_M"]) * jitspv.cdiv(N, META["BLOCK_SIZE_N"]),)
        kernel[grid](a, b, c, M, N, K, K, 1, N, 1, N, 1, ACTIVATION="", ACC_DTYPE=_ACC_DTYPE[dtype])
        return c
    run.autotuner = kernel
    return run


def _triton_cuda_matmul(dtype):
    """Tutorial 03's kernel under @triton.jit with Triton's own autotuner."""
    import triton
    kernel = triton.autotune(
        configs=[triton.Config({"BLOCK_SIZE_M": m, "BLOCK_SIZE_N": n, "BLOCK_SIZE_K": k, "GROUP_SIZE_M": 8},
                               num_stages=s, num_warps=w)
                 for m, n, k, s, w in TRITON_CONFIGS[dtype]],
        key=["M", "N", "K"])(triton.jit(example.matmul_kernel.fn.fn))

    def run(a, b, c):
        M, K = a.shape
        N = b.shape[1]
        grid = lambda META: (triton.cdiv(M, META["BLOCK_SIZE_M"]) * triton.cdiv(N, META["BLOCK_SIZE_N"]),)
        kernel[grid](a, b, c, M, N, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                     c.stride(0), c.stride(1), ACTIVATION="", ACC_DTYPE=_ACC_DTYPE[dtype])
    run.autotuner = kernel
    return run


def _bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> nearest bf16 bit patterns (ties to even), as torch's .bfloat16() rounds."""
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def _operand(x: np.ndarray, dtype: str):
    """(jitspv operand, its values as float32) of float32 data `x` in `dtype`."""
    if dtype == "bf16":
        bits = _bf16_bits(x)
        return TensorWrapper(jitspv.asarray(bits), tl.bfloat16), (bits.astype(np.uint32) << 16).view(np.float32)
    if dtype == "int8":   # small integers: every product and sum exact in int32 (and float64)
        ints = np.clip(np.rint(x * 3), -8, 8).astype(np.int8)
        return jitspv.asarray(ints), ints.astype(np.float32)
    np_dtype = np.float16 if dtype == "fp16" else np.float32
    return jitspv.asarray(x.astype(np_dtype)), x.astype(np_dtype).astype(np.float32)


def _sweep(sizes, configs, dtype):
    """TFLOP/s of tutorial 03's kernel under each fixed config, to choose the autotune list."""
    rng = np.random.default_rng(0)
    print("config (BM,BN,BK,warps,stages): jitspv TFLOP/s per size " + " ".join(map(str, sizes)))
    data = {}
    for n in sizes:
        (a, _), (b, _) = (_operand(rng.standard_normal((n, n)).astype(np.float32), dtype) for _ in range(2))
        data[n] = (a, b, jitspv.empty((n, n), dtype={"fp32": np.float32, "int8": np.int32}.get(dtype, np.float16)))
    for bm, bn, bk, w, stages in configs:
        row, stats = [], {}
        for n in sizes:
            a, b, c = data[n]
            grid = (jitspv.cdiv(n, bm) * jitspv.cdiv(n, bn),)
            run = lambda: example.matmul_kernel.fn[grid](a, b, c, n, n, n, n, 1, n, 1, n, 1, BLOCK_SIZE_M=bm,
                                                         BLOCK_SIZE_N=bn, BLOCK_SIZE_K=bk, GROUP_SIZE_M=8,
                                                         ACTIVATION="", ACC_DTYPE=_ACC_DTYPE[dtype], num_warps=w,
                                                         num_stages=stages)
            try:
                stats = run().pipeline.statistics()
            except jitspv.errors.OutOfResources:
                row.append("oor")
                continue
            row.append(f"{2.0 * n ** 3 / do_bench(run, quantiles=[0.5]) * 1e-9:.2f}")
        # With JITSPV_PIPELINE_STATS=1 (where the driver gives them): registers and spilled bytes
        # (NVIDIA's "Local Memory Size" is 2^36 + bytes).
        if stats.get("Register Count") is not None:
            row += [f"{stats['Register Count']}r", f"{stats.get('Local Memory Size', 0) % (1 << 36)}B"]
        print(f"{bm:>4} {bn:>4} {bk:>3} {w:>2} {stages}: " + " ".join(f"{x:>8}" for x in row), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="4096,1024,4000")
    parser.add_argument("--dtype", choices=["fp32", "fp16", "bf16", "int8"], default="fp32")
    parser.add_argument("--sweep", nargs="?", const="default",
                        help="time fixed configs BM:BN:BK:W,... instead of the autotuned kernel")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.sweep:
        configs = ([(tuple(int(x) for x in c.split(":")) + (3,))[:5] for c in args.sweep.split(",")]
                   if args.sweep != "default" else
                   [(128, 128, 8, 8), (128, 128, 16, 8), (128, 128, 32, 8), (128, 64, 16, 4), (64, 128, 16, 4),
                    (128, 64, 32, 4), (64, 64, 16, 4), (64, 64, 32, 4), (64, 64, 32, 2), (128, 128, 16, 4),
                    (256, 128, 8, 8), (128, 64, 16, 8), (64, 128, 32, 8)])
        configs = [c + (3,) if len(c) == 4 else c for c in configs]
        return _sweep(sizes, configs, args.dtype)
    torch = _cuda()
    from jitspv.vk import get_device
    print(f"jitspv device: {get_device().name}")
    if torch is not None:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        print(f"CUDA device: {torch.cuda.get_device_name()}")
        triton_mm = _triton_cuda_matmul(args.dtype)
    tiled = args.dtype != "fp32"   # tutorial 03's kernel autotuned over cooperative-matrix tiles
    half, int8 = args.dtype in ("fp16", "bf16"), args.dtype == "int8"
    jitspv_mm = _jitspv_tiled_matmul(args.dtype) if tiled else example.matmul
    print(f"dtype: {args.dtype}" + (f"; cooperative matrices: {bool(jitspv.frontend.runtime.current_target().cooperative_matrix_shapes)}"
                                    if tiled else ""))
    cols = ["jitspv"] + (["triton-cuda", "torch"] if torch is not None else [])
    unit = " TOP/s" if int8 else " TFLOP/s"
    print(f"{'M=N=K':>7} " + " ".join(f"{c + unit:>20}" for c in cols)
          + ("  jitspv/triton  jitspv/torch" if torch is not None else ""))
    rng = np.random.default_rng(0)
    chosen = []   # the autotuners' picks, printed under the table: close configs can swap between runs
    for n in sizes:
        (a, a_np), (b, b_np) = (_operand(rng.standard_normal((n, n)).astype(np.float32), args.dtype) for _ in range(2))
        c = jitspv_mm(a, b).numpy().astype(np.float32)
        flops = 2.0 * n ** 3
        tflops = [flops / do_bench(lambda: jitspv_mm(a, b), quantiles=[0.5]) * 1e-9]
        if torch is not None:
            t_dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "int8": torch.int8}[args.dtype]
            ta, tb = (torch.from_numpy(x).cuda().to(t_dtype) for x in (a_np, b_np))   # exact: the same values
            tc = torch.empty((n, n), device="cuda", dtype=torch.int32 if int8 else torch.float16 if half else torch.float32)
            torch_mm = torch._int_mm if int8 else torch.matmul   # int8 x int8 -> int32
            ref = torch_mm(ta, tb).float()
            triton_mm(ta, tb, tc)
            for name, x in (("jitspv", c), ("triton-cuda", tc.float().cpu().numpy())):
                err = np.abs(x - ref.cpu().numpy()).max() / ref.abs().max().item()
                assert err == 0 if int8 else err < (1e-2 if half else 1e-4), f"{name} differs from {torch_mm.__name__}: {err}"
            import triton.testing
            for fn in (lambda: triton_mm(ta, tb, tc), lambda: torch_mm(ta, tb)):
                tflops.append(flops / triton.testing.do_bench(fn, quantiles=[0.5]) * 1e-9)
        else:
            ref = a_np.astype(np.float64) @ b_np.astype(np.float64)
            err = np.abs(c - ref).max() / np.abs(ref).max()
            assert err == 0 if int8 else err < (1e-2 if half else 1e-5), f"jitspv differs from numpy: {err}"
        line = f"{n:>7} " + " ".join(f"{t:>20.3f}" for t in tflops)
        if torch is not None:
            line += f"  {tflops[0] / tflops[1]:>13.2f}  {tflops[0] / tflops[2]:>12.2f}"
        print(line)
        chosen.append(f"{n}: jitspv {_config_text(jitspv_mm.autotuner if tiled else example.matmul_kernel)}"
                      + (f"; triton-cuda {_config_text(triton_mm.autotuner)}" if torch is not None else ""))
    print("\n".join(["autotuned (BM,BN,BK,warps,stages):"] + chosen))


def _config_text(autotuner):
    """The config `autotuner` chose for the last size it ran, as BM,BN,BK,warps,stages."""
    config = autotuner.best_config
    kw = config.kwargs
    return f"{kw['BLOCK_SIZE_M']},{kw['BLOCK_SIZE_N']},{kw['BLOCK_SIZE_K']},{config.num_warps},{config.num_stages}"


if __name__ == "__main__":
    main()
