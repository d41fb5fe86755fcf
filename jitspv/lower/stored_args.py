"""Which pointer arguments of a kernel it may write through (stores and atomics), and which hold
pointers it dereferences (pointer tables).

The runtime needs it for host arrays: a read-only array passed where the kernel writes would
silently lose the results, so it is refused. The answer may be too large, never too small:
pointers are followed back through every operation that makes a pointer from pointers (addptr,
splat, broadcast, select, ...) and through region results and block arguments (to the operands
and yields of the op owning the region); a written pointer with no pointer operands to follow
(int_to_ptr, a pointer loaded from memory) may be any argument.
"""
from __future__ import annotations

from jitspv.lower.op_facts import READS, WRITES, accesses_memory, has
from jitspv.ttir import ir



def _is_pointer(t) -> bool:
    return (t.element if t.is_tensor else t).is_pointer


def _is_int64(t) -> bool:
    t = t.element if t.is_tensor else t
    return isinstance(t, ir.IntType) and t.width == 64


def _owners(func) -> dict:
    """Nested block -> the operation whose region holds it."""
    owner_of_block = {}
    for op in func.walk():
        for region in op.regions:
            for block in region.blocks:
                owner_of_block[block] = op
    return owner_of_block


def _origins(func, owner_of_block, values, follow, pointers: bool) -> set | None:
    """Indices of `func`'s arguments that `values` derive from, following `follow(op)`'s operands of
    each op making one and of the terminators of its regions (their yields). None where an origin
    is unknown: `follow` returns None for the op, or, following `pointers`, the op has none to follow
    (a pointer made from no pointer, such as int_to_ptr)."""
    entry = func.body.entry
    found, seen, pending = set(), set(), list(values)
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
        sources = None if op is None else follow(op)
        if sources is None:
            return None
        for region in op.regions:
            for block in region.blocks:
                if block.operations:
                    sources += follow(block.operations[-1]) or []
        if pointers and not sources:
            return None
        pending += sources
    return found


def _pointer_operands(op) -> list | None:
    """The pointer operands of an op making a pointer; None for a pointer loaded from memory."""
    return None if has(op.name, READS) else [u for u in op.operands if _is_pointer(u.type)]


def stored_arguments(func) -> list[int]:
    """Indices of `func`'s pointer arguments that some store or atomic may write through."""
    pointer_args = [v.index for v in func.body.entry.arguments if _is_pointer(v.type)]
    writes = [op.operands[0] for op in func.walk() if has(op.name, WRITES)]
    found = _origins(func, _owners(func), writes, _pointer_operands, pointers=True)
    return pointer_args if found is None else sorted(found)


def pointer_table_arguments(func) -> list[int]:
    """Indices of `func`'s pointer arguments holding pointers the kernel dereferences: memory it
    loads integers from that become pointers (`tl.load(table + i).to(tl.pointer_type(...))`, tutorial
    08's grouped GEMM), or loads pointers from. Only what is followed back for certain: the runtime
    refuses host addresses in these, so a table it cannot trace is left out rather than guessed."""
    owner_of_block = _owners(func)
    made, loads = [], []

    def pointer_sources(op):   # back from an accessed address to the pointers it was made from
        if op.name == "tt.int_to_ptr":
            made.append(op.operands[0])
            return []
        if has(op.name, READS):   # a pointer loaded from memory: that memory is a table
            if op.name == "tt.load":
                loads.append(op.operands[0])
            return []
        return [u for u in op.operands if _is_pointer(u.type)]
    # Only pointers some access dereferences: integers made pointers and stored back as integers
    # (test_core's test_where selects between such pointers) are no addresses of anything.
    accessed = [op.operands[0] for op in func.walk() if accesses_memory(op.name)]
    _origins(func, owner_of_block, accessed, pointer_sources, pointers=False)

    def integer_sources(op):   # back through 64-bit integer arithmetic to the loads it starts from
        if op.name == "tt.load":
            loads.append(op.operands[0])
            return []
        return [u for u in op.operands if _is_int64(u.type)]
    _origins(func, owner_of_block, made, integer_sources, pointers=False)
    found = _origins(func, owner_of_block, loads, _pointer_operands, pointers=True)
    return [] if found is None else sorted(found)
