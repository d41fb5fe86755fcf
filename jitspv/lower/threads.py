"""Invocation coordinates: the part of LoweringContext (context.py) that computes, once per
kernel in the entry block, which invocation this is and which parts of a layout it holds."""
from __future__ import annotations

from jitspv.lower.spirv.grammar import Op, StorageClass, BuiltIn, Decoration


class Threads:
    def prologue(self):
        """Emit into the entry block, whose values dominate the whole function."""
        return self.f.in_block(self.entry_label)

    def builtin(self, which, vec3=False):
        key = (which, vec3)
        if key not in self._builtins:
            m = self.m
            t = m.type_vector(self.t_u32, 3) if vec3 else self.t_u32
            var = m.variable(m.type_pointer(StorageClass.Input, t), StorageClass.Input)
            m.decorate(var, Decoration.BuiltIn, which)
            with self.prologue():
                self._builtins[key] = self.emit(Op.Load, t, var)
        return self._builtins[key]

    def tid(self):
        """Invocation index in subgroup order: lanes of one subgroup are consecutive."""
        if "tid" not in self._thread_cache:
            sid = self.builtin(BuiltIn.SubgroupId)
            ssz = self.builtin(BuiltIn.SubgroupSize)
            lane = self.builtin(BuiltIn.SubgroupLocalInvocationId)
            with self.prologue():
                base = self.emit(Op.IMul, self.t_u32, sid, ssz)
                self._thread_cache["tid"] = self.emit(Op.IAdd, self.t_u32, base, lane)
        return self._thread_cache["tid"]

    def lane(self):
        return self.builtin(BuiltIn.SubgroupLocalInvocationId)

    def thread_term(self, term):
        key = ("term", term)
        if key not in self._thread_cache:
            tid = self.tid()
            with self.prologue():
                x = tid
                if term.stride > 1:
                    x = self.emit(Op.ShiftRightLogical, self.t_u32, x, self.u32(term.stride.bit_length() - 1))
                if term.stride * term.count < self.num_threads or term.stride > 1:
                    x = self.emit(Op.BitwiseAnd, self.t_u32, x, self.u32(term.count - 1))
                if term.scale > 1:
                    x = self.emit(Op.IMul, self.t_u32, x, self.u32(term.scale))
                self._thread_cache[key] = x
        return self._thread_cache[key]

    def thread_linear(self, layout, strides):
        """sum over dims of (thread part of coordinate) * strides[d], as u32 (None if zero)."""
        terms = tuple((t, s) for d, s in enumerate(strides) for t in layout.terms[d] if s)
        if not terms:
            return None
        key = ("lin", terms)
        if key not in self._thread_cache:
            parts = [self.thread_term(t) for t, _ in terms]
            with self.prologue():
                acc = None
                for (t, s), p in zip(terms, parts):
                    if s != 1:
                        p = self.emit(Op.IMul, self.t_u32, p, self.u32(s))
                    acc = p if acc is None else self.emit(Op.IAdd, self.t_u32, acc, p)
                self._thread_cache[key] = acc
        return self._thread_cache[key]

    def linear_indices(self, layout, strides, base=0):
        """Per register: u32 id of base + sum(coord_d * strides[d])."""
        thr = self.thread_linear(layout, strides)
        out = []
        for r in layout.regs:
            off = base + sum(o * s for o, s in zip(r, strides))
            out.append(self.u32(off) if thr is None else
                       (thr if off == 0 else self.emit(Op.IAdd, self.t_u32, thr, self.u32(off))))
        return out

    def is_owner(self, layout):
        """bool id (None when every invocation holds distinct data): this invocation performs the
        side effects for its elements; its replicas (same data, other invocations) do not."""
        if not layout.replica_mask:
            return None
        key = ("owner", layout.replica_mask)
        if key not in self._thread_cache:
            tid = self.tid()
            with self.prologue():
                bits = self.emit(Op.BitwiseAnd, self.t_u32, tid, self.u32(layout.replica_mask))
                self._thread_cache[key] = self.emit(Op.IEqual, self.t_bool, bits, self.u32(0))
        return self._thread_cache[key]

    def replica_index(self, layout):
        """u32 id (None without replicas): which of the invocations holding this one's data it is,
        0 .. 2**popcount(replica_mask) - 1 (its tid bits in replica_mask, packed), so that replicas
        can share out a side effect instead of each repeating it."""
        if not layout.replica_mask:
            return None
        key = ("replica", layout.replica_mask)
        if key not in self._thread_cache:
            tid = self.tid()
            with self.prologue():
                index, packed, bit = None, 0, 0
                while layout.replica_mask >> bit:
                    if not layout.replica_mask >> bit & 1:
                        bit += 1
                        continue
                    run = 0                    # a run of consecutive mask bits moves as one field
                    while layout.replica_mask >> (bit + run) & 1:
                        run += 1
                    field = self.emit(Op.BitFieldUExtract, self.t_u32, tid, self.u32(bit), self.u32(run))
                    if packed:
                        field = self.emit(Op.ShiftLeftLogical, self.t_u32, field, self.u32(packed))
                    index = field if index is None else self.emit(Op.BitwiseOr, self.t_u32, index, field)
                    packed, bit = packed + run, bit + run
                self._thread_cache[key] = index
        return self._thread_cache[key]

    def first_invocation(self):
        """bool id: tid == 0 (the one invocation that performs a scalar side effect)."""
        key = ("first",)
        if key not in self._thread_cache:
            tid = self.tid()
            with self.prologue():
                self._thread_cache[key] = self.emit(Op.IEqual, self.t_bool, tid, self.u32(0))
        return self._thread_cache[key]
