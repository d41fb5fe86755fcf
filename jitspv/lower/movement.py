"""Data movement through workgroup memory: the part of LoweringContext (context.py) that
moves registers between invocations (barriers, values split into u32 words, layout conversion).
Where the words live is lower/workgroup.py's business."""
from __future__ import annotations

from jitspv.lower.layout import layout_of, same_distribution
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
        are done), one between writes and reads."""
        nw = self.word_count(rtype)
        self.workgroup.scratch(elements * nw, "layout conversion")
        self.barrier()
        for t, strides, base in sources:
            for idx, x in zip(self.linear_indices(t.layout, strides, base), t.regs):
                for w, word in enumerate(self.to_words(rtype, x)):
                    at = idx if w == 0 else self.emit(Op.IAdd, self.t_u32, idx, self.u32(w * elements))
                    self.emit(Op.Store, None, self.workgroup.scratch_ptr(at), word)
        self.barrier()
        out = []
        for enc, shape, strides, base in dests:
            lay = layout_of(enc, shape)
            regs = [self.scratch_load(rtype, idx, elements) for idx in self.linear_indices(lay, strides, base)]
            out.append(DTensor(enc, lay, regs))
        return out

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

