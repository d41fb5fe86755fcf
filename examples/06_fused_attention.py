"""Triton tutorial 06 (fused attention, forward pass), run by jitspv.

The kernel is the tutorial's forward kernel (Flash Attention v2): each program owns BLOCK_M query
rows of one (batch, head), walks the keys/values in BLOCK_N blocks and keeps an online softmax in
base 2 (`tl.exp2`, scale folded into qk_scale = sm_scale * log2(e)) with fp32 running max `m_i`,
sum `l_i` and accumulator; Q, K, V and the output are fp16, P is rounded to fp16 before the
second dot as on CUDA. Causal attention runs the off-diagonal blocks unmasked (STAGE 1) and the
diagonal block masked (STAGE 2). Pointers are plain pointer arithmetic (the tutorial's block
pointers/tensor descriptors lower to the same loads). As in the tutorial, the sequence length
is a multiple of the block sizes. Checks output and log-sum-exp against a float64 numpy
reference; on a GPU (or with --bench) prints TFLOP/s (bench/attention.py compares with Triton-CUDA).

    python examples/06_fused_attention.py [--check | --bench]
"""
import math

import numpy as np
import triton.language as tl

import jitspv
from jitspv.testing import do_bench, run_example


@jitspv.jit
def _attn_fwd_inner(acc, l_i, m_i, q, k_ptrs, v_ptrs, stride_kn, stride_vk, start_m, qk_scale,
                    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, STAGE: tl.constexpr,
                    offs_m, offs_n, N_CTX: tl.constexpr):
    # range of values handled by this stage
    if STAGE == 1:
        lo, hi = 0, start_m * BLOCK_M
    elif STAGE == 2:
        lo, hi = start_m * BLOCK_M, (start_m + 1) * BLOCK_M
        lo = tl.multiple_of(lo, BLOCK_M)
    else:   # causal = False
        lo, hi = 0, N_CTX
    k_ptrs += lo * stride_kn
    v_ptrs += lo * stride_vk
    # loop over k, v and update accumulator
    for start_n in range(lo, hi, BLOCK_N):
        start_n = tl.multiple_of(start_n, BLOCK_N)
        # -- compute qk ----
        k = tl.load(k_ptrs)
        qk = tl.dot(q, k)
        if STAGE == 2:
            mask = offs_m[:, None] >= (start_n + offs_n[None, :])
            qk = qk * qk_scale + tl.where(mask, 0, -1.0e6)
            m_ij = tl.maximum(m_i, tl.max(qk, 1))
            qk -= m_ij[:, None]
        else:
            m_ij = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
            qk = qk * qk_scale - m_ij[:, None]
        p = tl.math.exp2(qk)
        l_ij = tl.sum(p, 1)
        # -- update m_i and l_i
        alpha = tl.math.exp2(m_i - m_ij)
        l_i = l_i * alpha + l_ij
        # -- update output accumulator --
        acc = acc * alpha[:, None]
        v = tl.load(v_ptrs)
        p = p.to(tl.float16)
        acc = tl.dot(p, v, acc)
        # update m_i and l_i
        m_i = m_ij
        k_ptrs += BLOCK_N * stride_kn
        v_ptrs += BLOCK_N * stride_vk
    return acc, l_i, m_i


@jitspv.jit
def _attn_fwd(Q, K, V, sm_scale, M, Out,
              stride_qz, stride_qh, stride_qm, stride_qk,
              stride_kz, stride_kh, stride_kn, stride_kk,
              stride_vz, stride_vh, stride_vk, stride_vn,
              stride_oz, stride_oh, stride_om, stride_on,
              Z, H, N_CTX: tl.constexpr, HEAD_DIM: tl.constexpr,
              BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, STAGE: tl.constexpr):
    tl.static_assert(BLOCK_N <= HEAD_DIM)
    start_m = tl.program_id(0)
    off_hz = tl.program_id(1)
    off_z = off_hz // H
    off_h = off_hz % H
    q_offset = off_z.to(tl.int64) * stride_qz + off_h.to(tl.int64) * stride_qh
    k_offset = off_z.to(tl.int64) * stride_kz + off_h.to(tl.int64) * stride_kh
    v_offset = off_z.to(tl.int64) * stride_vz + off_h.to(tl.int64) * stride_vh
    o_offset = off_z.to(tl.int64) * stride_oz + off_h.to(tl.int64) * stride_oh
    # initialize offsets
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    q_ptrs = Q + q_offset + offs_m[:, None] * stride_qm + offs_d[None, :] * stride_qk
    k_ptrs = K + k_offset + offs_d[:, None] * stride_kk + offs_n[None, :] * stride_kn   # K^T block
    v_ptrs = V + v_offset + offs_n[:, None] * stride_vk + offs_d[None, :] * stride_vn
    o_ptrs = Out + o_offset + offs_m[:, None] * stride_om + offs_d[None, :] * stride_on
    # initialize pointer to m and l
    m_i = tl.zeros([BLOCK_M], dtype=tl.float32) - float("inf")
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32) + 1.0
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    # load scales
    qk_scale = sm_scale
    qk_scale *= 1.44269504  # 1/log(2)
    # load q: it will stay in SRAM throughout
    q = tl.load(q_ptrs)
    # stage 1: off-band
    # For causal = True, STAGE = 3 and _attn_fwd_inner gets 1 as its STAGE
    # For causal = False, STAGE = 1, and _attn_fwd_inner gets 3 as its STAGE
    if STAGE & 1:
        acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, k_ptrs, v_ptrs, stride_kn, stride_vk, start_m, qk_scale,
                                        BLOCK_M, BLOCK_N, 4 - STAGE, offs_m, offs_n, N_CTX)
    # stage 2: on-band
    if STAGE & 2:
        acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, k_ptrs, v_ptrs, stride_kn, stride_vk, start_m, qk_scale,
                                        BLOCK_M, BLOCK_N, 2, offs_m, offs_n, N_CTX)
    # epilogue
    m_i += tl.math.log2(l_i)
    acc = acc / l_i[:, None]
    tl.store(M + off_hz * N_CTX + offs_m, m_i)
    tl.store(o_ptrs, acc.to(Out.type.element_ty))


