"""jitspv.ttir.ir -> MLIR text in the generic operation form.

The generic form (``%0 = "arith.addi"(%a, %b) {attrs} : (i32, i32) -> i32``) is the same for
every op, so one short printer covers them all, and MLIR's parser (Triton's
``ir.parse_mlir_module``) reads it back for any registered op. Inherent attributes go in the
attribute dictionary, which MLIR accepts in place of ``<{...}>`` properties.
"""

from __future__ import annotations

from jitspv.ttir import ir

# Ops whose optional operand groups MLIR can only tell apart with operandSegmentSizes:
# tt.load(ptr, mask?, other?).
_SEGMENTED = {"tt.load": 3}


class _Printer:
    def __init__(self, locations: bool):
        self.locations = locations
        self.names: dict[int, str] = {}
        self.lines: list[str] = []

    def name(self, v: ir.Value) -> str:
        return self.names[id(v)]

    def loc(self, loc: ir.Location | None) -> str:
        if not self.locations or loc is None:
            return ""
        inner = f'"{loc.file}":{loc.line}:{loc.col}'
        return f' loc("{loc.name}"({inner}))' if loc.name else f" loc({inner})"

    def attrs(self, op: ir.Operation) -> dict:
        attrs = dict(op.attributes)
        groups = _SEGMENTED.get(op.name)
        if groups:
            n = len(op.operands)
            attrs["operandSegmentSizes"] = ir.DenseArrayAttr(ir.IntType(32), tuple(1 if i < n else 0 for i in range(groups)))
        return attrs

    def op(self, op: ir.Operation, indent: str):
        head = ""
        if op.results:
            first = f"%{len(self.names)}"
            for i, r in enumerate(op.results):
                self.names[id(r)] = first if len(op.results) == 1 else f"{first}#{i}"
            head = first + (f":{len(op.results)}" if len(op.results) > 1 else "") + " = "
        operands = ", ".join(self.name(v) for v in op.operands)
        if op.successors:   # blocks are named by their index in the region, as region() prints them
            operands += ") [" + ", ".join(f"^bb{b.parent.blocks.index(b)}" for b in op.successors) + "]"
        else:
            operands += ")"
        self.lines.append(f'{indent}{head}"{op.name}"({operands}' + (" (" if op.regions else ""))
        for i, region in enumerate(op.regions):
            self.region(region, indent + "  ")
            if i + 1 < len(op.regions):
                self.lines[-1] += ","
        attrs = self.attrs(op)
        tail = (") " if op.regions else " ")
        if attrs:
            tail += "{" + ", ".join(ir._entry(k, v) for k, v in attrs.items()) + "} "
        fty = ir.FunctionType(tuple(v.type for v in op.operands), tuple(r.type for r in op.results))
        tail += f": {fty}{self.loc(op.location)}"
        if op.regions:
            self.lines.append(indent + tail)
        else:
            self.lines[-1] += tail

    def region(self, region: ir.Region, indent: str):
        self.lines[-1] += "{"
        for bi, block in enumerate(region.blocks):
            for a in block.arguments:
                self.names[id(a)] = f"%arg{len(self.names)}"
            if block.arguments or bi > 0:
                args = ", ".join(f"{self.name(a)}: {a.type}{self.loc(block.argument_locations[i])}"
                                 for i, a in enumerate(block.arguments))
                self.lines.append(f"{indent}^bb{bi}" + (f"({args})" if args else "") + ":")
            for op in block.operations:
                self.op(op, indent + "  ")
        self.lines.append(indent[:-2] + "}")


def print_module(module: ir.Module, locations: bool = True) -> str:
    """MLIR generic-form text of ``module``; ``locations`` adds loc(...) to every op."""
    p = _Printer(locations)
    attrs = ""
    if module.attributes:
        attrs = " attributes {" + ", ".join(ir._entry(k, v) for k, v in module.attributes.items()) + "}"
    p.lines.append(f"module{attrs} {{")
    for op in module.body.operations:
        p.op(op, "  ")
    p.lines.append("}")
    return "\n".join(p.lines) + "\n"
