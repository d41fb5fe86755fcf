"""Kernel arguments that do not fit in push constants travel in a device buffer whose address is
the only push constant (lavapipe has 128 bytes of push constants: 17 pointers need 136)."""
import numpy as np
import pytest
import triton.language as tl

import jitspv


@jitspv.jit
def sum16(out, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, n, scale,
          BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    acc = tl.load(a0 + offs, mask=m)
    acc += tl.load(a1 + offs, mask=m) * 2 + tl.load(a2 + offs, mask=m) * 3 + tl.load(a3 + offs, mask=m) * 4
    acc += tl.load(a4 + offs, mask=m) * 5 + tl.load(a5 + offs, mask=m) * 6 + tl.load(a6 + offs, mask=m) * 7
    acc += tl.load(a7 + offs, mask=m) * 8 + tl.load(a8 + offs, mask=m) * 9 + tl.load(a9 + offs, mask=m) * 10
    acc += tl.load(a10 + offs, mask=m) * 11 + tl.load(a11 + offs, mask=m) * 12
    acc += tl.load(a12 + offs, mask=m) * 13 + tl.load(a13 + offs, mask=m) * 14
    acc += tl.load(a14 + offs, mask=m) * 15 + tl.load(a15 + offs, mask=m) * 16
    tl.store(out + offs, acc * scale, mask=m)


def test_arguments_beyond_push_constant_limit():
    from jitspv.vk import get_device
    if get_device().properties.max_push_constants_size >= 144:
        pytest.skip("this device's push constants hold the 144-byte argument block (lavapipe's 128 do not)")
    n = 1001
    ins = [np.random.randint(-50, 50, n).astype(np.int32) for _ in range(16)]
    arrays = [jitspv.asarray(a) for a in ins]
    outs = [jitspv.full(n, -7, np.int32) for _ in range(3)]
    compiled = sum16.warmup(outs[0], *arrays, n, 3, grid=(1,), BLOCK=256)
    assert compiled.lowered.arg_block_size > get_device().properties.max_push_constants_size
    assert compiled.lowered.args_in_buffer
    scales = (3, -2, 5)
    for out, scale in zip(outs, scales):   # recorded back to back: each must see its own arguments
        sum16[(jitspv.cdiv(n, 256),)](out, *arrays, n, scale, BLOCK=256)
    base = sum((k + 1) * a for k, a in enumerate(ins))
    for out, scale in zip(outs, scales):
        np.testing.assert_array_equal(out.numpy(), base * scale)
