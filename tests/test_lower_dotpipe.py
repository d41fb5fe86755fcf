"""Software-pipelined tt.dot K loops (jitspv/lower/prefetch.py): the next K tile's loads are
peeled into the prologue and issued one iteration ahead. Checked on lavapipe against float64
numpy and against num_stages=1 (no pipelining, bit-identical sums): masked ragged K, K smaller
than BLOCK_K, zero-trip loops, unmasked loads (the pass adds the "next iteration exists" mask),
and the rewrite itself on the TTIR (what is peeled, what is left alone)."""
import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv
from jitspv.lower.prefetch import pipeline_dot_loops
from jitspv.ttir.parser import parse

rng = np.random.default_rng()


@jitspv.jit
def matmul(a_ptr, b_ptr, c_ptr, M, N, K, sam, sbk, scm, BM: tl.constexpr, BN: tl.constexpr,
           BK: tl.constexpr, MASK_K: tl.constexpr, SHARE_A: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    a_ptrs = a_ptr + (rm[:, None] % M) * sam + rk[None, :]
    b_ptrs = b_ptr + rk[:, None] * sbk + (rn[None, :] % N)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    total = tl.zeros((BM, BK), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        if MASK_K:
            a = tl.load(a_ptrs, mask=rk[None, :] < K - k * BK, other=0.0)
            b = tl.load(b_ptrs, mask=rk[:, None] < K - k * BK, other=0.0)
        else:
            a = tl.load(a_ptrs)
            b = tl.load(b_ptrs)
        if SHARE_A:      # the A tile has a second user: only the B load is pipelined
            total += a
        acc = tl.dot(a, b, acc, input_precision="ieee")
        a_ptrs += BK
        b_ptrs += BK * sbk
    if SHARE_A:
        acc += tl.sum(total, axis=1)[:, None]
    tl.store(c_ptr + rm[:, None] * scm + rn[None, :], acc, mask=(rm[:, None] < M) & (rn[None, :] < N))


def _run(a, b, BM, BN, BK, num_stages, num_warps, mask_k=True, share_a=False):
    M, K = a.shape
    N = b.shape[1]
    c = np.full((M, N), np.nan, np.float32)
    grid = (triton.cdiv(M, BM), triton.cdiv(N, BN))
    matmul[grid](a, b, c, M, N, K, max(K, 1), N, N, BM=BM, BN=BN, BK=BK, MASK_K=mask_k, SHARE_A=share_a,
                 num_warps=num_warps, num_stages=num_stages)
    return c


# (M, N, K, BM, BN, BK, num_warps): ragged K (several steps, last one partial), K < BLOCK_K,
# K == 0 (zero-trip loop: C is all zeros), tiles smaller than the workgroup, odd M/N.
CASES = [(37, 45, 70, 32, 32, 16, 4), (19, 70, 5, 16, 64, 16, 1), (33, 17, 0, 32, 16, 8, 4),
         (65, 129, 129, 64, 128, 16, 8), (8, 8, 200, 8, 8, 32, 4)]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}x{c[1]}x{c[2]}-w{c[6]}" for c in CASES])
def test_pipelined_masked_k_loop(case):
    M, N, K, BM, BN, BK, w = case
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    piped = _run(a, b, BM, BN, BK, 2, w)
    plain = _run(a, b, BM, BN, BK, 1, w)
    assert np.abs(piped - ref).max() <= 1e-5 * max(1.0, np.abs(ref).max())
    np.testing.assert_array_equal(piped, plain)


@pytest.mark.parametrize("K", [0, 16, 48])
def test_pipelined_unmasked_loads(K):
    # Unmasked loads get the pass's own mask: the load one step past the end must not happen
    # (the operands end exactly at K; the validation layer and NaN poisoning catch strays).
    M, N = 24, 40
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    c = _run(a, b, 32, 64, 16, 3, 4, mask_k=False)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    assert np.abs(c - ref).max() <= 1e-5 * max(1.0, np.abs(ref).max())


def test_second_user_of_a_tile_keeps_its_load():
    M, N, K = 20, 30, 50
    a = rng.standard_normal((M, K)).astype(np.float32)
    b = rng.standard_normal((K, N)).astype(np.float32)
    c = _run(a, b, 32, 32, 16, 2, 4, share_a=True)
    # Rows of A past K within the last tile are masked to 0, so the running sum is the row sum.
    ref = a.astype(np.float64) @ b.astype(np.float64) + a.astype(np.float64).sum(axis=1)[:, None]
    assert np.abs(c - ref).max() <= 1e-5 * max(1.0, np.abs(ref).max())


def _loop_shape(share_a, num_stages):
    """(loads before the loop, loads in the loop, loop-carried values) after the pass."""
    k = matmul.warmup(np.float32, np.float32, np.float32, 40, 40, 40, 40, 40, 40, grid=(1,), BM=32, BN=32,
                      BK=16, MASK_K=True, SHARE_A=share_a)
    func = [f for f in parse(k.asm["ttir"]).functions if f.visibility == "public"][0]
    pipeline_dot_loops(func, num_stages)
    top = func.body.blocks[0].operations
    loop = next(op for op in top if op.name == "scf.for")
    inside = [op for op in loop.walk() if op.name == "tt.load"]
    return sum(op.name == "tt.load" for op in top), len(inside), len(loop.operands) - 3


def test_rewrite_peels_the_loads_and_carries_the_tiles():
    assert _loop_shape(False, 1) == (0, 2, 3)          # a_ptrs, b_ptrs, acc
    assert _loop_shape(False, 2) == (2, 2, 5)          # + the A and B tiles
    assert _loop_shape(True, 2) == (1, 2, 5)           # + total, B tile; A has a second user: stays
