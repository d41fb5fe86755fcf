"""Triton tutorial 02 (fused softmax), run by jitspv.

The kernel is Triton's, unchanged except for the decorator: each program walks rows
row_start, row_start + num_programs, ... (a persistent loop), loads a whole row into registers,
and writes its softmax, so the input is read once and the output written once. Triton sizes the
grid from a CUDA occupancy query; Vulkan has none, so the number of programs is a constant
multiple of a typical GPU's compute units. Checks against numpy and prints the error; on a GPU
(or with --bench) prints a table of GB/s over column counts.

    python examples/02_fused_softmax.py [--check | --bench]
"""

import numpy as np
import triton.language as tl

import jitspv
from jitspv.testing import do_bench, run_example

# Programs in flight: Triton computes SM count x occupancy (132 SMs x ~4 on an H100); without an
# occupancy query jitspv uses that figure. More rows than programs loop inside the kernel.
NUM_PROGRAMS = 132 * 4


@jitspv.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols,
                   BLOCK_SIZE: tl.constexpr, num_stages: tl.constexpr):
    # starting row of the program
    row_start = tl.program_id(0)
    row_step = tl.num_programs(0)
    for row_idx in tl.range(row_start, n_rows, row_step, num_stages=num_stages):
        # The stride represents how much we need to increase the pointer to advance 1 row
        row_start_ptr = input_ptr + row_idx * input_row_stride
        # The block size is the next power of two greater than n_cols, so we can fit each
        # row in a single block
        col_offsets = tl.arange(0, BLOCK_SIZE)
        input_ptrs = row_start_ptr + col_offsets
        # Load the row into registers, using a mask since BLOCK_SIZE may be > than n_cols
        mask = col_offsets < n_cols
        row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
        # Subtract maximum for numerical stability
        row_minus_max = row - tl.max(row, axis=0)
        numerator = tl.exp(row_minus_max)
        denominator = tl.sum(numerator, axis=0)
        softmax_output = numerator / denominator
        # Write back output to memory
        output_row_start_ptr = output_ptr + row_idx * output_row_stride
        output_ptrs = output_row_start_ptr + col_offsets
        tl.store(output_ptrs, softmax_output, mask=mask)


def softmax(x: jitspv.Array) -> jitspv.Array:
    n_rows, n_cols = x.shape
    # The block size of each loop iteration is the smallest power of two greater than the number
    # of columns in `x`
    BLOCK_SIZE = jitspv.next_power_of_2(n_cols)
    # Another trick we can use is to ask the compiler to use more threads per row by
    # increasing the number of warps (`num_warps`) over which each row is distributed.
    num_warps = 8
    num_stages = 2
    y = jitspv.empty_like(x)
    num_programs = min(NUM_PROGRAMS, n_rows)
    softmax_kernel[(num_programs, 1, 1)](y, x, x.strides[0] // x.itemsize, y.strides[0] // y.itemsize, n_rows,
                                         n_cols, BLOCK_SIZE=BLOCK_SIZE, num_stages=num_stages, num_warps=num_warps)
    return y


def naive_softmax(x: np.ndarray) -> np.ndarray:
    """Reference in float64: subtract the row max, exponentiate, normalize."""
    x = x.astype(np.float64)
    z = np.exp(x - x.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def check():
    rng = np.random.default_rng()
    # Odd column counts (masked tails), one column, more rows than programs (the persistent loop).
    for n_rows, n_cols in ((1823, 781), (3, 1), (700, 4099), (1000, 64)):
        x = rng.standard_normal((n_rows, n_cols)).astype(np.float32) * 3
        y = softmax(jitspv.asarray(x)).numpy()
        err = float(np.max(np.abs(y - naive_softmax(x))))
        print(f"softmax {n_rows}x{n_cols}: max abs error vs numpy {err:.3g}")
        assert err < 1e-6, "result differs from numpy"


def bench():
    n_rows = 4096
    print(f"{'N':>6} {'jitspv GB/s':>12}")
    for n_cols in [128 * i for i in range(2, 100, 8)]:
        x = jitspv.asarray(np.random.standard_normal((n_rows, n_cols)).astype(np.float32))
        ms = do_bench(lambda: softmax(x), quantiles=[0.5])
        print(f"{n_cols:>6} {2 * x.nbytes / ms * 1e-6:>12.1f}")


if __name__ == "__main__":
    run_example(check, bench)
