"""How each tt.dot of a kernel is computed: one strategy per dot, chosen once, before encodings
are assigned. assign.py gives the dot's result the plan's encoding and the tt.dot rule
(rules/dot.py) lowers the dot with the plan, so the two never disagree.

A strategy is a function `plan(op, target, num_threads) -> plan | None` (None: not for this dot);
STRATEGIES are tried in order and the first plan wins. A plan has `encoding` (its result's, a
jitspv.lower.layout encoding) and `lower(ctx, op)`, which emits the dot. Today there is the FMA
strategy (rules/dot.py, the fallback, which refuses what no strategy can do with a clear error);
a faster one (tensor cores, cooperative matrices) goes in front of it.
"""
from __future__ import annotations

from jitspv.lower.errors import LoweringError

STRATEGIES = []


def plan_dots(func, target, num_threads):
    """tt.dot op -> the plan of the first strategy that accepts it."""
    plans = {}
    for op in func.walk():
        if op.name == "tt.dot":
            plans[op] = next((p for p in (s(op, target, num_threads) for s in STRATEGIES) if p is not None), None)
            if plans[op] is None:
                raise LoweringError("internal: no tl.dot strategy accepts this dot", op.location)
    return plans
