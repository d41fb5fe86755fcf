"""Inline `tt.call`s of the functions Triton leaves outlined (`@triton.jit(noinline=True)`).

The lowering sees one kernel function: each call site gets a copy of the callee's body, its block
arguments bound to the call's operands and its `tt.return` operands standing for the call's
results. Copies keep the callee's source locations, so errors still name the helper's lines.
(A SPIR-V function per callee would only save code size; Triton cannot recurse.)
"""
from __future__ import annotations

from jitspv.ttir import ir

_MAX_DEPTH = 64


def inline_calls(module: ir.Module, kernel: ir.Function) -> None:
    """Replace every tt.call in `kernel` (and in what it calls) by the callee's body."""
    functions = {f.sym_name: f for f in module.functions}
    results = {}   # call result -> the value that replaces it
    _inline_block(kernel.body.entry, functions, results, 0)
    if results:
        for op in kernel.walk():
            op.operands = [_resolve(v, results) for v in op.operands]


def _resolve(v, results):
    while v in results:
        v = results[v]
    return v


def _inline_block(block: ir.Block, functions, results, depth):
    if depth > _MAX_DEPTH:
        raise ValueError("tt.call nesting deeper than 64 (recursion is not supported)")
    ops = []
    for op in block.operations:
        if op.name != "tt.call":
            for region in op.regions:
                for b in region.blocks:
                    _inline_block(b, functions, results, depth)
            ops.append(op)
            continue
        body = functions[op.attributes["callee"].name].body.entry
        vmap = dict(zip(body.arguments, op.operands))
        copied = ir.Block()
        for inner in body.operations:
            if inner.name == "tt.return":
                for res, v in zip(op.results, inner.operands):
                    results[res] = vmap.get(v, v)
                break
            copied.append(ir.clone(inner, vmap))
        # The copy may hold calls of its own.
        _inline_block(copied, functions, results, depth + 1)
        ops.extend(copied.operations)
    block.operations = []
    for op in ops:
        block.append(op)
