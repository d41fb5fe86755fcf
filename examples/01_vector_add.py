"""Triton tutorial 01 (vector addition), run by jitspv.

The kernel is Triton's, unchanged except for the decorator. Inputs are numpy arrays or jitspv
device arrays instead of CUDA tensors. Checks the result against numpy and prints the error; on a
GPU (or with --bench) prints a small bandwidth table.

    python examples/01_vector_add.py [--check | --bench]
"""

import numpy as np
import triton.language as tl

import jitspv
from jitspv.testing import do_bench, run_example


@jitspv.jit
def add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    tl.store(output_ptr + offsets, output, mask=mask)


def add(x: jitspv.Array, y: jitspv.Array) -> jitspv.Array:
    output = jitspv.empty_like(x)
    n_elements = output.size
    grid = lambda meta: (jitspv.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    add_kernel[grid](x, y, output, n_elements, BLOCK_SIZE=1024)
    return output


def check():
    rng = np.random.default_rng()
    for size in (1, 98_432, 1_000_003):
        x = rng.random(size, dtype=np.float32)
        y = rng.random(size, dtype=np.float32)
        out = add(jitspv.asarray(x), jitspv.asarray(y)).numpy()
        err = float(np.max(np.abs(out - (x + y))))
        print(f"vector add n={size}: max abs error vs numpy {err}")
        assert err == 0.0, "result differs from numpy"
    # numpy arrays work too: copied to the device and back around the launch.
    x, y = rng.random(4097, dtype=np.float32), rng.random(4097, dtype=np.float32)
    out = np.full_like(x, np.nan)
    add_kernel[(jitspv.cdiv(x.size, 256),)](x, y, out, x.size, BLOCK_SIZE=256)
    assert np.array_equal(out, x + y)


def bench():
    print(f"{'size':>12} {'jitspv GB/s':>12}")
    for exp in range(12, 29, 2):
        size = 1 << exp
        x, y = jitspv.asarray(np.random.rand(size).astype(np.float32)), jitspv.asarray(np.random.rand(size).astype(np.float32))
        ms = do_bench(lambda: add(x, y), quantiles=[0.5])
        print(f"{size:>12} {3 * x.nbytes / ms * 1e-6:>12.1f}")


if __name__ == "__main__":
    run_example(check, bench)
