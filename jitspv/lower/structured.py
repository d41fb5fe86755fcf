"""Structured control flow: the part of LoweringContext (context.py) that opens blocks and
emits selections with their merges (loops are rules/control.py's)."""
from __future__ import annotations

from jitspv.lower.spirv.grammar import Op


class StructuredControl:
    def new_label(self):
        return self.f.label()

    def start_block(self, label):
        self.f.begin_block(label)
        self.label = label

    def branch(self, label):
        self.emit(Op.Branch, None, label)

    def if_then(self, cond, then_fn, else_fn=None):
        """Structured if/else. then_fn/else_fn emit their blocks and return lists of result ids;
        returns phis merging them (an else_fn is required when results are returned)."""
        then_l, merge_l = self.new_label(), self.new_label()
        else_l = self.new_label() if else_fn else merge_l
        self.emit(Op.SelectionMerge, None, merge_l, 0)
        self.emit(Op.BranchConditional, None, cond, then_l, else_l)
        self.start_block(then_l)
        then_vals = then_fn() or []
        then_end = self.label
        self.branch(merge_l)
        else_vals, else_end = [], None
        if else_fn:
            self.start_block(else_l)
            else_vals = else_fn() or []
            else_end = self.label
            self.branch(merge_l)
        self.start_block(merge_l)
        return [self.f.phi(self.m.type_of(a), (a, then_end), (b, else_end))
                for a, b in zip(then_vals, else_vals)]
