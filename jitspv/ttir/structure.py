"""Branches (`cf.br` / `cf.cond_br`) -> nested `scf.if`, so the lowering sees structured code only.

Triton emits branches for a `return` inside an `if` (Liger's cross entropy returns early; the
function a tl.map_elementwise applies, likewise, in its body). Triton
refuses `return` inside loops, so the blocks form a DAG whose exits are `tt.return`s. Each
`cf.cond_br` becomes an `scf.if` whose arms run up to the branch's immediate post-dominator (the
block where both paths meet again; its block arguments become the `scf.if` results) and the code
continues from there. Where the paths meet only at the function's exit, the returned values are
the `scf.if` results; a block that more than one such arm reaches before the exit is copied into
each (structured where possible, copied where not).
"""
from __future__ import annotations

from jitspv.ttir import ir

EXIT = None   # the virtual block every tt.return branches to; its arguments are the returned values
_BRANCHES = ("cf.br", "cf.cond_br")


class UnstructuredControlFlow(ValueError):
    pass


_EXITS = ("tt.return", "tt.map_elementwise.return")   # the ops that leave a function or tt.map_elementwise body


def structure_control_flow(module: ir.Module) -> None:
    """Rewrite every function of `module`, and every tt.map_elementwise body (a function applied
    per element, which may return early too), with more than one block into one block."""
    for func in module.functions:
        if len(func.body.blocks) > 1:
            _structure(func.body, list(func.type.results), "tt.return")
        for op in func.walk():
            if op.name == "tt.map_elementwise" and len(op.regions[0].blocks) > 1:
                _structure(op.regions[0], [r.type.element_type for r in op.results] * int(
                    op.attributes["pack"].value), "tt.map_elementwise.return")


def _edges(term: ir.Operation) -> list[tuple[object, list[ir.Value]]]:
    """(successor, values passed to its arguments) per way out of a block's terminator."""
    if term.name in _EXITS:
        return [(EXIT, term.operands)]
    if term.name == "cf.br":
        return [(term.successors[0], term.operands)]
    if term.name == "cf.cond_br":
        _, n_then, _ = term.attributes["operandSegmentSizes"].values
        return [(term.successors[0], term.operands[1:1 + n_then]), (term.successors[1], term.operands[1 + n_then:])]
    raise UnstructuredControlFlow(f"block ends with {term.name}, which jitspv cannot branch on")


def _post_dominators(entry: ir.Block) -> dict:
    """Immediate post-dominator of each block reachable from `entry` (EXIT where paths meet only
    there). Raises on a cycle: Triton's loops are scf ops, never branches."""
    order, state = [], {}

    def visit(b):   # depth first; `order` ends up in reverse topological order
        state[b] = "open"
        for s, _ in _edges(b.operations[-1]):
            if s is EXIT:
                continue
            if state.get(s) == "open":
                raise UnstructuredControlFlow("branches form a loop")
            if s not in state:
                visit(s)
        state[b] = "done"
        order.append(b)
    visit(entry)
    pdom = {EXIT: frozenset()}
    for b in order:
        succ = [pdom[s] for s, _ in _edges(b.operations[-1])]
        pdom[b] = frozenset({b}).union(frozenset.intersection(*succ))
    # Post-dominators of a block form a chain: the nearest one has the most post-dominators itself.
    return {b: max(pdom[b] - {b}, key=lambda x: len(pdom[x]), default=EXIT) for b in order}


def _structure(region: ir.Region, results: list, exit_name: str) -> None:
    """One block for `region`, whose exits are `exit_name` ops returning `results`' types."""
    entry = region.entry
    ipdom = _post_dominators(entry)
    ops = {b: b.operations for b in region.blocks}   # the entry block is rewritten in place

    def emit(block, vmap, stop, out):
        """Copy `block` and what follows it into `out`, up to the branch to `stop`, whose
        arguments `out` then yields (tt.return at the top, scf.yield in an arm)."""
        for op in ops[block][:-1]:
            out.append(ir.clone(op, vmap))
        term = ops[block][-1]
        edges = [(s, [vmap.get(v, v) for v in args]) for s, args in _edges(term)]
        if len(edges) == 1:
            goto(*edges[0], vmap, stop, out)
            return
        merge = ipdom[block]
        types = results if merge is EXIT else [a.type for a in merge.arguments]
        arms = []
        for succ, args in edges:
            arm = ir.Region([ir.Block()])
            goto(succ, args, dict(vmap), merge, arm.entry)
            arms.append(arm)
        branch = out.append(ir.Operation("scf.if", [vmap.get(term.operands[0], term.operands[0])], types, {}, arms,
                                         location=term.location))
        goto(merge, branch.results, vmap, stop, out)

    def goto(succ, args, vmap, stop, out):
        if succ is stop:
            out.append(ir.Operation(exit_name if out is entry else "scf.yield", args))
            return
        vmap.update(zip(succ.arguments, args))
        emit(succ, vmap, stop, out)

    entry.operations = []
    emit(entry, {}, EXIT, entry)
    region.blocks = [entry]
