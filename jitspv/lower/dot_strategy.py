"""How each tt.dot of a kernel is computed: one strategy per dot, chosen once, before encodings
are assigned. assign.py gives the dot's result the plan's encoding and the tt.dot rule
(rules/dot.py) lowers the dot with the plan, so the two never disagree.

A strategy is a function `plan(op, target, num_threads) -> plan | None` (None: not for this dot);
STRATEGIES are tried in order and the first plan wins. A plan has `encoding` (its result's, a
jitspv.lower.layout encoding) and `lower(ctx, op)`, which emits the dot; it may have
`before_loop(ctx, op, loop)`, which the scf.for rule calls in the preheader of the loop directly
holding the dot (work done once per loop, not per pass; recorded in ctx.before_loop[op] for
`lower` to read). rules/dot.py fills the
list: cooperative matrices (rules/dot_coopmat.py; only where the Target lists their shapes, that is
unless JITSPV_COOPMAT=0), then the FMA strategy (the fallback, which refuses what no strategy can do
with a clear error).
"""
from __future__ import annotations

from jitspv.lower.errors import LoweringError

STRATEGIES = []


def plan_dots(func, target, num_threads):
    """tt.dot op -> the plan of the first strategy that accepts it. A strategy whose dots share
    workgroup memory has `plan_together(plans, target)`, which sizes what they share and says whether
    it fits; where it does not, all those dots go to the strategies after it."""
    dots = [op for op in func.walk() if op.name == "tt.dot"]
    plans = {}
    for strategy in STRATEGIES:
        mine = {op: plan for op in dots if op not in plans
                for plan in [strategy(op, target, num_threads)] if plan is not None}
        together = getattr(strategy, "plan_together", None)
        if together is None or not mine or together(list(mine.values()), target):
            plans.update(mine)
    for op in dots:
        if op not in plans:
            raise LoweringError("internal: no tl.dot strategy accepts this dot", op.location)
    return plans
