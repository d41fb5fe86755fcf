"""JITSPV_DEVICE_LIMITS: lavapipe run as if it lacked fp64, int64 atomics, float atomics and the shader clock and had
16 KiB of shared memory and 64 bytes of push constants. The device reads the variable once, so the
tests marked `limited` run in a child pytest (test_on_a_limited_device starts it, with the
validation layer on: features removed are not enabled either, so any use of one is reported), and
are skipped in the parent run."""
import dataclasses
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv
from jitspv.errors import OutOfResources
from jitspv.vk.device import device_limits

LIMITS = "no-fp64,no-int64-atomics,no-float-atomics,no-device-clock,shared=16384,push=64"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
rng = np.random.default_rng()
limited = pytest.mark.skipif(os.environ.get("JITSPV_DEVICE_LIMITS") != LIMITS,
                             reason="runs in the child pytest that test_on_a_limited_device starts")
# Tests elsewhere whose path depends on the limits: the argument buffer, fp32 math without fp64,
# fp32 atomic add without float atomics (a compare-exchange loop).
ELSEWHERE = ["tests/test_lower_args.py", "tests/test_lower_arith.py::test_math_accuracy_f32",
             "tests/test_lower_arith.py::test_math_accuracy_wide_f32",
             "tests/test_lower_memory.py::test_float_atomic_add_contention[float32]",
             "tests/test_lower_memory.py::test_float_atomic_add_rounds_once[float32]"]


def test_on_a_limited_device():
    if os.environ.get("JITSPV_DEVICE_LIMITS"):
        pytest.skip("this is the child run")
    env = dict(os.environ, JITSPV_DEVICE_LIMITS=LIMITS)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", __file__,
                           *ELSEWHERE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    # Every limited test ran: the only skips are this test itself and tests of a Triton feature this
    # Triton lacks (the H200 machine's Triton 3.6 has no tl.atomic_poll).
    skipped = re.findall(r"SKIPPED \[\d+\] [^:]+:\d+: (.*)", proc.stdout)
    assert [s for s in skipped if not s.startswith("this Triton has no ")] == ["this is the child run"], \
        proc.stdout[-4000:]
    assert re.search(r"\b(\d+) passed", summary) and "failed" not in summary, summary


def test_limits_text_is_parsed_and_bad_items_refused():
    assert device_limits("") == ([], {})
    assert device_limits(" no-fp64 , shared=16384,push=128 ") == (["fp64"], {"shared": 16384, "push": 128})
    for bad, needle in (("no-fp32", "'no-fp32'"), ("shared=16k", "'shared=16k'"), ("push=4", "push=N (N >= 8)"),
                        ("fp64", "'fp64'")):
        with pytest.raises(ValueError, match=re.escape(needle)) as err:
            device_limits(bad)
        assert "no-int64-atomics" in str(err.value)   # the message lists what is accepted


def test_removing_a_required_feature_refuses_the_device():
    code = "import jitspv.vk\ntry:\n    jitspv.vk.get_device()\nexcept jitspv.DeviceNotSupported as e:\n    print(e)"
    proc = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, JITSPV_DEVICE_LIMITS="no-int64"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "lacks shaderInt64 (JITSPV_DEVICE_LIMITS removed it), which jitspv needs" in proc.stdout


@limited
def test_the_lowering_and_the_runtime_see_the_same_limits():
    from jitspv.frontend.runtime import current_target
    from jitspv.vk import get_device
    device, target = get_device(), current_target()
    p, f = device.properties, device.features
    assert (p.max_compute_shared_memory_size, p.max_push_constants_size) == (16384, 64)
    assert (target.max_shared_memory, target.max_push_constants) == (16384, 64)
    assert not (f.float64 or f.int64_atomics or f.float32_atomic_add or f.float32_atomic_minmax or f.float64_atomic_add)
    assert not (target.has_float64 or target.has_int64_atomics or target.has_float32_atomic_add
                or target.has_float64_atomic_add)
    assert f.int64 and f.float16   # what was not named stays
    out = subprocess.run([sys.executable, "-m", "jitspv", "info"], capture_output=True, text=True, timeout=120).stdout
    assert f"JITSPV_DEVICE_LIMITS   {LIMITS}" in out and "push constants         64 bytes" in out
    assert re.search(r"fp64 +no", out) and re.search(r"int64 atomics +no", out)


