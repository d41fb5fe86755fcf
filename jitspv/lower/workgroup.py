"""Workgroup memory of one kernel: the one allocator every rule asks, and the one check of the
total against the device.

Two kinds of storage:
- `variable(key, elem_type, count, who)`: a Workgroup array of its own (the dot operand pool, a
  small reduction's partials), declared on the first ask and returned again for the same key.
- the scratch (`scratch(words, who)`, `scratch_ptr(index)`): u32 words that layout conversions,
  histograms and cross-subgroup exchanges use one after another (each use is bracketed by
  barriers), as large as the largest request and declared in `finish`, once that is known.

`finish` checks the sum against the device's limit once; OutOfResources names each user and
its bytes.
"""
from __future__ import annotations

import os

from jitspv.lower.errors import OutOfResources
from jitspv.lower.spirv.grammar import Op, StorageClass

_WG = StorageClass.Workgroup


class WorkgroupMemory:
    def __init__(self, ctx):
        self._ctx = ctx
        self._variables = {}          # key -> (variable id, bytes, who)
        self.scratch_words = 0
        self._scratch_who = None      # the request that sized the scratch
        self._scratch_var = None      # id taken on first use, declared in finish()
        self.fixed_scratch_words = 0  # the largest request that cannot go in parts (not divisible)

    def variable(self, key, elem_type, count, who):
        """The Workgroup array `key` of `count` elements of `elem_type`; `who` names it in errors."""
        if key not in self._variables:
            m = self._ctx.m
            var = m.variable(m.type_pointer(_WG, m.type_array(elem_type, count)), _WG)
            self._variables[key] = (var, count * _type_bytes(m, elem_type), who)
        return self._variables[key][0]

    def scratch(self, words, who, divisible=False):
        """Make the scratch at least `words` u32 words long for the op being lowered (`who`: what for);
        `divisible`: the op could use it in parts (DataMovement.exchange under a scratch bound)."""
        if not divisible:
            self.fixed_scratch_words = max(self.fixed_scratch_words, words)
        if words > self.scratch_words:
            self.scratch_words = words
            self._scratch_who = f"{who} of {describe(self._ctx.op)}"

    def scratch_ptr(self, index):
        """Pointer to u32 word `index` (an id) of the scratch."""
        ctx = self._ctx
        ptr_type = ctx.m.type_pointer(_WG, ctx.t_u32)
        if self._scratch_var is None:
            self._scratch_var = ctx.m.new_id()
        return ctx.emit(Op.AccessChain, ptr_type, self._scratch_var, index)

    def bytes_of(self, key):
        """Bytes of the variable `key` (0 when the kernel has none)."""
        return self._variables[key][1] if key in self._variables else 0

    @property
    def total_bytes(self):
        return self.scratch_words * 4 + sum(nbytes for _, nbytes, _ in self._variables.values())

    def finish(self):
        """Check the total against the device's limit, then declare the scratch at its final size."""
        limit = self._ctx.target.max_shared_memory
        if self.total_bytes > limit:
            needs = [(who, nbytes) for _, nbytes, who in self._variables.values()]
            if self.scratch_words:
                needs.append((f"scratch sized by the {self._scratch_who}", self.scratch_words * 4))
            raise OutOfResources(self.total_bytes, limit, "shared memory", needs)
        if self._scratch_var is not None:
            m = self._ctx.m
            arr = m.type_array(self._ctx.t_u32, self.scratch_words)
            m.variable(m.type_pointer(_WG, arr), _WG, result_id=self._scratch_var)


def _type_bytes(m, type_id):
    info = m.type_info(type_id)
    return info.width // 8 * (info.count if info.kind == "vector" else 1)


def describe(op):
    """An op and its source line, for messages."""
    if op is None:
        return "the kernel"
    loc = op.location
    if loc is None or not getattr(loc, "line", None):
        return op.name
    return f"{op.name} at {os.path.basename(loc.file or '?')}:{loc.line}"
