"""Vector width decisions: a 16-byte access is emitted only where the axis analysis proves the
address aligned. Lavapipe tolerates misaligned vector loads, NVIDIA does not (it silently reads
the aligned-down address), so these tests check the generated code, not only the results."""
import re

import numpy as np
import pytest
import triton.language as tl

import jitspv


@jitspv.jit
def rows_copy(src, dst, n_rows, stride, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    cols = tl.arange(0, BLOCK_N)
    for i in range(0, n_rows, BLOCK_M):
        rows = i + tl.arange(0, BLOCK_M)
        mask = rows[:, None] < n_rows    # uniform along a row: only alignment limits the width
        offs = rows[:, None] * stride + cols[None, :]
        tl.store(dst + offs, tl.load(src + offs, mask=mask, other=0.0), mask=mask)


def _access_alignments(compiled):
    return [int(a) for a in re.findall(r"OpLoad %\w+ %\w+ Aligned(?:\|\w+)* (\d+)", compiled.asm["spvasm"])]


@pytest.mark.parametrize("stride,vector", [(1000, False), (1024, True), (1003, False)])
def test_row_stride_decides_vector_width(stride, vector):
    n_rows = 37
    a = np.random.rand(n_rows, stride).astype(np.float32)
    out = np.full_like(a, np.nan)
    k = rows_copy.warmup(a, out, n_rows, stride, BLOCK_M=8, BLOCK_N=512, grid=(1,))
    aligns = _access_alignments(k)
    assert aligns, "no loads found"
    # A stride not divisible by 16 elements (1000 is divisible by 8, which Triton does not
    # specialize on) leaves rows 1, 2, ... only 4-byte aligned.
    assert (max(aligns) == 16) == vector, aligns
    rows_copy[(1,)](a, out, n_rows, stride, BLOCK_M=8, BLOCK_N=512)
    np.testing.assert_array_equal(out[:, :512], a[:, :512])
    assert np.isnan(out[:, 512:]).all()


@jitspv.jit
def halves_through_loop(src, dst, n, steps, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(src + offs, mask=mask, other=1.0)     # masked 16-byte loads: 8 halves each
    for _ in range(steps):
        x = x * 0.5 + 1.0                      # carried by the loop: pairs of halves in a u32 phi each
    tl.store(dst + offs, x, mask=mask)


def _phi_types(compiled):
    return re.findall(r"= OpPhi %(\w+)", compiled.asm["spvasm"])


@pytest.mark.parametrize("dtype", [np.float16, "bf16"])
def test_16_bit_values_cross_loops_in_pairs_and_masked_vectors_merge_whole(dtype):
    """A loop carries 16-bit tensor registers two to a u32 phi (NVIDIA gives a 16-bit phi a 32-bit
    register of its own), and a masked vector load merges its loaded vector in one phi (not one per
    element); the results are the same."""
    from triton.runtime.jit import TensorWrapper
    n, block, steps = 16 * int(np.random.randint(6, 15)), 256, 3   # masked, in whole 16-element runs
    x = (np.random.rand(n) * 8).astype(np.float32)
    if dtype == "bf16":
        bits = (x.view(np.uint32) >> 16).astype(np.uint16)   # truncated to bf16
        x = (bits.astype(np.uint32) << 16).view(np.float32)
        src, out = TensorWrapper(bits, tl.bfloat16), np.full(n, 0x7FC1, np.uint16)
        dst = TensorWrapper(out, tl.bfloat16)
    else:
        x = x.astype(np.float16).astype(np.float32)
        src, out = x.astype(np.float16), np.full(n, np.nan, np.float16)
        dst = out
    k = halves_through_loop.warmup(src, dst, n, steps, BLOCK=block, grid=(1,), num_warps=1)
    phis = _phi_types(k)
    # 32 invocations x 8 elements: the load's branch merges one 16-byte vector, the loop carries 4
    # u32 pairs and its counter; no phi of a half (or of bf16's f32).
    assert sorted(phis) == ["uint"] * 5 + ["v4uint"], phis
    halves_through_loop[(1,)](src, dst, n, steps, BLOCK=block, num_warps=1)
    want = x.astype(np.float64)
    for _ in range(steps):
        want = want * 0.5 + 1.0
    got = (out.astype(np.uint32) << 16).view(np.float32) if dtype == "bf16" else out.astype(np.float32)
    np.testing.assert_allclose(got, want, rtol=2 ** -6 if dtype == "bf16" else 2 ** -9)   # a rounding per step


@jitspv.jit
def masked_axpy(x, y, out, n, a, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n     # n not a multiple of 16: the mask's bits are not known equal over 4 elements
    tl.store(out + offs, a * tl.load(x + offs, mask=mask, other=7.0) + tl.load(y + offs, mask=mask), mask=mask)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int8])
@pytest.mark.parametrize("n", [1, 13, 1000 + 3, 4099])
def test_masked_access_is_one_vector_where_the_whole_group_is_in_the_mask(dtype, n):
    """An aligned, contiguous group of registers whose mask bits are not known equal is one 16-byte
    access where all of them are true (the interior) and goes element by element otherwise (the
    ragged edge): the results match numpy at the edge, and nothing past n is written."""
    x, y = (np.random.randint(-50, 50, n + 64).astype(dtype) for _ in range(2))
    out = np.full(n + 64, 99, dtype)
    k = masked_axpy.warmup(x, y, out, n, 3, BLOCK=256, grid=(1,))
    asm = k.asm["spvasm"]
    assert max(_access_alignments(k)) == 16, "no 16-byte load"
    assert re.search(r"OpStore %\w+ %\w+ Aligned(?:\|\w+)* 16", asm), "no 16-byte store"
    masked_axpy[(jitspv.cdiv(n, 256),)](x, y, out, n, 3, BLOCK=256)
    want = (3 * x[:n].astype(np.int64) + y[:n]).astype(dtype)
    np.testing.assert_array_equal(out[:n], want)
    assert (out[n:] == 99).all()


@jitspv.jit
def low_bytes(src, dst, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    # 8-byte slots seen as bytes: consecutive offsets are 8 bytes apart, never one vector access.
    lo = tl.load((src + offs).to(tl.pointer_type(tl.int8)))
    tl.store((dst + offs).to(tl.pointer_type(tl.int8)), lo + 1)


def test_a_pointer_seen_with_a_narrower_element_type_is_not_contiguous():
    src = np.random.randint(-100, 100, 64).astype(np.int64)
    dst = np.full(64, -1, np.int64)
    low_bytes[(1,)](src, dst, BLOCK=64)
    want = np.full(64, -1, np.int64).view(np.int8).reshape(64, 8)
    want[:, 0] = src.view(np.int8).reshape(64, 8)[:, 0] + 1
    np.testing.assert_array_equal(dst.view(np.int8).reshape(64, 8), want)
