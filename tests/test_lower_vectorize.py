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
