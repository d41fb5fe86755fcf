"""Bounds debug mode (JITSPV_DEBUG=bounds): every global load, store and atomic is checked on the
device before it happens; an access outside the arrays is not performed and is reported.

The launch hands the kernel a table of live ranges (layout in lower/kernel.py, BOUNDS_*) through a
hidden u64 argument. An address derived from pointer argument p by pointer arithmetic (addptr,
splat, broadcast, reshape, loop-carried, as the origin analysis below proves) must lie in the array
p points into: two compares against p's range, loaded once per invocation. Any other address (a
pointer loaded from memory, a select between arguments) must lie in some live allocation: a binary
search over the sorted ranges. A failed check records the site, the program id, the address and
the launch in the kernel's assert record (rules/assert_.py) and skips the access; a load then
yields its `other` (or zero). The host raises at the next sync (frontend/compiled.py).
"""
from __future__ import annotations

from jitspv.lower.values import aligned
from jitspv.lower.kernel import BOUNDS_HEADER_WORDS
from jitspv.lower.rules.assert_ import add_site, record_failure
from jitspv.lower.spirv.grammar import Op, StorageClass
from jitspv.lower.ttir_access import attr

# Ops whose result points into the same array as their operand 0.
_SAME_ARRAY = frozenset({"tt.addptr", "tt.splat", "tt.broadcast", "tt.expand_dims", "tt.reshape", "tt.trans",
                         "tt.advance"})


def pointer_origins(func) -> dict:
    """TTIR value -> index of the pointer argument its addresses derive from, where that is proved
    (scf.for carried pointers by a fixpoint: the initial and every yielded value agree)."""
    origin = {arg: i for i, arg in enumerate(func.arguments) if arg.type.is_pointer}
    _walk(func.body.blocks[0], origin)
    return origin


def _walk(block, origin):
    for op in block.operations:
        if op.name in _SAME_ARRAY and op.operands and op.operands[0] in origin:
            origin[op.results[0]] = origin[op.operands[0]]
        elif op.name == "scf.for":
            _for(op, origin)
        elif op.name == "scf.if":
            for region in op.regions:
                _walk(region.blocks[0], origin)
            ends = [r.blocks[0].operations[-1].operands for r in op.regions if r.blocks[0].operations]
            if len(ends) == 2:
                for res, a, b in zip(op.results, *ends):
                    if a in origin and origin.get(b, -1) == origin[a]:
                        origin[res] = origin[a]
        else:
            for region in op.regions:
                for b in region.blocks:
                    _walk(b, origin)


def _for(op, origin):
    body = op.regions[0].blocks[0]
    carried = list(zip(body.arguments[1:], op.operands[3:], body.operations[-1].operands))
    assumed = {arg for arg, init, _ in carried if init in origin}
    while True:
        _forget(body, origin)
        for arg, init, _ in carried:
            if arg in assumed:
                origin[arg] = origin[init]
        _walk(body, origin)
        wrong = {arg for arg, init, y in carried if arg in assumed and origin.get(y, -1) != origin[init]}
        if not wrong:
            break
        assumed -= wrong
    for res, (arg, _, _) in zip(op.results, carried):
        if arg in origin:
            origin[res] = origin[arg]


def _forget(block, origin):
    """Drop what an earlier pass over `block` (under assumptions now withdrawn) concluded."""
    for value in block.arguments:
        origin.pop(value, None)
    for op in block.operations:
        for value in op.results:
            origin.pop(value, None)
        for region in op.regions:
            for b in region.blocks:
                _forget(b, origin)


