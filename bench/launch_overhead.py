"""Host time per launch of a tiny kernel: jitspv (runtime alone, and through @jitspv.jit) next to
Triton-CUDA's launch of the same kernel, in the same run on the same GPU (when CUDA is there).

  async : N launches back to back, wall time / N (the device queue absorbs them)
  sync  : launch + wait for completion, per launch

Run: python bench/launch_overhead.py   (prints a markdown table; results go to bench/RESULTS.md)
"""
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import triton  # noqa: E402
import triton.language as tl  # noqa: E402

import jitspv  # noqa: E402
from jitspv.lower.spirv.samples import vector_add_f32  # noqa: E402
from jitspv.vk import Pipeline, get_device  # noqa: E402
from common import back_to_back_ms, cuda_available, header, table  # noqa: E402

N_ASYNC, N_SYNC, N = 2000, 300, 128


@triton.jit
def tiny_add(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask), mask=mask)


jit_tiny_add = jitspv.jit(tiny_add)


def per_launch_us(launch, sync, n):
    return back_to_back_ms(launch, sync, n) * 1e3


def per_sync_launch_us(launch, sync, n):
    def both():
        launch()
        sync()
    return per_launch_us(both, lambda: None, n)


def main():
    x, y, out = (jitspv.asarray(np.random.rand(N).astype(np.float32)) for _ in range(3))
    rows = []

    pipe = Pipeline(get_device(), vector_add_f32(128), 32)
    args = struct.pack("<QQQI4x", x.data_ptr(), y.data_ptr(), out.data_ptr(), N)
    rows.append(["jitspv runtime: Pipeline.launch", per_launch_us(lambda: pipe.launch((1, 1, 1), args), jitspv.synchronize, N_ASYNC),
                 per_sync_launch_us(lambda: pipe.launch((1, 1, 1), args), jitspv.synchronize, N_SYNC)])

    def jit_launch():
        jit_tiny_add[(1,)](x, y, out, N, BLOCK=N)
    rows.append(["jitspv: kernel[grid](jitspv arrays)", per_launch_us(jit_launch, jitspv.synchronize, N_ASYNC),
                 per_sync_launch_us(jit_launch, jitspv.synchronize, N_SYNC)])
    assert np.array_equal(out.numpy(), x.numpy() + y.numpy())

    if cuda_available():
        import torch
        tx, ty, tout = (torch.rand(N, device="cuda") for _ in range(3))

        def triton_launch():
            tiny_add[(1,)](tx, ty, tout, N, BLOCK=N)
        rows.append(["Triton-CUDA: kernel[grid](torch tensors)", per_launch_us(triton_launch, torch.cuda.synchronize, N_ASYNC),
                     per_sync_launch_us(triton_launch, torch.cuda.synchronize, N_SYNC)])
        torch.testing.assert_close(tout, tx + ty)
        base_async, base_sync = rows[-1][1], rows[-1][2]
        for r in rows:
            r += [r[1] / base_async, r[2] / base_sync]
    else:
        for r in rows:
            r += [None, None]
    print(header("Launch overhead: host microseconds per launch of a 1-workgroup kernel"))
    print(table(["launch path", "async us", "launch+sync us", "async / Triton", "sync / Triton"], rows))


if __name__ == "__main__":
    main()