def attention(q, k, v, causal, sm_scale, BLOCK_M=128, BLOCK_N=32, num_warps=8, o=None, m=None):
    """Forward attention of fp16 (Z, H, N_CTX, HEAD_DIM) arrays; returns (output, M) where M is
    the base-2 log-sum-exp of each scaled score row, float32 (Z * H, N_CTX); o and m may be given."""
    Z, H, N_CTX, HEAD_DIM = q.shape
    assert k.shape == v.shape == q.shape and N_CTX % BLOCK_M == 0 and N_CTX % BLOCK_N == 0
    # The causal diagonal stage walks BLOCK_M keys in BLOCK_N steps (no masks on the loads).
    assert not causal or BLOCK_M % BLOCK_N == 0, "causal attention needs BLOCK_M to be a multiple of BLOCK_N"
    o = jitspv.empty(q.shape, dtype=np.float16) if o is None else o
    m = jitspv.empty((Z * H, N_CTX), dtype=np.float32) if m is None else m
    st = [[s // x.dtype.itemsize for s in x.strides] for x in (q, k, v, o)]
    grid = (N_CTX // BLOCK_M, Z * H, 1)
    _attn_fwd[grid](q, k, v, sm_scale, m, o, *st[0], *st[1], *st[2], *st[3], Z, H,
                    N_CTX=N_CTX, HEAD_DIM=HEAD_DIM, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N,
                    STAGE=3 if causal else 1, num_warps=num_warps)
    return o, m


def reference(q, k, v, causal, sm_scale):
    """float64 numpy: softmax(Q K^T * sm_scale, causal mask) V and the base-2 log-sum-exp."""
    s = np.einsum("zhmd,zhnd->zhmn", q.astype(np.float64), k.astype(np.float64)) * sm_scale
    if causal:
        n = q.shape[2]
        s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
    mx = s.max(-1, keepdims=True)
    p = np.exp(s - mx)
    l = p.sum(-1, keepdims=True)
    o = np.einsum("zhmn,zhnd->zhmd", p / l, v.astype(np.float64))
    lse2 = ((mx + np.log(l))[..., 0] / math.log(2)).reshape(-1, q.shape[2])
    return o, lse2


def check():
    rng = np.random.default_rng()
    for Z, H, N_CTX, HEAD_DIM, causal, BLOCK_M, BLOCK_N, warps in [(1, 2, 128, 32, True, 64, 32, 4),
                                                                   (2, 1, 96, 16, False, 32, 16, 4)]:
        q, k, v = (rng.standard_normal((Z, H, N_CTX, HEAD_DIM)).astype(np.float16) for _ in range(3))
        sm_scale = 0.5
        o, m = attention(jitspv.asarray(q), jitspv.asarray(k), jitspv.asarray(v), causal, sm_scale,
                         BLOCK_M, BLOCK_N, warps)
        o_ref, m_ref = reference(q, k, v, causal, sm_scale)
        err_o = np.abs(o.numpy().astype(np.float64) - o_ref).max()
        err_m = np.abs(m.numpy() - m_ref).max()
        print(f"attention Z={Z} H={H} N_CTX={N_CTX} HEAD_DIM={HEAD_DIM} causal={causal}: max error vs "
              f"numpy (float64) output {err_o:.2e}, log-sum-exp {err_m:.2e}")
        assert err_o <= 1e-2 and err_m <= 1e-3, "result differs from numpy"


def bench():
    rng = np.random.default_rng(0)
    Z, H, HEAD_DIM = 4, 32, 64
    print(f"fused attention forward, fp16, Z={Z} H={H} HEAD_DIM={HEAD_DIM}: TFLOP/s")
    for causal in (False, True):
        for n_ctx in (1024, 2048, 4096):
            q, k, v = (jitspv.asarray(rng.standard_normal((Z, H, n_ctx, HEAD_DIM)).astype(np.float16))
                       for _ in range(3))
            ms = do_bench(lambda: attention(q, k, v, causal, 0.5), quantiles=[0.5])
            flops = 4.0 * Z * H * n_ctx * n_ctx * HEAD_DIM * (0.5 if causal else 1.0)
            print(f"causal={causal!s:5} N_CTX={n_ctx:>5} {flops / ms * 1e-9:>8.2f}")


if __name__ == "__main__":
    run_example(check, bench)