class BoundsCheck:
    """Emits the check around each access of one kernel; `table` is the u64 id of the table's address."""

    def __init__(self, ctx, func, table):
        self.ctx = ctx
        self.table = table
        self.origin = pointer_origins(func)
        self.pointer_position = {i: k for k, i in enumerate(i for i, a in enumerate(func.arguments)
                                                            if a.type.is_pointer)}
        self.sorted_start = BOUNDS_HEADER_WORDS + 2 * len(self.pointer_position)   # u64 word index
        self._words = {}   # table word index -> id loaded in the prologue
        self._sites = {}   # (op, bytes) -> site number

    def guard(self, op, ptr, addr, nbytes, access, skipped):
        """access() when [addr, addr + nbytes) is in bounds, else record the violation and skipped();
        returns the merged results (a list of ids, empty for stores)."""
        ctx = self.ctx
        arg = self.origin.get(ptr)
        if arg is None:
            ok = self._in_some_allocation(addr, nbytes)
        else:
            k = BOUNDS_HEADER_WORDS + 2 * self.pointer_position[arg]
            ok = self._in_range(addr, nbytes, self._word(k), self._word(k + 1))
        site = self._site(op, nbytes, arg)

        def violation():
            u64, u32 = ctx.t_u64, ctx.t_u32
            high = ctx.emit(Op.ShiftRightLogical, u64, addr, ctx.m.const(u64, 32))
            record_failure(ctx, site, [ctx.emit(Op.UConvert, u32, addr), ctx.emit(Op.UConvert, u32, high),
                               ctx.emit(Op.UConvert, u32, self._word(0))])
            return skipped()
        return ctx.if_then(ok, access, violation)

    def _site(self, op, nbytes, arg):
        ctx = self.ctx
        key = (id(op), nbytes)
        if key not in self._sites:
            kind = op.name[3:]
            if op.name == "tt.atomic_rmw":
                kind = f"atomic_{attr(op, 'atomic_rmw_op')}"
            self._sites[key] = add_site(ctx, "", op.location or ctx.loc, "bounds", access=kind, bytes=nbytes,
                                        arg=arg)
        return self._sites[key]

    def _word(self, k):
        """Table word k as a u64 id, loaded once in the prologue."""
        ctx = self.ctx
        if k not in self._words:
            with ctx.prologue():
                self._words[k] = self._load(ctx.m.const(ctx.t_u64, 8 * k))
        return self._words[k]

    def _load(self, offset):
        """The table's u64 at byte offset `offset` (a u64 id)."""
        ctx, m, u64 = self.ctx, self.ctx.m, self.ctx.t_u64
        p = ctx.emit(Op.ConvertUToPtr, m.type_pointer(StorageClass.PhysicalStorageBuffer, u64),
                     ctx.emit(Op.IAdd, u64, self.table, offset))
        return ctx.emit(Op.Load, u64, p, *aligned(8))

    def _in_range(self, addr, nbytes, start, size):
        """addr - start < size and nbytes <= size - (addr - start): no wrap-around at either end."""
        ctx, u64 = self.ctx, self.ctx.t_u64
        offset = ctx.emit(Op.ISub, u64, addr, start)
        inside = ctx.emit(Op.ULessThan, ctx.t_bool, offset, size)
        room = ctx.emit(Op.ISub, u64, size, offset)
        fits = ctx.emit(Op.ULessThanEqual, ctx.t_bool, ctx.m.const(u64, nbytes), room)
        return ctx.emit(Op.LogicalAnd, ctx.t_bool, inside, fits)

    def _in_some_allocation(self, addr, nbytes):
        """Binary search for the last live range starting at or below addr (the sentinel (0, 0) at
        index 0 guarantees one), then the range check against it."""
        ctx, m, u64 = self.ctx, self.ctx.m, self.ctx.t_u64
        n = self._word(1)
        zero, one, entry_shift = m.const(u64, 0), m.const(u64, 1), m.const(u64, 4)   # entries: 16 bytes
        sorted_offset = m.const(u64, 8 * self.sorted_start)
        header, body, cont, merge = (ctx.new_label() for _ in range(4))
        pre = ctx.label
        ctx.branch(header)
        ctx.start_block(header)
        lo, hi = ctx.f.phi(u64, (zero, pre)), ctx.f.phi(u64, (n, pre))
        more = ctx.emit(Op.ULessThan, ctx.t_bool, lo, hi)
        ctx.emit(Op.LoopMerge, None, merge, cont, 0)
        ctx.emit(Op.BranchConditional, None, more, body, merge)
        ctx.start_block(body)
        mid = ctx.emit(Op.ShiftRightLogical, u64, ctx.emit(Op.IAdd, u64, lo, hi), one)
        entry = ctx.emit(Op.IAdd, u64, ctx.emit(Op.ShiftLeftLogical, u64, mid, entry_shift), sorted_offset)
        below = ctx.emit(Op.ULessThanEqual, ctx.t_bool, self._load(entry), addr)
        next_lo = ctx.emit(Op.Select, u64, below, ctx.emit(Op.IAdd, u64, mid, one), lo)
        next_hi = ctx.emit(Op.Select, u64, below, hi, mid)
        ctx.branch(cont)
        ctx.start_block(cont)
        ctx.branch(header)
        ctx.f.add_incoming(lo, next_lo, cont)
        ctx.f.add_incoming(hi, next_hi, cont)
        ctx.start_block(merge)
        entry = ctx.emit(Op.IAdd, u64, ctx.emit(Op.ShiftLeftLogical, u64, ctx.emit(Op.ISub, u64, lo, one), entry_shift),
                         sorted_offset)
        size = self._load(ctx.emit(Op.IAdd, u64, entry, m.const(u64, 8)))
        return self._in_range(addr, nbytes, self._load(entry), size)
