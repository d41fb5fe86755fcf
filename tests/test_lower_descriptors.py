"""Tensor descriptors (tl.make_tensor_descriptor) through Triton's rewrite to pointers: loads and
stores of 2-D blocks with bounds handled at ragged edges."""
import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv


@jitspv.jit
def scale_blocks(src, dst, M, N, BM: tl.constexpr, BN: tl.constexpr):
    d_in = tl.make_tensor_descriptor(src, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])
    d_out = tl.make_tensor_descriptor(dst, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])
    pm, pn = tl.program_id(0), tl.program_id(1)
    x = d_in.load([pm * BM, pn * BN])
    d_out.store([pm * BM, pn * BN], x * 2 + 1)


@pytest.mark.parametrize("M,N", [(37, 80), (16, 32), (1, 5), (100, 33)])
def test_descriptor_load_store(M, N):
    a = np.random.rand(M, N).astype(np.float32)
    out = np.full_like(a, np.nan)
    scale_blocks[(triton.cdiv(M, 16), triton.cdiv(N, 32))](a, out, M, N, BM=16, BN=32)
    np.testing.assert_array_equal(out, a * 2 + 1)
