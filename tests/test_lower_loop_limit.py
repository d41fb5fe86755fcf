"""Lavapipe before Mesa 25 ends every loop of an invocation once all its loops together made 65535
passes (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS; each loop's pass that finds its condition false counts
too). jitspv counts the passes there, and a loop that ends at the limit raises DeviceLoopLimitError
at the next sync instead of returning a silently truncated result; a constant trip count beyond the
limit is refused at compile time. Other devices (lavapipe of Mesa 25 included: scripts/test.sh runs
this file on both) get no counter, and run the same loops to the end."""
import dataclasses

import numpy as np
import pytest
import triton.language as tl

import jitspv
from jitspv.frontend import runtime as rt
from jitspv.frontend.compiled import DeviceLoopLimitError
from jitspv.frontend.jit import lower_ttir
from jitspv.frontend.triton_bridge import TtirOptions
from jitspv.lower import LoweringError
from jitspv.lower.spirv import disassemble

LIMIT = 65535
limited = pytest.mark.skipif(not rt.current_target().loop_pass_limit,
                             reason="the device has no loop limit (lavapipe of Mesa >= 25, GPUs)")
unlimited = pytest.mark.skipif(bool(rt.current_target().loop_pass_limit),
                               reason="the device stops loops (lavapipe before Mesa 25)")
# (n1, n2, KIND) of `loops` whose passes reach the limit.
BEYOND_THE_LIMIT = [(100000, 0, 0), (40000, 40000, 0), (3, 30000, 1), (70000, 0, 2)]


@jitspv.jit
def loops(o_ptr, n1, n2, KIND: tl.constexpr):
    acc = 0
    if KIND == 0:      # two loops one after the other
        for i in range(n1):
            acc += 1
        for j in range(n2):
            acc += 2
    elif KIND == 1:    # nested: n1 outer passes of n2 inner ones
        for i in range(n1):
            for j in range(n2):
                acc += 1
    else:              # while loop
        i = 0
        while i < n1:
            i += 1
            acc += 3
    tl.store(o_ptr + tl.program_id(0), acc)


def _run(n1, n2, kind):
    out = jitspv.full((3,), -7, np.int32)
    loops[(3,)](out, n1, n2, KIND=kind, num_warps=1)
    return out.numpy()


def _reference(n1, n2, kind):
    return (n1 + 2 * n2, n1 * n2, 3 * n1)[kind]


@limited
@pytest.mark.parametrize("n1, n2, kind, want", [
    (30000, 30001, 0, 30000 + 2 * 30001),     # 30001 + 30002 passes
    (2, 30000, 1, 60000),                     # 3 + 2 * 30001 passes
    (65000, 0, 2, 3 * 65000),
    (65532, 0, 0, 65532),                     # 65533 + 1 passes: just below the limit
])
def test_loops_below_the_limit_are_exact(n1, n2, kind, want):
    np.testing.assert_array_equal(_run(n1, n2, kind), [want] * 3)


@limited
@pytest.mark.parametrize("n1, n2, kind", BEYOND_THE_LIMIT)
def test_loop_reaching_the_limit_raises_at_sync(n1, n2, kind):
    with pytest.raises(DeviceLoopLimitError, match="LP_MAX_TGSI_LOOP_ITERATIONS") as err:
        _run(n1, n2, kind)
    assert err.value.file == __file__ and err.value.function == "loops"
    assert "for " in open(__file__).read().splitlines()[err.value.line - 1] or kind == 2
    # The process stays usable, and the record was cleared.
    np.testing.assert_array_equal(_run(1000, 7, 0), [1014] * 3)


@unlimited
@pytest.mark.parametrize("n1, n2, kind", BEYOND_THE_LIMIT)
def test_loops_beyond_the_limit_run_to_the_end_where_there_is_none(n1, n2, kind):
    np.testing.assert_array_equal(_run(n1, n2, kind), [_reference(n1, n2, kind)] * 3)


@jitspv.jit
def constant_loop(o_ptr, N: tl.constexpr):
    acc = 0
    for i in range(N):
        acc += i
    tl.store(o_ptr, acc)


@limited
def test_constant_trip_count_beyond_the_limit_is_refused():
    out = np.zeros(1, np.int32)
    with pytest.raises(LoweringError, match="runs 70000 iterations") as err:
        constant_loop[(1,)](out, N=70000)
    assert "for i in range(N)" in str(err.value)
    constant_loop[(1,)](out, N=1000)
    assert out[0] == 999 * 1000 // 2


@unlimited
def test_constant_trip_count_beyond_the_limit_runs_where_there_is_none():
    out = np.full(1, -7, np.int32)
    constant_loop[(1,)](out, N=70000)
    assert out[0] == np.int64(69999 * 70000 // 2).astype(np.int32)   # int32 wraps, as in Triton


def test_no_counting_without_the_limit():
    ttir = loops.warmup(np.int32, 5, 5, KIND=1, grid=(1,)).asm["ttir"]
    options = TtirOptions(num_warps=1)
    target = rt.current_target()
    free = lower_ttir(ttir, dataclasses.replace(target, loop_pass_limit=0), options)
    counted = lower_ttir(ttir, dataclasses.replace(target, loop_pass_limit=LIMIT), options)
    assert free.asserts == [] and "assert_record" not in free.hidden
    assert "DontUnroll" not in disassemble(free.spirv)
    assert [s["kind"] for s in counted.asserts] == ["loop_limit"] * 2
    assert disassemble(counted.spirv).count("DontUnroll") == 2


@pytest.mark.parametrize("name, info, limit", [
    ("llvmpipe", "Mesa 22.3.6 (LLVM 15.0.6)", LIMIT), ("llvmpipe", "Mesa 24.2.8-1 (LLVM 19.1.4)", LIMIT),
    ("llvmpipe", "Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)", 0), ("NVIDIA", "580.159.04", 0),
    ("llvmpipe", "", 0)])
def test_limit_from_the_driver(name, info, limit):
    assert rt.loop_pass_limit(name, info) == limit
