"""Atomics (tt.atomic_rmw, tt.atomic_cas) on lavapipe: contention, masks, replicas, scalar atomics,
returned old values, refusals."""
import time

import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv
from jitspv.frontend.runtime import current_target

rng = np.random.default_rng()

NB = 5   # buckets: many programs and lanes contend on each


@jitspv.jit
def rmw_kernel(target_ptr, val_ptr, old_ptr, n, OP: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    val = tl.load(val_ptr + offs, mask=offs < n)
    # Every third element is masked off on top of the bounds: it must not touch its bucket.
    mask = (offs < n) & (offs % 3 != 1)
    p = target_ptr + offs % 5
    if OP == "add":
        old = tl.atomic_add(p, val, mask=mask)
    elif OP == "max":
        old = tl.atomic_max(p, val, mask=mask)
    elif OP == "min":
        old = tl.atomic_min(p, val, mask=mask, sem="relaxed", scope="cta")
    elif OP == "and":
        old = tl.atomic_and(p, val, mask=mask, sem="acquire")
    elif OP == "or":
        old = tl.atomic_or(p, val, mask=mask, sem="release", scope="sys")
    elif OP == "xor":
        old = tl.atomic_xor(p, val, mask=mask)
    else:
        old = tl.atomic_xchg(p, val, mask=mask)
    tl.store(old_ptr + offs, old, mask=mask)


def _buckets(n):
    offs = np.arange(n)
    return offs % NB, offs % 3 != 1


_NP_REDUCE = {"add": np.add, "max": np.maximum, "min": np.minimum, "and": np.bitwise_and,
              "or": np.bitwise_or, "xor": np.bitwise_xor}


@pytest.mark.parametrize("dtype", [np.int32, np.uint32, np.int64])
@pytest.mark.parametrize("op", ["add", "max", "min", "and", "or", "xor", "xchg"])
def test_atomic_rmw_int_contention(op, dtype):
    info = np.iinfo(dtype)
    for n, block, warps in [(1000, 64, 4), (333, 16, 4), (2049, 256, 8), (77, 32, 1)]:
        if op in ("and", "or", "xor"):
            vals = rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
        elif op == "add":
            vals = rng.integers(1, 1000, n, dtype=dtype)
        else:
            vals = rng.integers(max(info.min, -1000), 1000, n, dtype=dtype)
        init = rng.integers(max(info.min, -1000), 1000, NB, dtype=dtype)
        target = init.copy()
        old = np.full(n, 0x5A5A5A5A, dtype)
        rmw_kernel[(triton.cdiv(n, block),)](target, vals, old, n, OP=op, BLOCK=block, num_warps=warps)
        bucket, active = _buckets(n)
        assert (old[~active] == 0x5A5A5A5A).all()
        for b in range(NB):
            sel = vals[active & (bucket == b)]
            olds = old[active & (bucket == b)]
            if op == "xchg":
                # Exchanges permute: the old values plus the final value are the initial plus the written ones.
                assert sorted(np.append(olds, target[b])) == sorted(np.append(sel, init[b]))
                continue
            with np.errstate(over="ignore"):
                expect = _NP_REDUCE[op].reduce(np.append(sel, init[b]).astype(dtype))
            assert target[b] == expect, (op, b)
            if op == "add":
                # Values are positive, so sorting by old value gives the order the adds happened in:
                # each old value is the previous one plus the previous addend.
                order = np.argsort(olds, kind="stable")
                chain = np.append(olds[order], target[b])
                assert chain[0] == init[b]
                assert (np.diff(chain.astype(np.int64)) == sel[order]).all()


@jitspv.jit
def counter_kernel(count_ptr, old_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    one = tl.full([BLOCK], 1, tl.int32)
    old = tl.atomic_add(count_ptr + offs * 0, one, mask=offs < n)
    # int64 output: the store's layout differs from the atomic's, so the old values move through
    # workgroup memory, where replicas must hold what their owner got.
    tl.store(old_ptr + offs, old.to(tl.int64), mask=offs < n)
    # Scalar atomic: once per program; every invocation sees the same old value.
    ticket = tl.atomic_add(count_ptr + 1, 1)
    tl.store(old_ptr + n + tl.program_id(0), ticket.to(tl.int64))
    # A masked scalar atomic: only even programs count.
    tl.atomic_add(count_ptr + 2, 1, mask=tl.program_id(0) % 2 == 0)


@pytest.mark.parametrize("block,warps", [(16, 4), (64, 1), (128, 8), (512, 4)])
def test_atomic_counter_old_values(block, warps):
    for n in (1, 37, 1000):
        grid = triton.cdiv(n, block)
        count = np.zeros(3, np.int32)
        old = np.full(n + grid, -1, np.int64)
        counter_kernel[(grid,)](count, old, n, BLOCK=block, num_warps=warps)
        assert count[0] == n and count[1] == grid and count[2] == (grid + 1) // 2
        assert sorted(old[:n].tolist()) == list(range(n))
        assert sorted(old[n:].tolist()) == list(range(grid))


@jitspv.jit
def float_kernel(sum_ptr, max_ptr, min_ptr, val_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(val_ptr + offs, mask=mask)
    tl.atomic_add(sum_ptr + offs % 5, x, mask=mask)
    # Triton lowers float max/min to signed-max / unsigned-min integer atomics (and the reverse for
    # negative values): the result is the float max/min.
    tl.atomic_max(max_ptr + offs % 5, x, mask=mask)
    tl.atomic_min(min_ptr + offs % 5, x, mask=mask)
    tl.atomic_add(sum_ptr + 5, 1.0)


@pytest.mark.parametrize("n,block,warps", [(1000, 64, 4), (4099, 256, 8), (31, 16, 1)])
def test_atomic_float(n, block, warps):
    x = rng.standard_normal(n).astype(np.float32)
    sums = np.zeros(6, np.float32)
    mx = np.full(NB, -np.inf, np.float32)
    mn = np.full(NB, np.inf, np.float32)
    grid = triton.cdiv(n, block)
    float_kernel[(grid,)](sums, mx, mn, x, n, BLOCK=block, num_warps=warps)
    bucket = np.arange(n) % NB
    for b in range(NB):
        sel = x[bucket == b].astype(np.float64)
        np.testing.assert_allclose(sums[b], sel.sum(), rtol=1e-5, atol=1e-4 * np.sqrt(sel.size))
        assert mx[b] == sel.max() and mn[b] == sel.min()
    assert sums[5] == grid


@jitspv.jit
def cas_kernel(flag_ptr, old_ptr, xval_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ids = offs + 1
    # Every lane tries to claim its bucket; exactly one wins (sees 0), the others see the winner.
    old = tl.atomic_cas(flag_ptr + offs % 5, tl.zeros([BLOCK], tl.int32), ids)
    tl.store(old_ptr + offs, old, mask=offs < n)
    # Float compare-exchange and exchange go through integer bit patterns.
    f = tl.atomic_cas(xval_ptr, 0.0, 1.5)
    g = tl.atomic_xchg(xval_ptr + 1 + offs % 2, f + offs.to(tl.float32))
    tl.store(xval_ptr + 3 + offs, g, mask=offs < n)


@pytest.mark.parametrize("block,warps", [(64, 4), (16, 8)])
def test_atomic_cas(block, warps):
    n = block * 7
    flags = np.zeros(NB, np.int32)
    old = np.full(n, -1, np.int32)
    xval = np.full(3 + n, np.nan, np.float32)
    xval[:3] = 0
    cas_kernel[(7,)](flags, old, xval, n, BLOCK=block, num_warps=warps)
    bucket = np.arange(n) % NB
    for b in range(NB):
        olds = old[bucket == b]
        assert flags[b] in np.flatnonzero(bucket == b) + 1
        assert (olds == 0).sum() == 1 and (olds[olds != 0] == flags[b]).all()
    assert xval[0] == 1.5
    # The first program to run (any one: programs run in no fixed order on a GPU) saw 0.0, the
    # others 1.5; exchanges permute what was written.
    got = sorted(np.concatenate([xval[1:3], xval[3:]]).tolist())
    winners = [p for p in range(7)
               if got == sorted([(0.0 if o // block == p else 1.5) + o for o in range(n)] + [0.0, 0.0])]
    assert len(winners) == 1, got


@jitspv.jit
def half_rmw_kernel(target_ptr, val_ptr, old_ptr, n, BF16: tl.constexpr, OP: tl.constexpr, NB: tl.constexpr,
                    BLOCK: tl.constexpr):
    if BF16:   # numpy has no bf16: uint16 arrays hold the bit patterns
        target_ptr = target_ptr.to(tl.pointer_type(tl.bfloat16), bitcast=True)
        val_ptr = val_ptr.to(tl.pointer_type(tl.bfloat16), bitcast=True)
        old_ptr = old_ptr.to(tl.pointer_type(tl.bfloat16), bitcast=True)
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    val = tl.load(val_ptr + offs, mask=offs < n)
    mask = (offs < n) & (offs % 3 != 1)
    p = target_ptr + offs % NB
    if OP == "add":
        old = tl.atomic_add(p, val, mask=mask)
    else:
        # Claim a bucket still holding 0 (bit pattern 0): one lane wins, the others see its value.
        # (tl.atomic_cas has no mask: every lane takes part.)
        old = tl.atomic_cas(p, tl.zeros([BLOCK], p.dtype.element_ty), val)
        mask = offs < n
    tl.store(old_ptr + offs, old, mask=mask)


def _bf16_bits(a):
    """float array -> nearest bf16 bit patterns (ties to even; the test values need no NaN care)."""
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def _half(values, bf16, dtype=np.float16):
    """values -> (array passed to the kernel, function reading such an array as float64)."""
    if bf16:
        return _bf16_bits(values), lambda a: (a.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return np.asarray(values, dtype), lambda a: a.astype(np.float64)


# Float atomic add: fp16/bf16 loop on their 32-bit word; fp32/fp64 use the device's float atomic add
# where it has one and loop on a compare-exchange of their bits where not (lavapipe has no fp64
# atomic add; test_device_limits.py runs these without fp32 ones either).
FLOAT_ADD_TYPES = {"float16": np.float16, "bfloat16": np.float16, "float32": np.float32, "float64": np.float64}


@pytest.mark.parametrize("dtype", sorted(FLOAT_ADD_TYPES))
def test_float_atomic_add_contention(dtype):
    # Five buckets (16-bit: in three 32-bit words, neighbours in one word updated by different lanes
    # at once); every lane's old value must be one step of its bucket's chain of sums. Small
    # integer addends keep every partial sum exact in every type (bf16: up to 256).
    if dtype == "float64" and not current_target().has_float64:
        pytest.skip("the device has no fp64")
    bf16 = dtype == "bfloat16"
    for n, block, warps in [(333, 64, 4), (77, 16, 1), (260, 256, 8)]:
        vals, read = _half(rng.integers(1, 5, n), bf16, FLOAT_ADD_TYPES[dtype])
        init = rng.integers(-20, 20, NB)
        target, _ = _half(init, bf16, FLOAT_ADD_TYPES[dtype])
        old, _ = _half(np.full(n, 77.0), bf16, FLOAT_ADD_TYPES[dtype])
        half_rmw_kernel[(triton.cdiv(n, block),)](target, vals, old, n, BF16=bf16, OP="add", NB=NB,
                                                 BLOCK=block, num_warps=warps)
        bucket, active = _buckets(n)
        assert (read(old[~active]) == 77.0).all()
        for b in range(NB):
            sel, olds = read(vals[active & (bucket == b)]), read(old[active & (bucket == b)])
            assert read(target[b:b + 1])[0] == init[b] + sel.sum(), (b, n)
            order = np.argsort(olds, kind="stable")
            chain = np.append(olds[order], read(target[b:b + 1]))
            assert chain[0] == init[b] and (np.diff(chain) == sel[order]).all()


@pytest.mark.parametrize("dtype", sorted(FLOAT_ADD_TYPES))
def test_float_atomic_add_rounds_once(dtype):
    # One lane per element (odd count, odd offsets: 16-bit ones in both halves of words, a word half
    # outside the array): the sum of random values rounds once to the element type, as Triton's does.
    if dtype == "float64" and not current_target().has_float64:
        pytest.skip("the device has no fp64")
    bf16, np_t = dtype == "bfloat16", FLOAT_ADD_TYPES[dtype]
    n = 1001
    x, y = rng.standard_normal(n) * 8, rng.standard_normal(n) * 8
    target, read = _half(x, bf16, np_t)
    vals, _ = _half(y, bf16, np_t)
    # One rounding to the type: exact in float64 for 16-bit types (bf16: via f32, exact here), fp32's
    # double rounding through float64 is innocuous, fp64's is numpy's own add.
    expect = read(_half(read(target) + read(vals), bf16, np_t)[0])
    before = target.copy()
    old, _ = _half(np.full(n, np.nan), bf16, np_t)
    half_rmw_kernel[(triton.cdiv(n, 128),)](target, vals, old, n, BF16=bf16, OP="add", NB=1 << 30,
                                            BLOCK=128, num_warps=4)
    active = np.arange(n) % 3 != 1
    assert (read(target)[active] == expect[active]).all()
    assert (target[~active] == before[~active]).all()
    assert (read(old)[active] == read(before)[active]).all() and np.isnan(read(old)[~active]).all()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int16"])
def test_half_atomic_cas(dtype):
    n, block = 640, 64
    bf16, np_t = dtype == "bfloat16", np.int16 if dtype == "int16" else np.float16
    vals, read = _half(np.arange(1, n + 1) % 200 + 1, bf16, np_t)   # never 0: a winner is visible
    target, _ = _half(np.zeros(NB), bf16, np_t)
    old, _ = _half(np.full(n, -1.0), bf16, np_t)
    half_rmw_kernel[(n // block,)](target, vals, old, n, BF16=bf16, OP="cas", NB=NB, BLOCK=block, num_warps=4)
    bucket = np.arange(n) % NB
    for b in range(NB):
        won = read(target[b:b + 1])[0]
        olds, sel = read(old[bucket == b]), read(vals[bucket == b])
        assert won in sel and (olds == 0).sum() == 1 and (olds[olds != 0] == won).all()


@jitspv.jit
def scalar_half_add_kernel(p, old_ptr):
    old = tl.atomic_add(p + 1, 0.5)   # once per program, odd element: the high half of word 0
    tl.store(old_ptr + tl.program_id(0), old)


def test_scalar_half_atomic_add():
    target = np.array([3.0, 1.0, -2.0], np.float16)
    old = np.full(9, np.nan, np.float16)
    scalar_half_add_kernel[(9,)](target, old, num_warps=2)
    assert target.tolist() == [3.0, 5.5, -2.0]
    assert sorted(old.tolist()) == [1.0 + 0.5 * k for k in range(9)]


# ---- tl.atomic_load / tl.atomic_store / tl.atomic_poll (Triton >= 3.9) ---------------------------
needs_atomic_load = pytest.mark.skipif(not hasattr(tl, "atomic_load"), reason="this Triton has no tl.atomic_load")
ATOMIC_LS_TYPES = ["bool", "int8", "uint8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64",
                   "float8_e4m3fn"]


@jitspv.jit
def atomic_copy_kernel(src, dst, n, SEM_LOAD: tl.constexpr, SEM_STORE: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    v = tl.atomic_load(src + offs, mask=offs < n, sem=SEM_LOAD)
    tl.atomic_store(dst + offs, v, mask=(offs < n) & (offs % 3 != 1), sem=SEM_STORE)


@needs_atomic_load
@pytest.mark.parametrize("dtype", ATOMIC_LS_TYPES)
def test_atomic_load_store_every_type(dtype):
    # Odd size, neighbours of one 32-bit word written by different lanes (narrow types: the
    # compare-exchange loop must keep the other bytes), every third element left as poisoned.
    torch = pytest.importorskip("torch")
    tdt = getattr(torch, dtype)
    if tdt == torch.float64 and not current_target().has_float64:
        pytest.skip("the device has no fp64")
    n = 301
    if tdt == torch.bool:
        src = torch.from_numpy(rng.random(n) < 0.5)
        dst = torch.from_numpy(rng.random(n) < 0.5)
    elif tdt.is_floating_point:
        src = torch.from_numpy(rng.standard_normal(n) * 4).to(tdt)
        dst = torch.full((n,), -99.0).to(tdt)
    else:
        info = torch.iinfo(tdt)
        src = torch.from_numpy(rng.integers(info.min, info.max, n, endpoint=True)).to(tdt)
        dst = torch.full((n,), 77, dtype=tdt)
    before = dst.clone()
    for sem_load, sem_store, block in [("acquire", "release", 64), ("relaxed", "relaxed", 128)]:
        dst.copy_(before)
        atomic_copy_kernel[(triton.cdiv(n, block),)](src, dst, n, SEM_LOAD=sem_load, SEM_STORE=sem_store,
                                                    BLOCK=block, num_warps=2)
        kept = torch.arange(n) % 3 == 1
        bits = (lambda t: t.view(torch.uint8)) if tdt.itemsize == 1 else (lambda t: t)
        assert torch.equal(bits(dst[~kept]), bits(src[~kept])), dtype
        assert torch.equal(bits(dst[kept]), bits(before[kept])), dtype


@jitspv.jit
def scalar_atomic_ls_kernel(p, out):
    v = tl.atomic_load(p + 1, sem="relaxed", scope="cta")
    tl.atomic_store(out + tl.program_id(0), v + 1, sem="release", scope="sys")


@needs_atomic_load
def test_scalar_atomic_load_store():
    p = np.array([5, 41, 7], np.int32)
    out = np.full(5, -1, np.int32)
    scalar_atomic_ls_kernel[(5,)](p, out, num_warps=4)
    assert out.tolist() == [42] * 5


@jitspv.jit
def poll_kernel(flags, expect_add, out, TIMEOUT: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    if TIMEOUT is None:
        m = tl.atomic_poll(flags + offs, offs + expect_add)
    else:
        m = tl.atomic_poll(flags + offs, offs + expect_add, timeout_ns=TIMEOUT, sem="relaxed")
    tl.store(out + offs, m)
    s = tl.atomic_poll(flags, expect_add, sem="acquire", scope="gpu")   # scalar: flags[0] == expect_add
    tl.store(out + BLOCK, s)


@needs_atomic_load
@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint16])
def test_atomic_poll_matches_and_times_out(dtype):
    block = 64
    flags = np.arange(1, block + 1).astype(dtype)
    out = np.full(block + 1, 7, np.int8)
    poll_kernel[(1,)](flags, 1, out, TIMEOUT=None, BLOCK=block, num_warps=4)   # every flag already there
    assert (out == 1).all()
    flags[rng.random(block) < 0.5] = 0
    flags[0] = 1
    out[:] = 7
    poll_kernel[(1,)](flags, 1, out, TIMEOUT=0, BLOCK=block, num_warps=4)    # one load each: matched or not
    assert out[:block].tolist() == [int(f == i + 1) for i, f in enumerate(flags)] and out[block] == 1


@jitspv.jit
def poll_budget_kernel(flags, out, timeout_ns, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out + offs, tl.atomic_poll(flags + offs, 1, timeout_ns=timeout_ns))


@needs_atomic_load
def test_atomic_poll_spends_its_time_budget():
    # A flag nobody sets: the poll ends unmatched once the budget (measured by the device's shader
    # clock, its rate measured by jitspv) is spent, not before; matched flags report true.
    if not current_target().has_device_clock:
        pytest.skip("the device has no Device-scope shader clock")
    flags = np.ones(32, np.int32)
    flags[5] = flags[20] = 0
    out = np.full(32, 7, np.int8)
    poll_budget_kernel[(1,)](flags, out, 16, BLOCK=32)   # compiled (and the clock measured) first
    for budget_ms in (30, 120):
        out[:] = 7
        start = time.perf_counter()
        poll_budget_kernel[(1,)](flags, out, budget_ms * 10**6, BLOCK=32)
        took = time.perf_counter() - start
        assert out.tolist() == [int(f == 1) for f in flags]
        assert 0.9 * budget_ms * 1e-3 <= took < budget_ms * 1e-3 + 10, (budget_ms, took)


@jitspv.jit
def message_kernel(payload, flag, seen, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    if tl.program_id(0) == 0:   # the producer: payload, then the flag with release semantics
        tl.store(payload + offs, offs * 3 + 1)
        tl.atomic_store(flag, 1, sem="release")
    else:                       # the consumer: waits for the flag (acquire), then reads the payload
        tl.atomic_poll(flag, 1, sem="acquire")
        tl.store(seen + offs, tl.load(payload + offs))


@needs_atomic_load
def test_message_passing_through_a_poll():
    # Program 0 runs first wherever programs run one after another (lavapipe on one thread), so the
    # poll always ends.
    block = 128
    payload, seen = np.zeros(block, np.int32), np.full(block, -1, np.int32)
    flag = np.zeros(1, np.int32)
    message_kernel[(2,)](payload, flag, seen, BLOCK=block, num_warps=4)
    assert seen.tolist() == (np.arange(block) * 3 + 1).tolist() and flag[0] == 1


# ---- random numbers: Triton's Philox, bit for bit ------------------------------------------------
_PHILOX_KEY = (0x9E3779B9, 0xBB67AE85)
_PHILOX_ROUND = (0xD2511F53, 0xCD9E8D57)


def _umulhi(a, b):
    return ((np.uint64(a) * b.astype(np.uint64)) >> np.uint64(32)).astype(np.uint32)


def philox_numpy(seed, offsets, n_rounds):
    """triton.language.random.randint4x for a scalar seed and int offsets, in numpy (uint32 x 4)."""
    seed &= (1 << 64) - 1
    k0, k1 = seed & 0xFFFFFFFF, seed >> 32
    offsets = np.asarray(offsets, np.int64)
    c0 = (offsets & 0xFFFFFFFF).astype(np.uint32)
    c1 = ((offsets >> 32) & 0xFFFFFFFF).astype(np.uint32)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    a, b = _PHILOX_ROUND
    with np.errstate(over="ignore"):
        for _ in range(n_rounds):
            c0, c1, c2, c3 = (_umulhi(b, c2) ^ c1 ^ np.uint32(k0), np.uint32(b) * c2,
                              _umulhi(a, c0) ^ c3 ^ np.uint32(k1), np.uint32(a) * c0)
            k0 = (k0 + _PHILOX_KEY[0]) & 0xFFFFFFFF
            k1 = (k1 + _PHILOX_KEY[1]) & 0xFFFFFFFF
    return c0, c1, c2, c3


def uniform_numpy(x):
    """triton.language.random.uint_to_uniform_float for uint32 x."""
    i = x.view(np.int32)
    i = np.where(i < 0, ~i, i)
    return i.astype(np.float32) * np.float32(4.6566127342e-10)


@jitspv.jit
def rand_kernel(int_ptr, float_ptr, seed, offset_base, n, N_ROUNDS: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    r_offs = offset_base + offs
    i0, i1, i2, i3 = tl.randint4x(seed, r_offs, N_ROUNDS)
    tl.store(int_ptr + offs, i0, mask=mask)
    tl.store(int_ptr + n + offs, i1, mask=mask)
    tl.store(int_ptr + 2 * n + offs, i2, mask=mask)
    tl.store(int_ptr + 3 * n + offs, i3, mask=mask)
    tl.store(int_ptr + 4 * n + offs, tl.randint(seed, r_offs, N_ROUNDS), mask=mask)
    tl.store(float_ptr + offs, tl.rand(seed, r_offs, N_ROUNDS), mask=mask)
    tl.store(float_ptr + n + offs, tl.randn(seed, r_offs, N_ROUNDS), mask=mask)


@pytest.mark.parametrize("seed,offset_base,n_rounds,block,warps", [
    (12345, 0, 10, 128, 4),
    (-7, 1000, 10, 16, 4),                 # negative seed: sign-extended to 64 bits as Triton does
    (2**40 + 99, 2**33 + 5, 10, 512, 8),   # 64-bit seed and offsets: both Philox key and counter words
    (987654321, 3, 7, 64, 1),
])
def test_rand_matches_triton_philox(seed, offset_base, n_rounds, block, warps):
    n = int(rng.integers(1, 3000))
    ints = np.full(5 * n, 0xDEADBEEF, np.uint32)
    floats = np.full(2 * n, np.nan, np.float32)
    rand_kernel[(triton.cdiv(n, block),)](ints, floats, seed, offset_base, n, N_ROUNDS=n_rounds, BLOCK=block,
                                          num_warps=warps)
    streams = philox_numpy(seed, offset_base + np.arange(n), n_rounds)
    for k in range(4):
        np.testing.assert_array_equal(ints[k * n:(k + 1) * n], streams[k])
    np.testing.assert_array_equal(ints[4 * n:], streams[0])
    u1, u2 = uniform_numpy(streams[0]), uniform_numpy(streams[1])
    np.testing.assert_array_equal(floats[:n], u1)
    # randn is Box-Muller on log/sqrt/cos, which match numpy only to the device's math accuracy.
    r = np.sqrt(-2.0 * np.log(np.maximum(np.float32(1e-7), u1).astype(np.float64)))
    normal = r * np.cos(np.float32(6.283185307179586) * u2.astype(np.float64))
    np.testing.assert_allclose(floats[n:], normal, rtol=1e-5, atol=1e-5)
