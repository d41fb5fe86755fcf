"""No module spirv-val rejects reaches a driver: cold compiles are validated (JITSPV_SPIRV_VAL unset:
where spirv-val is installed), a rejection is a LoweringError naming the TTIR op and the kernel line
that produced the offending instruction, the verdict travels with the cache entry. A deliberately
broken rule (OpIAdd on OpTypeBool, the old i1 bug) provides the invalid module."""
import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv
from jitspv.errors import InvalidSpirv
from jitspv.frontend import jit as jit_module
from jitspv.frontend.triton_bridge import TtirOptions
from jitspv.lower import LoweringError
from jitspv.lower.registry import LOWERINGS
from jitspv.lower.rules.common import elementwise
from jitspv.lower.spirv.grammar import Op

rng = np.random.default_rng()


def _make_kernel():
    """A fresh kernel object per test (its own in-memory cache), the same source and disk key."""
    def bool_add(x_ptr, y_ptr, o_ptr, N: tl.constexpr):
        offs = tl.arange(0, N)
        x = tl.load(x_ptr + offs)
        y = tl.load(y_ptr + offs)
        tl.store(o_ptr + offs, x + y)   # the line a rejection must name
    return jitspv.jit(bool_add)


def _broken_addi(ctx, op):
    elementwise(ctx, op, lambda rtype, a, b: ctx.emit(Op.IAdd, rtype, a, b))


def _launch(kernel, n=64):
    x, y = rng.random(n) < 0.5, rng.random(n) < 0.5
    out = np.ones(n, np.bool_)
    out[::2] = False
    kernel[(1,)](x, y, out, N=n)
    np.testing.assert_array_equal(out, x ^ y)


@pytest.fixture
def pipelines(monkeypatch, tmp_path):
    """Records every pipeline the frontend asks the driver for; a fresh disk cache."""
    monkeypatch.setenv("JITSPV_CACHE_DIR", str(tmp_path))
    made = []
    real = jit_module.rt.make_pipeline

    def make_pipeline(lowered):
        made.append(lowered)
        return real(lowered)
    monkeypatch.setattr(jit_module.rt, "make_pipeline", make_pipeline)
    return made


@pytest.mark.parametrize("mode", [None, "auto", "1"])
def test_rejected_module_names_op_and_line_and_never_reaches_the_driver(monkeypatch, pipelines, mode):
    if mode is None:
        monkeypatch.delenv("JITSPV_SPIRV_VAL", raising=False)
    else:
        monkeypatch.setenv("JITSPV_SPIRV_VAL", mode)
    kernel = _make_kernel()
    with monkeypatch.context() as broken:
        broken.setitem(LOWERINGS, "arith.addi", _broken_addi)
        with pytest.raises(LoweringError) as err:
            _launch(kernel)
    assert isinstance(err.value, triton.compiler.errors.CompilationError)
    text = str(err.value)
    assert "while lowering 'arith.addi'" in text and "spirv-val" in text and "IAdd" in text
    assert err.value.loc.line == _make_kernel.__code__.co_firstlineno + 6
    assert "tl.store(o_ptr + offs, x + y)" in text
    assert pipelines == []
    # The process stays usable: the fixed rule compiles the same kernel, validated.
    _launch(kernel)
    assert [p.spirv_val for p in pipelines] == ["vulkan1.2"]


def test_off_means_not_validated(monkeypatch):
    monkeypatch.setenv("JITSPV_SPIRV_VAL", "0")
    compiled = _make_kernel().warmup(np.bool_, np.bool_, np.bool_, N=64, grid=(1,))
    ttir = compiled.asm["ttir"]
    with monkeypatch.context() as broken:
        broken.setitem(LOWERINGS, "arith.addi", _broken_addi)
        lowered = jit_module.lower_ttir(ttir, jit_module.rt.current_target(), TtirOptions())
    assert lowered.spirv_val == ""           # not validated: handed over as it is (not here)
    with pytest.raises(InvalidSpirv, match="IAdd"):
        jit_module.validate(lowered.spirv)


def test_verdict_is_cached_with_the_entry(monkeypatch, pipelines):
    monkeypatch.delenv("JITSPV_SPIRV_VAL", raising=False)
    _launch(_make_kernel())                  # cold: validated, stored with its verdict
    calls = []
    monkeypatch.setattr(jit_module, "validate", lambda *a: calls.append(a))
    monkeypatch.setattr("jitspv.lower.validate", lambda *a: calls.append(a))
    _launch(_make_kernel())                  # a disk hit: not validated again
    assert calls == [] and [p.spirv_val for p in pipelines] == ["vulkan1.2"] * 2


def test_entry_stored_without_verdict_is_validated_on_load(monkeypatch, pipelines):
    """An entry written while validation was off holds invalid SPIR-V: once validation is on, the
    disk hit is checked before the driver sees it."""
    monkeypatch.setenv("JITSPV_SPIRV_VAL", "0")
    with monkeypatch.context() as broken:
        broken.setitem(LOWERINGS, "arith.addi", _broken_addi)
        broken.setattr(jit_module.rt, "make_pipeline", lambda lowered: None)   # keep it from the driver
        _make_kernel().warmup(np.bool_, np.bool_, np.bool_, N=64, grid=(1,))
    monkeypatch.delenv("JITSPV_SPIRV_VAL")
    with pytest.raises(InvalidSpirv, match="IAdd"):
        _launch(_make_kernel())
    assert pipelines == []
