"""The op-facts table (jitspv/lower/op_facts.py) names only ops jitspv lowers: a misspelt entry
would otherwise go unnoticed (a missing fact costs speed, never correctness)."""
from jitspv.lower import op_facts
from jitspv.lower.registry import LOWERINGS
import jitspv.lower  # noqa: F401  (registers every lowering)


def test_every_op_in_the_facts_table_has_a_lowering_rule():
    assert op_facts.named_ops() - set(LOWERINGS) == set()


def test_dialect_defaults_and_table_entries():
    assert op_facts.has("arith.addf", op_facts.SAME_ENCODING) and op_facts.has("arith.addf", op_facts.PURE)
    assert op_facts.has("math.exp", op_facts.SAME_ENCODING) and not op_facts.has("math.exp", op_facts.PURE)
    assert op_facts.has("tt.splat", op_facts.REMATERIALIZE) and not op_facts.has("tt.load", op_facts.PURE)
    assert not op_facts.has("tt.reduce", op_facts.SAME_ENCODING)