@jitspv.jit
def sum8(out, a0, a1, a2, a3, a4, a5, a6, a7, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    acc = tl.load(a0 + offs, mask=m) + tl.load(a1 + offs, mask=m) * 2 + tl.load(a2 + offs, mask=m) * 3
    acc += tl.load(a3 + offs, mask=m) * 4 + tl.load(a4 + offs, mask=m) * 5 + tl.load(a5 + offs, mask=m) * 6
    acc += tl.load(a6 + offs, mask=m) * 7 + tl.load(a7 + offs, mask=m) * 8
    tl.store(out + offs, acc, mask=m)


def test_a_kernel_without_fp64_declares_no_fp64():
    """Devices without shaderFloat64 reject a module that declares the Float64 capability."""
    compiled = sum8.warmup(*[np.int32] * 9, 5, BLOCK=128, grid=(1,))
    assert "Float64" not in compiled.asm["spvasm"]


@limited
def test_arguments_travel_in_a_buffer_when_push_constants_are_small():
    from jitspv.frontend.jit import lower_ttir
    from jitspv.frontend.runtime import current_target
    from jitspv.frontend.triton_bridge import TtirOptions
    n = 777
    ins = [rng.integers(-50, 50, n).astype(np.int32) for _ in range(8)]
    out = np.full(n, -7, np.int32)
    sum8[(jitspv.cdiv(n, 128),)](out, *ins, n, BLOCK=128)
    np.testing.assert_array_equal(out, sum((k + 1) * a for k, a in enumerate(ins)))
    compiled = sum8.warmup(out, *ins, n, BLOCK=128, grid=(1,))
    assert compiled.lowered.arg_block_size == 80 and compiled.lowered.args_in_buffer
    # The same kernel on the device's real 128 bytes: push constants.
    full = lower_ttir(compiled.asm["ttir"], dataclasses.replace(current_target(), max_push_constants=128),
                      TtirOptions())
    assert not full.args_in_buffer


@jitspv.jit
def matmul(a, b, c, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), tl.float32)
    for k in range(0, K, BK):
        x = tl.load(a + rm[:, None] * K + (k + rk)[None, :], mask=(rm[:, None] < M) & ((k + rk)[None, :] < K),
                    other=0.0)
        y = tl.load(b + (k + rk)[:, None] * N + rn[None, :], mask=((k + rk)[:, None] < K) & (rn[None, :] < N),
                    other=0.0)
        acc += tl.dot(x, y)
    tl.store(c + rm[:, None] * N + rn[None, :], acc, mask=(rm[:, None] < M) & (rn[None, :] < N))




def _matmul_case(m, n, k):
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    return a, b, np.full((m, n), np.nan, np.float32), a.astype(np.float64) @ b


@jitspv.jit
def transpose(x, o, n, B: tl.constexpr):
    r = tl.program_id(0) * B + tl.arange(0, B)
    c = tl.program_id(1) * B + tl.arange(0, B)
    mask = (r[:, None] < n) & (c[None, :] < n)
    tile = tl.load(x + r[:, None] * n + c[None, :], mask=mask)
    tl.store(o + c[:, None] * n + r[None, :], tl.trans(tile), mask=tl.trans(mask))   # through scratch


