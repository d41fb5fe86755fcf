"""Kernel arguments that do not fit in push constants travel in a device buffer whose address is
the only push constant (lavapipe has 128 bytes of push constants: 17 pointers need 136)."""
import dataclasses
import struct

import numpy as np
import pytest
import triton.language as tl

import jitspv
from jitspv.frontend import runtime as rt
from jitspv.frontend.jit import lower_ttir
from jitspv.frontend.triton_bridge import TtirOptions


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


@jitspv.jit
def small_dot(a, b, c, M: tl.constexpr):
    r = tl.arange(0, M)
    x = tl.load(a + r[:, None] * M + r[None, :])
    y = tl.load(b + r[:, None] * M + r[None, :])
    tl.store(c + r[:, None] * M + r[None, :], tl.dot(x, y))


def test_assert_record_member_a_kernel_did_not_need_stays_padding():
    """Where the device limits loop passes, a tl.dot reserves the assert record's member; a dot small
    enough to need no loop leaves it unused: the block keeps it as padding, the runtime fills nothing."""
    m = 16
    ttir = small_dot.warmup(np.float32, np.float32, np.float32, M=m, grid=(1,)).asm["ttir"]
    target = dataclasses.replace(rt.current_target(), loop_pass_limit=65535)
    lowered = lower_ttir(ttir, target, TtirOptions(num_warps=4))
    assert lowered.asserts == [] and lowered.hidden == {}
    assert lowered.arg_format == "<QQQ8x" and lowered.arg_block_size == 32
    x, y = (np.random.rand(m, m).astype(np.float32) for _ in range(2))
    dx, dy, out = jitspv.asarray(x), jitspv.asarray(y), jitspv.full((m, m), np.nan, np.float32)
    rt.make_pipeline(lowered).launch((1, 1, 1), struct.pack(lowered.arg_format, dx.data_ptr(), dy.data_ptr(),
                                                            out.data_ptr()))
    np.testing.assert_allclose(out.numpy(), x.astype(np.float64) @ y, rtol=1e-5, atol=1e-5)
