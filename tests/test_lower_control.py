"""Early `return` inside `if` (Triton emits cf.cond_br / cf.br, jitspv rebuilds scf.if): nested
if/else returns, returns in one arm with code after the `if`, tensors live across the branches,
values returned from a noinline helper's branches, and a block reached from two arms before the
exit (copied into both); tl.map_elementwise of a function that returns early. Each against a Python
reference over every path. Programmatic dependent
launch ops (tutorial 11) and `tl.assume` hints (tutorial 03) are no-ops."""
import inspect

import numpy as np
import pytest
import triton
import triton.language as tl
from triton.language.extra.cuda import gdc_launch_dependents, gdc_wait

import jitspv
from jitspv.ttir.parser import parse

rng = np.random.default_rng()


@jitspv.jit
def nested_if_else_return(x_ptr, o_ptr):
    x = tl.load(x_ptr)
    if x > 0:
        if x > 10:
            tl.store(o_ptr, 2)
            return
        tl.store(o_ptr, 1)
        return
    tl.store(o_ptr, 0)


@pytest.mark.parametrize("x", [-3, 0, 5, 10, 11, 1000])
def test_nested_if_else_return(x):
    o = np.full(1, -7, np.int32)
    nested_if_else_return[(1,)](np.array([x], np.int32), o)
    assert o[0] == (2 if x > 10 else 1 if x > 0 else 0)


@jitspv.jit
def row_scale(x_ptr, o_ptr, flags_ptr, n, BLOCK: tl.constexpr):
    """Liger's pattern: a program whose row needs no work stores a marker and returns early."""
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * n + offs, mask=offs < n, other=0.0)
    flag = tl.load(flags_ptr + row)
    if flag == 0:
        tl.store(o_ptr + row * n + offs, tl.zeros_like(x) - 1.0, mask=offs < n)
        return
    total = tl.sum(x, axis=0)
    if flag == 2:
        tl.store(o_ptr + row * n + offs, x * total, mask=offs < n)
        return
    tl.store(o_ptr + row * n + offs, x + total, mask=offs < n)


@pytest.mark.parametrize("n", [1, 37, 128])
def test_early_returns_with_tensors(n):
    rows = 9
    x = rng.standard_normal((rows, n)).astype(np.float32)
    flags = rng.integers(0, 3, rows).astype(np.int32)
    o = np.full((rows, n), np.nan, np.float32)
    row_scale[(rows,)](x, o, flags, n, BLOCK=128)
    total = x.sum(axis=1, keepdims=True)
    ref = np.where(flags[:, None] == 0, -1.0, np.where(flags[:, None] == 2, x * total, x + total))
    np.testing.assert_allclose(o, ref, rtol=1e-5, atol=1e-5)