@jitspv.jit
def swap_pairs(x, o, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    v = tl.load(x + offs, mask=offs < n)
    # tl.gather reads its source from workgroup memory, all of it: BLOCK words.
    tl.store(o + offs, tl.gather(v, tl.arange(0, BLOCK) ^ 1, 0), mask=offs < n)


# Both blocks time the same: the first wins unless it cannot run.
tuned_swap_pairs = jitspv.autotune([jitspv.Config({"BLOCK": 8192}), jitspv.Config({"BLOCK": 256})], key=["n"],
                                   do_bench=lambda fn: fn() or 1.0)(swap_pairs)


@limited
@pytest.mark.parametrize("bm, bn, bk", [(64, 64, 32), (128, 128, 64)])
def test_dot_tiles_beyond_the_shared_memory_limit_are_staged_in_k_slices(bm, bn, bk):
    # Staged whole, A^T and B of fp32 need 16,896 and 66,560 bytes: in K slices they fit in 16 KiB.
    m, n, k = 150, 131, 67
    a, b, c, want = _matmul_case(m, n, k)
    matmul[(jitspv.cdiv(m, bm), jitspv.cdiv(n, bn))](a, b, c, m, n, k, BM=bm, BN=bn, BK=bk)
    np.testing.assert_allclose(c, want, rtol=1e-4, atol=1e-4)
    assert matmul.warmup(a, b, c, m, n, k, BM=bm, BN=bn, BK=bk, grid=(1,)).lowered.shared_bytes <= 16384


@limited
@pytest.mark.parametrize("b", [64, 128])
def test_a_transpose_beyond_the_shared_memory_limit_goes_in_parts(b):
    n = 150
    x = rng.standard_normal((n, n)).astype(np.float32)
    o = np.full((n, n), np.nan, np.float32)
    transpose[(jitspv.cdiv(n, b), jitspv.cdiv(n, b))](x, o, n, B=b)   # 16 KiB, then 64 KiB in parts
    np.testing.assert_array_equal(o, x.T)
    assert transpose.warmup(x, o, n, B=b, grid=(1,)).lowered.shared_bytes <= 16384


@limited
def test_beyond_the_shared_memory_limit_is_out_of_resources():
    n = 1500
    x = rng.standard_normal(n).astype(np.float32)
    o = np.full(n, np.nan, np.float32)
    with pytest.raises(triton.runtime.errors.OutOfResources, match="shared memory") as err:
        swap_pairs[(1,)](x, o, n, BLOCK=8192)
    assert isinstance(err.value, OutOfResources) and "16384" in str(err.value) and "tt.gather" in str(err.value)
    swap_pairs[(jitspv.cdiv(n, 256),)](x, o, n, BLOCK=256)   # the process stays usable
    np.testing.assert_array_equal(o, x.reshape(-1, 2)[:, ::-1].reshape(-1))


@limited
def test_autotune_falls_back_to_configs_that_fit():
    n = 1500
    x = rng.standard_normal(n).astype(np.float32)
    o = np.full(n, np.nan, np.float32)
    tuned_swap_pairs[lambda meta: (jitspv.cdiv(n, meta["BLOCK"]),)](x, o, n)
    assert tuned_swap_pairs.best_config.kwargs == {"BLOCK": 256}
    np.testing.assert_array_equal(o, x.reshape(-1, 2)[:, ::-1].reshape(-1))


@jitspv.jit
def scale_f64(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * 2.0, mask=offs < n)


@jitspv.jit
def atomic_add_kernel(p, v, BLOCK: tl.constexpr):
    tl.atomic_add(p + tl.arange(0, BLOCK) % 4, tl.full([BLOCK], 1, p.dtype.element_ty) * v)


@jitspv.jit
def atomic_add_old_kernel(p, old_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(old_ptr + offs, tl.atomic_add(p + offs % 4, tl.full([BLOCK], 1, p.dtype.element_ty)))


@jitspv.jit
def int64_rmw_kernel(p, v_ptr, n, OP: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    v = tl.load(v_ptr + offs, mask=offs < n)
    if OP == "add":
        tl.atomic_add(p + offs % 3, v, mask=offs < n)
    elif OP == "and":
        tl.atomic_and(p + offs % 3, v, mask=offs < n)
    elif OP == "or":
        tl.atomic_or(p + offs % 3, v, mask=offs < n)
    else:
        tl.atomic_xor(p + offs % 3, v, mask=offs < n)


@limited
@pytest.mark.parametrize("op", ["add", "and", "or", "xor"])
def test_int64_atomics_whose_old_value_is_unused_run_without_int64_atomics(op):
    # Two 32-bit atomics per element: the add's carries from the low word must all reach the high one.
    n = 3001
    if op == "add":
        v = rng.integers(2**31, 2**33, n, dtype=np.int64) * rng.choice([-1, 1], n)
    else:
        v = rng.integers(-2**62, 2**62, n, dtype=np.int64)
    init = rng.integers(-2**62, 2**62, 3, dtype=np.int64)
    target = init.copy()
    int64_rmw_kernel[(triton.cdiv(n, 256),)](target, v, n, OP=op, BLOCK=256)
    fold = {"add": np.add, "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}[op]
    for b in range(3):
        with np.errstate(over="ignore"):
            assert target[b] == fold.reduce(np.concatenate([[init[b]], v[b::3]])), b


@limited
@pytest.mark.parametrize("launch,feature,line", [
    (lambda: scale_f64[(1,)](np.zeros(16), 16, BLOCK=16), "this device has no 64-bit float arithmetic (shaderFloat64)",
     "tl.store(x_ptr + offs, tl.load(x_ptr + offs"),
    (lambda: atomic_add_old_kernel[(1,)](np.zeros(4, np.int64), np.zeros(16, np.int64), BLOCK=16),
     "this device has no 64-bit integer atomics (shaderBufferInt64Atomics); without them only 64-bit integer "
     "add/and/or/xor whose old value is unused run", "tl.store(old_ptr + offs, tl.atomic_add(p + offs % 4"),
])
def test_a_missing_feature_is_refused_naming_it_and_the_line(launch, feature, line):
    with pytest.raises(triton.compiler.errors.CompilationError) as err:
        launch()
    assert feature in str(err.value) and line in str(err.value) and "test_device_limits.py:" in str(err.value)
    # The 32-bit integer atomic needs none of them.
    counts = np.zeros(4, np.int32)
    atomic_add_kernel[(1,)](counts, 3, BLOCK=16)
    np.testing.assert_array_equal(counts, [12] * 4)


@jitspv.jit
def poll_with_budget(flags, out, timeout_ns, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out + offs, tl.atomic_poll(flags + offs, 1, timeout_ns=timeout_ns))


@jitspv.jit
def poll_once(flags, out, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.store(out + offs, tl.atomic_poll(flags + offs, 1, timeout_ns=0))


@limited
@pytest.mark.skipif(not hasattr(tl, "atomic_poll"), reason="this Triton has no tl.atomic_poll")
def test_a_poll_budget_without_the_shader_clock_is_refused_and_zero_still_runs():
    from jitspv.frontend.runtime import current_target
    assert not current_target().has_device_clock   # no-device-clock
    flags, out = np.array([1, 0, 1, 1], np.int32), np.zeros(4, np.int8)
    with pytest.raises(triton.compiler.errors.CompilationError) as err:
        poll_with_budget[(1,)](flags, out, 1000, BLOCK=4)
    assert "needs the device's shader clock (VK_KHR_shader_clock, shaderDeviceClock)" in str(err.value)
    assert "tl.atomic_poll(flags + offs, 1, timeout_ns=timeout_ns)" in str(err.value)
    poll_once[(1,)](flags, out, BLOCK=4)   # a constant zero budget: one load each, no clock
    assert out.tolist() == [1, 0, 1, 1]
