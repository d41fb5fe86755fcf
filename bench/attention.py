"""Fused attention forward (tutorial 06's kernel source, fp16 in, fp32 accumulation): jitspv vs
Triton-CUDA running the same source under @triton.jit, one run, one card. TFLOP/s per shape.

    python bench/attention.py                      # Z=4 H=32 D=64, N_CTX 1024/2048/4096, causal and not
    python bench/attention.py --configs 64:32:4,64:64:4

Each config is BLOCK_M:BLOCK_N:num_warps (the same for both backends). Results are checked
against each other (and numpy on lavapipe-sized runs) before timing.
"""
import argparse
import types

import numpy as np

from common import load_example  # noqa: E402  (bench/ is the script's directory)

example = load_example("06_fused_attention.py")

import jitspv  # noqa: E402
from jitspv.testing import do_bench  # noqa: E402


def _triton_kernel():
    """The example's two functions under @triton.jit (the outer one calling the inner one)."""
    import triton

    def rebind(fn, env):
        copy = types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__)
        copy.__annotations__, copy.__module__, copy.__qualname__ = fn.__annotations__, fn.__module__, fn.__qualname__
        return copy
    inner = example._attn_fwd_inner.fn
    inner_t = triton.jit(rebind(inner, dict(inner.__globals__)))
    outer = example._attn_fwd.fn
    return triton.jit(rebind(outer, dict(outer.__globals__, _attn_fwd_inner=inner_t)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ctx", default="1024,2048,4096")
    parser.add_argument("--configs", default="64:32:4,64:64:4,128:32:8,64:32:2")
    parser.add_argument("--z", type=int, default=4)
    parser.add_argument("--h", type=int, default=32)
    parser.add_argument("--d", type=int, default=64)
    args = parser.parse_args()
    try:
        import torch
        torch = torch if torch.cuda.is_available() else None
    except ImportError:
        torch = None
    Z, H, D = args.z, args.h, args.d
    configs = [tuple(int(x) for x in c.split(":")) for c in args.configs.split(",")]
    print(f"jitspv device: {jitspv.vk.get_device().name}")
    if torch is not None:
        import triton
        import triton.testing
        print(f"CUDA device: {torch.cuda.get_device_name()}, Triton {triton.__version__}")
        kernel_t = _triton_kernel()
    print(f"fused attention forward fp16 Z={Z} H={H} D={D}; TFLOP/s (BLOCK_M:BLOCK_N:warps)")
    rng = np.random.default_rng(0)
    for causal in (False, True):
        for n in (int(x) for x in args.ctx.split(",")):
            qkv = [rng.standard_normal((Z, H, n, D)).astype(np.float16) for _ in range(3)]
            q, k, v = (jitspv.asarray(x) for x in qkv)
            flops = 4.0 * Z * H * n * n * D * (0.5 if causal else 1.0)
            if torch is not None:
                tq, tk, tv = (torch.from_numpy(x).cuda() for x in qkv)
                to = torch.empty_like(tq)
                tm = torch.empty((Z * H, n), device="cuda", dtype=torch.float32)
            for bm, bn, w in configs:
                try:
                    o, _ = example.attention(q, k, v, causal, 0.5, bm, bn, w)
                except jitspv.errors.OutOfResources:
                    print(f"causal={causal!s:5} N_CTX={n:>5} {bm}:{bn}:{w}  jitspv out of resources")
                    continue
                line = (f"causal={causal!s:5} N_CTX={n:>5} {bm}:{bn}:{w}  jitspv "
                        f"{flops / do_bench(lambda: example.attention(q, k, v, causal, 0.5, bm, bn, w), quantiles=[0.5]) * 1e-9:8.2f}")
                if torch is not None:
                    def run():
                        kernel_t[(n // bm, Z * H, 1)](tq, tk, tv, 0.5, tm, to, *tq.stride(), *tk.stride(), *tv.stride(),
                                                      *to.stride(), Z, H, N_CTX=n, HEAD_DIM=D, BLOCK_M=bm, BLOCK_N=bn,
                                                      STAGE=3 if causal else 1, num_warps=w, num_stages=3)
                    run()
                    err = np.abs(o.numpy().astype(np.float32) - to.cpu().numpy().astype(np.float32)).max()
                    assert err < 2e-2, f"jitspv and Triton-CUDA differ by {err}"
                    t = flops / triton.testing.do_bench(run, quantiles=[0.5]) * 1e-9
                    line += f"  triton-cuda {t:8.2f}"
                print(line, flush=True)


if __name__ == "__main__":
    main()
