"""Data movement through workgroup memory: the part of LoweringContext (context.py) that
moves registers between invocations (barriers, values split into u32 words, layout conversion).
Where the words live is lower/workgroup.py's business."""
from __future__ import annotations

from jitspv.lower.layout import layout_of, part_groups, same_distribution
from jitspv.lower.rules.control import counted_loop
from jitspv.lower.values import DTensor
from jitspv.lower.spirv.grammar import Op, MemorySemantics, Scope

SEM_WORKGROUP_ACQREL = 0x8 | 0x100   # AcquireRelease | WorkgroupMemory


class DataMovement:
    def barrier(self, device=False):
        """Workgroup barrier ordering workgroup memory; device=True also orders buffer memory at
        device scope (tl.debug_barrier before releasing a lock, and after acquiring one)."""
        wg = self.u32(Scope.Workgroup)
        if device:
            self.emit(Op.ControlBarrier, None, wg, self.u32(Scope.Device),
                      self.semantics(SEM_WORKGROUP_ACQREL | MemorySemantics.UniformMemory))
        else:
            self.emit(Op.ControlBarrier, None, wg, wg, self.semantics(SEM_WORKGROUP_ACQREL))

    def to_words(self, tid, x):
        """Split a register value into u32 words for workgroup memory."""
        info = self.m.type_info(tid)
        if info.kind == "bool":
            return [self.emit(Op.Select, self.t_u32, x, self.u32(1), self.u32(0))]
        if info.width == 64:
            bits = x if info.kind == "int" else self.emit(Op.Bitcast, self.t_u64, x)
            lo = self.emit(Op.UConvert, self.t_u32, bits)
            hi = self.emit(Op.UConvert, self.t_u32,
                           self.emit(Op.ShiftRightLogical, self.t_u64, bits, self.u32(32)))
            return [lo, hi]
        if info.width == 32:
            return [x if info.kind == "int" else self.emit(Op.Bitcast, self.t_u32, x)]
        ut = self.m.type_int(info.width, False)
        bits = x if info.kind == "int" else self.emit(Op.Bitcast, ut, x)
        return [self.emit(Op.UConvert, self.t_u32, bits)]

    def from_words(self, tid, words):
        info = self.m.type_info(tid)
        if info.kind == "bool":
            return self.emit(Op.INotEqual, self.t_bool, words[0], self.u32(0))
        if info.width == 64:
            lo = self.emit(Op.UConvert, self.t_u64, words[0])
            hi = self.emit(Op.ShiftLeftLogical, self.t_u64, self.emit(Op.UConvert, self.t_u64, words[1]),
                           self.u32(32))
            bits = self.emit(Op.BitwiseOr, self.t_u64, lo, hi)
            return bits if info.kind == "int" else self.emit(Op.Bitcast, tid, bits)
        if info.width == 32:
            return words[0] if info.kind == "int" else self.emit(Op.Bitcast, tid, words[0])
        ut = self.m.type_int(info.width, False)
        bits = self.emit(Op.UConvert, ut, words[0])
        return bits if info.kind == "int" else self.emit(Op.Bitcast, tid, bits)

    def part_of(self, layout, strides, k_base, size):
        """u32 id, in the prologue: the part (of `size` consecutive indices, a power of two) holding
        index k_base + the invocation's part of sum(coord * strides) (layout.part_groups)."""
        with self.prologue():
            index = self.emit(Op.IAdd, self.t_u32, self.thread_linear(layout, strides), self.u32(k_base))
            return self.emit(Op.ShiftRightLogical, self.t_u32, index, self.u32(size.bit_length() - 1))

    def word_count(self, tid):
        info = self.m.type_info(tid)
        return 2 if info.width == 64 else 1

    def convert(self, t: DTensor, enc, shape, ttype):
        """Move a tensor to another encoding: renaming registers when both place elements in the
        same invocations, else through workgroup memory (barrier, write, barrier, read)."""
        dst = layout_of(enc, shape)
        if t.regs and all(x == t.regs[0] for x in t.regs) and self.m.is_constant(t.regs[0]):
            return DTensor(enc, dst, [t.regs[0]] * len(dst.regs))   # a splat constant is everywhere
        if same_distribution(t.layout, dst):
            index = t.layout.register_index()
            regs = [t.regs[index[tuple(0 if t.layout.shape[d] == 1 else r[d] for d in range(len(r)))]]
                    for r in dst.regs]
            return DTensor(enc, dst, regs)
        strides = row_major(shape)
        return self.exchange([(t, strides, 0)], [(enc, shape, strides, 0)], self.stype(ttype), numel(shape))[0]

    def exchange(self, sources, dests, rtype, elements):
        """Move data between layouts through workgroup memory. sources: (DTensor, strides, base):
        register r is written at base + sum(coord * strides); dests: (encoding, shape, strides,
        base): registers read back the same way. One barrier before the writes (earlier readers
        are done), one between writes and reads. Where the kernel bounds the scratch
        (scratch_bound, in words) below what this needs, in parts (_exchange_in_parts)."""
        nw = self.word_count(rtype)
        if dests and self.scratch_bound is not None and elements * nw > self.scratch_bound >= nw:
            return self._exchange_in_parts(sources, dests, rtype, elements)
        # Without destinations the caller reads the scratch itself (tt.gather): it cannot go in parts.
        self.workgroup.scratch(elements * nw, "layout conversion", divisible=bool(dests))
        self.barrier()
        for t, strides, base in sources:
            for idx, x in zip(self.linear_indices(t.layout, strides, base), t.regs):
                self.scratch_store(rtype, idx, x, elements)
        self.barrier()
        out = []
        for enc, shape, strides, base in dests:
            lay = layout_of(enc, shape)
            regs = [self.scratch_load(rtype, idx, elements) for idx in self.linear_indices(lay, strides, base)]
            out.append(DTensor(enc, lay, regs))
        return out

    def _exchange_in_parts(self, sources, dests, rtype, elements):
        """exchange() through `size` elements of scratch (the largest power of two within the
        bound), in a loop over the parts of the indices: barrier, the sources write their elements
        that lie in the part, barrier, the destinations read theirs (carried through the loop)."""
        nw = self.word_count(rtype)
        size = 1 << ((self.scratch_bound // nw).bit_length() - 1)
        self.workgroup.scratch(size * nw, "layout conversion, in parts", divisible=True)
        lays = [layout_of(enc, shape) for enc, shape, _, _ in dests]

        def one_part(index, carried):
            self.barrier()
            for t, strides, base in sources:
                for cond, at, members in self._in_part(t.layout, strides, base, size, index):
                    def write():
                        for i in members:
                            self.scratch_store(rtype, at[i], t.regs[i], size)
                    self.if_then(cond, write)
            self.barrier()
            out = []
            for lay, (_, _, strides, base) in zip(lays, dests):
                regs = list(carried[len(out):len(out) + len(lay.regs)])
                for cond, at, members in self._in_part(lay, strides, base, size, index):
                    got = self.if_then(cond, lambda: [self.scratch_load(rtype, at[i], size) for i in members],
                                       lambda: [regs[i] for i in members])
                    for i, x in zip(members, got):
                        regs[i] = x
                out += regs
            return out

        undefined = [self.const(rtype, 0)] * sum(len(lay.regs) for lay in lays)   # each read in one part
        regs = iter(counted_loop(self, self.t_u32, self.u32(0), self.u32(-(-elements // size)), self.u32(1),
                                 undefined, one_part, signed=False))
        return [DTensor(enc, lay, [next(regs) for _ in lay.regs]) for (enc, _, _, _), lay in zip(dests, lays)]

    def _in_part(self, layout, strides, base, size, index):
        """The registers of `layout` by group (layout.part_groups): (bool id: this invocation's
        registers of the group hold indices, base + sum(coord * strides) plus its part, in part
        `index` (a u32 id), {register: u32 id of its index less that part's start}, registers)."""
        thr = self.thread_linear(layout, strides)
        groups = part_groups(layout, strides, base, size)
        if any(k_base is not None for _, _, k_base in groups):   # made before the groups' branches
            back = self.emit(Op.ISub, self.t_u32, thr, self.emit(Op.IMul, self.t_u32, index, self.u32(size)))
        for (first, _, k_base), members in groups.items():
            at = {}
            for i in members:
                off = base + sum(o * s for o, s in zip(layout.regs[i], strides))
                if k_base is None:   # in part `first` in every invocation
                    off -= first * size
                    at[i] = self.u32(off) if thr is None else self.emit(Op.IAdd, self.t_u32, thr, self.u32(off))
                else:
                    at[i] = self.emit(Op.IAdd, self.t_u32, back, self.u32(off))
            mine = self.u32(first) if k_base is None else self.part_of(layout, strides, k_base, size)
            yield self.emit(Op.IEqual, self.t_bool, index, mine), at, members

    def scratch_store(self, rtype, idx, x, elements):
        """Store `x` as element `idx` (u32 id) of a tensor of `elements` elements (its words
        `elements` apart), for scratch_load."""
        for w, word in enumerate(self.to_words(rtype, x)):
            at = idx if w == 0 else self.emit(Op.IAdd, self.t_u32, idx, self.u32(w * elements))
            self.emit(Op.Store, None, self.workgroup.scratch_ptr(at), word)

    def scratch_load(self, rtype, idx, elements):
        """Element `idx` (u32 id) of a tensor of `elements` elements that exchange() wrote."""
        words = [self.emit(Op.Load, self.t_u32, self.workgroup.scratch_ptr(
            idx if w == 0 else self.emit(Op.IAdd, self.t_u32, idx, self.u32(w * elements))))
            for w in range(self.word_count(rtype))]
        return self.from_words(rtype, words)


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def row_major(shape):
    strides, s = [], 1
    for n in reversed(shape):
        strides.append(s)
        s *= n
    return tuple(reversed(strides))

