"""jitspv.autotune / Config / heuristics: Triton's semantics, jitspv's timer."""
import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv

rng = np.random.default_rng()


def _configs():
    # BLOCK >= 128 * num_warps: no element is held by two invocations, so the read-modify-write
    # in tuned_accumulate is not repeated by replicas.
    return [jitspv.Config({"BLOCK": 128}, num_warps=1), jitspv.Config({"BLOCK": 256}, num_warps=2),
            jitspv.Config({"BLOCK": 512}, num_warps=4)]


@jitspv.autotune(configs=_configs(), key=["n"], reset_to_zero=["out_ptr"], warmup=1, rep=2)
@jitspv.kernel
def tuned_accumulate(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    # out += x: running it once per config would accumulate; reset_to_zero keeps the result exact.
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(out_ptr + offs, mask=mask) + tl.load(x_ptr + offs, mask=mask), mask=mask)


@jitspv.heuristics({"BLOCK": lambda args: triton.next_power_of_2(args["n"]), "EVEN": lambda args: args["n"] % 2 == 0})
@jitspv.kernel
def heuristic_copy(x_ptr, out_ptr, n, BLOCK: tl.constexpr, EVEN: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    mask = offs < n
    val = tl.load(x_ptr + offs, mask=mask)
    if EVEN:
        val = val * 2
    tl.store(out_ptr + offs, val, mask=mask)


def test_autotune_chooses_and_reuses_per_key():
    timed = []
    tuner = tuned_accumulate
    for n in (300, 300, 1001):
        x = jitspv.asarray(rng.standard_normal(n).astype(np.float32))
        out = jitspv.zeros(n)
        before = len(tuner.cache)
        tuned_accumulate[lambda meta: (triton.cdiv(meta["n"], meta["BLOCK"]),)](x, out, n)
        timed.append(len(tuner.cache) - before)
        np.testing.assert_array_equal(out.numpy(), x.numpy())
        assert tuner.best_config in _configs()
        assert set(tuner.configs_timings) == set(_configs())
    assert timed == [1, 0, 1]
    assert len(tuner.cache) == 2


def test_autotune_picks_the_fastest_by_the_timer():
    fake_ms = {128: 3.0, 256: 1.0, 512: 2.0}
    calls = []

    def fake_bench(fn):
        fn()
        calls.append(1)
        return fake_ms[tuner.fn._last_block]

    @jitspv.kernel
    def copy(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
        offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n), mask=offs < n)

    tuner = jitspv.autotune(configs=_configs(), key=["n"], do_bench=fake_bench)(copy)
    original_run = copy.run

    def recording_run(*args, **kwargs):
        copy._last_block = kwargs["BLOCK"]
        return original_run(*args, **kwargs)

    copy.run = recording_run
    n = 200
    x = rng.standard_normal(n).astype(np.float32)
    out = np.full(n, np.nan, np.float32)
    tuner[lambda m: (triton.cdiv(n, m["BLOCK"]),)](x, out, n)
    assert tuner.best_config.kwargs == {"BLOCK": 256} and len(calls) == 3
    np.testing.assert_array_equal(out, x)


def test_prune_and_perf_model():
    seen = {}

    def early(configs, nargs, **kwargs):
        seen["nargs"] = sorted(nargs)
        return [c for c in configs if c.kwargs["BLOCK"] >= 256]

    tuner = jitspv.autotune(configs=_configs(), key=["n"],
                            prune_configs_by={"early_config_prune": early,
                                              "perf_model": lambda **kw: kw["BLOCK"], "top_k": 1})(
        tuned_accumulate.fn)
    n = 70
    x = jitspv.asarray(rng.standard_normal(n).astype(np.float32))
    out = jitspv.zeros(n)
    tuner[lambda m: (triton.cdiv(n, m["BLOCK"]),)](x, out, n)
    assert tuner.best_config.kwargs == {"BLOCK": 256} and seen["nargs"] == ["n", "out_ptr", "x_ptr"]
    np.testing.assert_array_equal(out.numpy(), x.numpy())


def test_conflicting_and_unknown_names():
    with pytest.raises(ValueError, match="not arguments"):
        jitspv.autotune(configs=_configs(), key=["m"])(tuned_accumulate.fn)
    x = jitspv.zeros(8)
    with pytest.raises(ValueError, match="Conflicting meta-parameters: BLOCK"):
        tuned_accumulate[(1,)](x, x, 9, BLOCK=128)


@pytest.mark.parametrize("n", [7, 12, 33])
def test_heuristics(n):
    x = rng.standard_normal(n).astype(np.float32)
    out = np.full(n, np.nan, np.float32)
    k = heuristic_copy[(1,)](x, out, n)
    np.testing.assert_array_equal(out, x * (2 if n % 2 == 0 else 1))
    assert f"tensor<{triton.next_power_of_2(n)}x!tt.ptr<f32>>" in k.asm["ttir"]


def test_config_semantics():
    a, b = jitspv.Config({"BLOCK": 16}, num_warps=2), jitspv.Config({"BLOCK": 16}, num_warps=2)
    assert a == b and hash(a) == hash(b) and a != jitspv.Config({"BLOCK": 16}, num_warps=4)
    assert a.all_kwargs() == {"BLOCK": 16, "num_warps": 2, "num_stages": 3, "num_ctas": 1}


def _transpose_configs():
    # 2048 invocations for num_warps=64 (OutOfResources: lavapipe allows 1024; workgroup memory beyond
    # the device's is test_device_limits'), a static_assert refusing BLOCK_N = 8, and one that compiles.
    return [jitspv.Config({"BLOCK_M": 32, "BLOCK_N": 32}, num_warps=64), jitspv.Config({"BLOCK_M": 32, "BLOCK_N": 8}),
            jitspv.Config({"BLOCK_M": 32, "BLOCK_N": 32})]


def _tuned_transpose(configs):
    @jitspv.autotune(configs=configs, key=["m", "n"], warmup=1, rep=2)
    @jitspv.kernel
    def transpose(x_ptr, o_ptr, m, n, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
        tl.static_assert(BLOCK_N >= 16, "BLOCK_N must be at least 16")
        rm = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
        mask = (rm[:, None] < m) & (rn[None, :] < n)
        x = tl.load(x_ptr + rm[:, None] * n + rn[None, :], mask=mask)
        tl.store(o_ptr + rn[:, None] * m + rm[None, :], tl.trans(x), mask=tl.trans(mask))
    return transpose


def test_configs_that_cannot_compile_are_skipped():
    transpose = _tuned_transpose(_transpose_configs())
    m, n = 77, 45
    x = rng.standard_normal((m, n)).astype(np.float32)
    o = np.full((n, m), np.nan, np.float32)
    grid = lambda meta: (triton.cdiv(m, meta["BLOCK_M"]), triton.cdiv(n, meta["BLOCK_N"]))
    transpose[grid](x, o, m, n)
    np.testing.assert_array_equal(o, x.T)
    assert transpose.best_config.kwargs == {"BLOCK_M": 32, "BLOCK_N": 32}
    assert [t == float("inf") for t in transpose.configs_timings.values()] == [True, True, False]


def test_no_config_compiles_raises_the_error():
    from triton.compiler.errors import CompileTimeAssertionFailure
    transpose = _tuned_transpose(_transpose_configs()[1:2] * 2)
    x = np.ones((16, 16), np.float32)
    with pytest.raises(CompileTimeAssertionFailure, match="BLOCK_N must be at least 16"):
        transpose[(1, 1)](x, x.copy(), 16, 16)
