"""Several threads launching, compiling, reading back, allocating and freeing at once.

Run as a script (tests/test_vk_threads.py does, in a subprocess, so that a crash fails the test
instead of killing the test run): `python tests/thread_stress.py SECONDS THREADS`. Each thread
launches kernels of its own and shared ones (new specializations keep compiling while others
launch), with jitspv arrays and numpy arrays, reads results on the host and drops its arrays so
that frees (and the garbage collector) run on every thread. Every result is compared exactly
with numpy. Prints one line "ok <launches> <compiles>" and exits 0, or exits 1 naming the first
wrong result; validation messages count as failures.
"""
import gc
import sys
import threading
import time

import numpy as np
import triton.language as tl

import jitspv
from jitspv.vk.device import validation_messages


@jitspv.jit
def add_offset(x_ptr, y_ptr, out_ptr, n, OFFSET: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x + y + OFFSET, mask=mask)


@jitspv.jit
def int_mix(x_ptr, out_ptr, n, SHIFT: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, (x << SHIFT) ^ (x >> 1), mask=mask)


@jitspv.autotune(configs=[jitspv.Config({"BLOCK": 64}), jitspv.Config({"BLOCK": 256}, num_warps=2)],
                 key=["n"], warmup=1, rep=2)
@jitspv.jit
def scaled(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 3, mask=mask)


def worker(index, seconds, counts, errors):
    rng = np.random.default_rng(index)
    deadline = time.monotonic() + seconds
    launches = 0
    try:
        while time.monotonic() < deadline and not errors:
            n = int(rng.integers(1, 5000))
            choice = launches % 4
            if choice == 0:
                offset = int(rng.integers(0, 12))      # specializations compile while others launch
                xh = rng.integers(-1000, 1000, n).astype(np.float32)
                yh = rng.integers(-1000, 1000, n).astype(np.float32)
                x, y = jitspv.asarray(xh), jitspv.asarray(yh)
                out = jitspv.full(n, np.nan)
                add_offset[(jitspv.cdiv(n, 128),)](x, y, out, n, OFFSET=offset, BLOCK=128)
                expect, got = xh + yh + offset, out.numpy()
            elif choice == 1:
                shift = int(rng.integers(0, 8))
                xh = rng.integers(-2**20, 2**20, n).astype(np.int32)
                outh = np.full(n, -1, np.int32)         # a host array: copied in and back per launch
                int_mix[(jitspv.cdiv(n, 256),)](xh, outh, n, SHIFT=shift, BLOCK=256)
                expect, got = (xh << shift) ^ (xh >> 1), outh
            elif choice == 2:
                xh = rng.integers(-1000, 1000, n).astype(np.float32)
                x = jitspv.asarray(xh)
                out = jitspv.full(n, np.nan)
                scaled[lambda meta: (jitspv.cdiv(n, meta["BLOCK"]),)](x, out, n)
                expect, got = xh * 3, out.numpy()
            else:
                # Two launches chained through a device array, then a sync from this thread.
                xh = rng.integers(-1000, 1000, n).astype(np.float32)
                x = jitspv.asarray(xh)
                mid, out = jitspv.full(n, np.nan), jitspv.full(n, np.nan)
                add_offset[(jitspv.cdiv(n, 128),)](x, x, mid, n, OFFSET=1, BLOCK=128)
                add_offset[(jitspv.cdiv(n, 128),)](mid, x, out, n, OFFSET=2, BLOCK=128)
                jitspv.synchronize()
                expect, got = 3 * xh + 3, out.numpy()
            launches += 1
            if launches % 5 == 0:
                # An array kept alive by a reference cycle: the cyclic collector frees it on
                # whichever thread it runs, maybe in the middle of another thread's allocation.
                cycle = [jitspv.empty(int(rng.integers(1, 100_000)))]
                cycle.append(cycle)
                del cycle
                if index == 0:
                    gc.collect()
            if not np.array_equal(got, expect):
                bad = int(np.flatnonzero(got != expect)[0])
                errors.append(f"thread {index} launch {launches} kind {choice} n={n}: element {bad} "
                              f"is {got[bad]}, expected {expect[bad]}")
    except BaseException as e:  # noqa: BLE001 - reported by the main thread
        errors.append(f"thread {index}: {type(e).__name__}: {e}")
    counts[index] = launches


def main():
    seconds, threads = float(sys.argv[1]), int(sys.argv[2])
    counts, errors = [0] * threads, []
    pool = [threading.Thread(target=worker, args=(i, seconds, counts, errors)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    jitspv.synchronize()
    errors += validation_messages()
    if errors:
        print("\n".join(errors[:20]))
        sys.exit(1)
    compiled = len(add_offset._compiled) + len(int_mix._compiled) + len(scaled.fn._compiled)
    print(f"ok {sum(counts)} {compiled}")


if __name__ == "__main__":
    main()
