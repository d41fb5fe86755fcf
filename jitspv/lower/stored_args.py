"""Which pointer arguments of a kernel it may write through (stores and atomics).

The runtime needs it for host arrays: a read-only array passed where the kernel writes would
silently lose the results, so it is refused. The answer may be too large, never too small:
pointers are followed back through every operation that makes a pointer from pointers (addptr,
splat, broadcast, select, ...) and through region results and block arguments (to the operands
and yields of the op owning the region); a written pointer with no pointer operands to follow
(int_to_ptr, a pointer loaded from memory) may be any argument.
"""
from __future__ import annotations

from jitspv.ttir import ir

_WRITES = ("tt.store", "tt.atomic_rmw", "tt.atomic_cas")
_READS = ("tt.load", "tt.atomic_rmw", "tt.atomic_cas")   # a pointer they return came from memory


def _is_pointer(t) -> bool:
    return (t.element if t.is_tensor else t).is_pointer


def stored_arguments(func) -> list[int]:
    """Indices of `func`'s pointer arguments that some store or atomic may write through."""
    entry = func.body.entry
    pointer_args = [v.index for v in entry.arguments if _is_pointer(v.type)]
    owner_of_block = {}   # nested block -> the operation whose region holds it
    writes = []
    for op in func.walk():
        for region in op.regions:
            for block in region.blocks:
                owner_of_block[block] = op
        if op.name in _WRITES:
            writes.append(op.operands[0])
    found, seen, pending = set(), set(), list(writes)
    while pending:
        v = pending.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v.owner is entry:
            found.add(v.index)
            continue
        # A block argument comes from the op owning its region; a result from the op making it.
        op = owner_of_block.get(v.owner) if isinstance(v.owner, ir.Block) else v.owner
        if op is None or op.name in _READS:
            return pointer_args
        sources = [u for u in op.operands if _is_pointer(u.type)]
        for region in op.regions:
            for block in region.blocks:
                if block.operations:
                    sources += [u for u in block.operations[-1].operands if _is_pointer(u.type)]
        if not sources:
            return pointer_args
        pending += sources
    return sorted(found)