@triton.jit(noinline=True)
def _clipped(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi * 2
    return x + 1


@jitspv.jit
def call_returning_helper(x_ptr, o_ptr, lo, hi):
    i = tl.program_id(0)
    tl.store(o_ptr + i, _clipped(tl.load(x_ptr + i), lo, hi))


def test_values_returned_from_branches():
    x = rng.integers(-50, 50, 61).astype(np.int32)
    o = np.full(61, -999, np.int32)
    call_returning_helper[(61,)](x, o, -10, 20)
    np.testing.assert_array_equal(o, np.where(x < -10, -10, np.where(x > 20, 40, x + 1)))


@jitspv.jit
def shared_tail(x_ptr, o_ptr):
    """The block storing o[1] is reached from the outer `if` and past it, before the exit."""
    i = tl.program_id(0)
    a = tl.load(x_ptr + 2 * i)
    b = tl.load(x_ptr + 2 * i + 1)
    if a > 0:
        if b > 0:
            tl.store(o_ptr + 2 * i, a + b)
            return
        tl.store(o_ptr + 2 * i, a - b)
    tl.store(o_ptr + 2 * i + 1, a * b)


def test_block_reached_from_two_arms():
    x = rng.integers(-5, 6, 2 * 40).astype(np.int32)
    o = np.full(2 * 40, -999, np.int32)
    shared_tail[(40,)](x, o)
    a, b = x[0::2], x[1::2]
    ref0 = np.where(a > 0, np.where(b > 0, a + b, a - b), -999)
    ref1 = np.where((a > 0) & (b > 0), -999, a * b)
    np.testing.assert_array_equal(o[0::2], ref0)
    np.testing.assert_array_equal(o[1::2], ref1)


def test_branches_parse_into_blocks_with_successors():
    text = """module {
  tt.func public @k(%arg0: !tt.ptr<i32>, %arg1: i32) {
    %c0_i32 = arith.constant 0 : i32
    %0 = arith.cmpi sgt, %arg1, %c0_i32 : i32
    cf.cond_br %0, ^bb1, ^bb2(%c0_i32 : i32)
  ^bb1:  // pred: ^bb0
    cf.br ^bb2(%arg1 : i32)
  ^bb2(%1: i32):  // 2 preds: ^bb0, ^bb1
    tt.store %arg0, %1 : !tt.ptr<i32>
    tt.return
  }
}"""
    body = parse(text).functions[0].body
    b0, b1, b2 = body.blocks
    cond_br, br = b0.operations[-1], b1.operations[-1]
    assert cond_br.successors == [b1, b2] and cond_br.attributes["operandSegmentSizes"].values == (1, 0, 1)
    assert br.successors == [b2] and br.operands == [body.entry.arguments[1]]
    assert b2.operations[0].operands[1] is b2.arguments[0]


@jitspv.jit
def pdl_axpy(x_ptr, y_ptr, o_ptr, n, BLOCK: tl.constexpr):
    """Tutorial 11's programmatic dependent launch: wait for the previous kernel, then let the next start."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    gdc_wait()
    x = tl.load(x_ptr + offs, mask=offs < n)
    gdc_launch_dependents()
    tl.store(o_ptr + offs, 2 * x + tl.load(y_ptr + offs, mask=offs < n), mask=offs < n)


@jitspv.jit
def pdl_axpy_triton36(x_ptr, y_ptr, o_ptr, n, BLOCK: tl.constexpr):
    """pdl_axpy as Triton 3.6 writes gdc_wait()/gdc_launch_dependents(): PTX inline asm, dummy result."""
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.inline_asm_elementwise("griddepcontrol.wait; // dummy $0", "=r", [], dtype=tl.int32, is_pure=False, pack=1)
    x = tl.load(x_ptr + offs, mask=offs < n)
    tl.inline_asm_elementwise("griddepcontrol.launch_dependents; // dummy $0", "=r", [], dtype=tl.int32,
                              is_pure=True, pack=1)
    tl.store(o_ptr + offs, 2 * x + tl.load(y_ptr + offs, mask=offs < n), mask=offs < n)


@pytest.mark.parametrize("kernel", [pdl_axpy, pdl_axpy_triton36], ids=["ops", "triton36-asm"])
def test_programmatic_dependent_launch_ops_keep_launch_order(kernel):
    n = 1000
    x, y = (jitspv.asarray(rng.standard_normal(n).astype(np.float32)) for _ in range(2))
    mid, out = jitspv.asarray(np.full(n, np.nan, np.float32)), jitspv.asarray(np.full(n, np.nan, np.float32))
    grid = (jitspv.cdiv(n, 256),)
    kernel[grid](x, y, mid, n, BLOCK=256)
    kernel[grid](mid, y, out, n, BLOCK=256)   # reads what the first launch wrote
    np.testing.assert_allclose(out.numpy(), 2 * (2 * x.numpy() + y.numpy()) + y.numpy(), rtol=1e-6)


def test_branches_print_and_parse_back():
    from jitspv.frontend.triton_bridge import parse_mlir
    from jitspv.ttir.printer import print_module
    res = nested_if_else_return.warmup(np.zeros(1, np.int32), np.zeros(1, np.int32), grid=(1,))
    module = parse(res.asm["ttir"])
    assert len(module.functions[0].body.blocks) == 3
    printed = print_module(module, locations=False)
    assert parse_mlir(printed) == parse_mlir(print_module(parse(printed), locations=False))


@jitspv.jit
def assumed_scale(x_ptr, o_ptr, stride, n, BLOCK: tl.constexpr):
    """Tutorial 03's hints: `tl.assume` promises facts about scalars; it computes nothing."""
    pid = tl.program_id(0)
    tl.assume(pid >= 0)
    tl.assume(stride > 0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs * stride, mask=offs < n)
    tl.store(o_ptr + offs, 3 * x, mask=offs < n)


def test_assume_is_a_hint_that_computes_nothing():
    n, stride = 1001, 3
    x = jitspv.asarray(rng.standard_normal(n * stride).astype(np.float32))
    out = jitspv.asarray(np.full(n, np.nan, np.float32))
    compiled = assumed_scale.warmup(x, out, stride, n, BLOCK=128, grid=(1,))
    assert "llvm.intr.assume" in compiled.asm["ttir"]
    assumed_scale[(jitspv.cdiv(n, 128),)](x, out, stride, n, BLOCK=128)
    np.testing.assert_array_equal(out.numpy(), 3 * x.numpy()[::stride])


@triton.jit
def _returns_only_if(x):
    taken = False   # a local, not a constexpr: the branch stays, and so does the path without a return
    if taken:
        return x


@jitspv.jit
def falls_off_without_return(x_ptr, o_ptr, p_ptr, s_ptr, N: tl.constexpr):
    # The helper returns nothing on the path taken: Triton gives ub.poison, any value (jitspv: 0).
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    tl.store(o_ptr + offs, x * 2)
    tl.store(p_ptr + offs, _returns_only_if(x))
    tl.store(s_ptr, _returns_only_if(tl.program_id(0)))


def test_poison_of_a_missing_return_is_a_value():
    n = 64
    x = rng.integers(-1000, 1000, n).astype(np.int32)
    o, p, s = np.full(n, -7, np.int32), np.full(n, -7, np.int32), np.full(1, -7, np.int32)
    kernel = falls_off_without_return[(1,)](x, o, p, s, N=n)
    assert "ub.poison" in kernel.asm["ttir"]
    np.testing.assert_array_equal(o, x * 2)
    assert (p == 0).all() and s[0] == 0


@triton.jit
def _sign_of_difference(x, y):
    if x < y:
        return -1
    elif x == y:
        return 0
    else:
        return 1


@triton.jit
def _divmod_pairs(a0, a1, b0, b1):
    return a0 // b0, a1 // b1, a0 % b0, a1 % b1


@jitspv.jit
def map_elementwise_kernel(x_ptr, y_ptr, s_ptr, q_ptr, r_ptr, N: tl.constexpr):
    offs = tl.arange(0, N)
    x = tl.load(x_ptr + offs)
    y = tl.load(y_ptr + offs)
    tl.store(s_ptr + offs, tl.map_elementwise(_sign_of_difference, x, y))   # early returns: branches
    q, r = tl.map_elementwise(_divmod_pairs, x, y, pack=2)
    tl.store(q_ptr + offs, q)
    tl.store(r_ptr + offs, r)


@pytest.mark.parametrize("n, num_warps", [(128, 4), (8, 4), (512, 1)])
def test_map_elementwise(n, num_warps):
    """tl.map_elementwise of a function that returns early (its body's branches made structured)
    and of one taking two elements of each operand (pack=2), also where an invocation holds fewer
    elements than a pack."""
    x = rng.integers(-1000, 1000, n).astype(np.int32)
    y = rng.integers(-50, 50, n).astype(np.int32)
    y[y == 0] = 7
    s, q, r = (np.full(n, -99, np.int32) for _ in range(3))
    map_elementwise_kernel[(1,)](x, y, s, q, r, N=n, num_warps=num_warps)
    np.testing.assert_array_equal(s, np.sign(x - y))
    want_q = np.trunc(x / y).astype(np.int32)   # Triton's // and % are C's
    np.testing.assert_array_equal(q, want_q)
    np.testing.assert_array_equal(r, x - want_q * y)


_HAS_LICM_HINTS = hasattr(tl, "condition") and "disable_licm" in inspect.signature(tl.range.__init__).parameters


@pytest.mark.skipif(not _HAS_LICM_HINTS, reason="tl.condition / disable_licm are newer than this Triton")
def test_loops_with_licm_disabled():
    # Triton puts the hint in a top-level attribute alias (#loop_annotation = #llvm.loop_annotation<...>)
    # on the scf.for / scf.while: a hint, meaningless here, that must still parse.
    @jitspv.jit
    def sums(x_ptr, o_ptr, n):
        acc = 0.0
        for i in tl.range(0, n, disable_licm=True):
            acc += tl.load(x_ptr + i)
        tl.store(o_ptr, acc)
        j = 0
        while tl.condition(j < n, disable_licm=True):
            j += 2
        tl.store(o_ptr + 1, j.to(tl.float32))

    n = int(rng.integers(3, 200))
    x = rng.standard_normal(n).astype(np.float32)
    o = np.full(2, np.nan, np.float32)
    kernel = sums[(1,)](x, o, n)
    assert "llvm.loop_annotation" in kernel.asm["ttir"]
    np.testing.assert_allclose(o[0], x.astype(np.float64).sum(), rtol=1e-5, atol=1e-5)
    assert o[1] == n + n % 2
