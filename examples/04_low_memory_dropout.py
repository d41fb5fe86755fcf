"""Triton tutorial 04 (low-memory dropout), run by jitspv.

Two dropout kernels, Triton's, unchanged except for the decorator: one reads a keep-mask tensor,
the other regenerates the mask from a single seed with `tl.rand` (Philox), so no mask is stored.
Inputs are numpy arrays or jitspv device arrays instead of CUDA tensors. Checks both against numpy
(the seeded one against a numpy Philox written from triton/language/random.py, so the masks must
match Triton's bit for bit) and prints the errors; on a GPU (or with --bench) prints a small
bandwidth table.

    python examples/04_low_memory_dropout.py [--check | --bench]
"""

import numpy as np
import triton.language as tl

import jitspv
from jitspv.testing import do_bench, run_example


@jitspv.jit
def _dropout(
    x_ptr,  # pointer to the input
    x_keep_ptr,  # pointer to a mask of 0s and 1s
    output_ptr,  # pointer to the output
    n_elements,  # number of elements in the `x` tensor
    p,  # probability that an element of `x` is changed to zero
    BLOCK_SIZE: tl.constexpr,
):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    # Load data
    x = tl.load(x_ptr + offsets, mask=mask)
    x_keep = tl.load(x_keep_ptr + offsets, mask=mask)
    # The line below is the crucial part, described in the paragraph above!
    output = tl.where(x_keep, x / (1 - p), 0.0)
    # Write-back output
    tl.store(output_ptr + offsets, output, mask=mask)


@jitspv.jit
def _seeded_dropout(
    x_ptr,
    output_ptr,
    n_elements,
    p,
    seed,
    BLOCK_SIZE: tl.constexpr,
):
    # compute memory offsets of elements handled by this instance
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    # load data from x
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    # randomly prune it
    random = tl.rand(seed, offsets)
    x_keep = random > p
    # write-back
    output = tl.where(x_keep, x / (1 - p), 0.0)
    tl.store(output_ptr + offsets, output, mask=mask)


def dropout(x, x_keep, p):
    output = jitspv.empty_like(x)
    n_elements = x.size
    grid = lambda meta: (jitspv.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    _dropout[grid](x, x_keep, output, n_elements, p, BLOCK_SIZE=1024)
    return output


def seeded_dropout(x, p, seed):
    output = jitspv.empty_like(x)
    n_elements = x.size
    grid = lambda meta: (jitspv.cdiv(n_elements, meta["BLOCK_SIZE"]),)  # noqa: E731
    _seeded_dropout[grid](x, output, n_elements, p, seed, BLOCK_SIZE=1024)
    return output


def rand_numpy(seed, offsets, n_rounds=10):
    """tl.rand(seed, offsets) in numpy: Philox-4x32 (first output word) to a float in [0, 1)."""
    mul_a, mul_b = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
    k0, k1 = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF   # the seed, sign-extended to 64 bits
    c0 = np.asarray(offsets, np.uint32)
    c1 = c2 = c3 = np.zeros_like(c0)
    for _ in range(n_rounds):
        p0, p2 = mul_b * c2.astype(np.uint64), mul_a * c0.astype(np.uint64)
        hi0, hi2 = (p0 >> np.uint64(32)).astype(np.uint32), (p2 >> np.uint64(32)).astype(np.uint32)
        c0, c1, c2, c3 = hi0 ^ c1 ^ np.uint32(k0), p0.astype(np.uint32), hi2 ^ c3 ^ np.uint32(k1), p2.astype(np.uint32)
        k0, k1 = (k0 + 0x9E3779B9) & 0xFFFFFFFF, (k1 + 0xBB67AE85) & 0xFFFFFFFF
    i = c0.view(np.int32)
    return np.where(i < 0, ~i, i).astype(np.float32) * np.float32(4.6566127342e-10)


def _max_rel_error(out, ref):
    return float(np.max(np.abs(out - ref) / np.maximum(np.abs(ref), np.finfo(np.float32).tiny), initial=0.0))


def check():
    rng = np.random.default_rng()
    p = 0.5
    scale = np.float32(1) / (np.float32(1) - np.float32(p))
    for n in (10, 4097, 1_000_003):
        x = rng.standard_normal(n).astype(np.float32)
        keep = (rng.random(n) > p).astype(np.int32)
        out = dropout(jitspv.asarray(x), jitspv.asarray(keep), p).numpy()
        ref = np.where(keep != 0, x * scale, np.float32(0))
        err = _max_rel_error(out, ref)
        print(f"dropout n={n}: max relative error vs numpy {err:.2e}")
        assert err <= 2.5e-7, "dropout differs from numpy"

        seed = int(rng.integers(-2**31, 2**31))
        out = seeded_dropout(jitspv.asarray(x), p, seed).numpy()
        again = seeded_dropout(jitspv.asarray(x), p, seed).numpy()
        other = seeded_dropout(jitspv.asarray(x), p, seed ^ 0x5A5A).numpy()
        kept = rand_numpy(seed, np.arange(n)) > np.float32(p)
        ref = np.where(kept, x * scale, np.float32(0))
        err = _max_rel_error(out, ref)
        print(f"seeded dropout n={n} seed={seed}: max relative error vs numpy {err:.2e}, "
              f"kept {kept.mean():.3f}")
        assert np.array_equal(out != 0, kept), "the dropout mask differs from Triton's Philox stream"
        assert err <= 2.5e-7, "seeded dropout differs from numpy"
        assert np.array_equal(out, again), "same seed, different result"
        assert n < 100 or not np.array_equal(out, other), "different seeds gave the same mask"


def bench():
    p = 0.5
    print(f"{'size':>12} {'dropout GB/s':>14} {'seeded GB/s':>14}")
    for exp in range(16, 29, 3):
        n = 1 << exp
        x = jitspv.asarray(np.random.standard_normal(n).astype(np.float32))
        keep = jitspv.asarray((np.random.rand(n) > p).astype(np.int32))
        ms_mask = do_bench(lambda: dropout(x, keep, p), quantiles=[0.5])
        ms_seed = do_bench(lambda: seeded_dropout(x, p, 123), quantiles=[0.5])
        # Bytes moved: x, keep read and output written; the seeded kernel reads no mask.
        print(f"{n:>12} {3 * x.nbytes / ms_mask * 1e-6:>14.1f} {2 * x.nbytes / ms_seed * 1e-6:>14.1f}")


if __name__ == "__main__":
    run_example(check, bench)
