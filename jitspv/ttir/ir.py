"""A small Python IR for TTIR: what the lowering walks.

Types are immutable and print in MLIR syntax (``str(t)``). Operations keep their MLIR name,
operands, results, attributes (name -> attribute object below), regions, successors and a
source location. ``tt.func`` operations are ``Function`` objects with convenience accessors.
"""

from __future__ import annotations

import dataclasses
from typing import Any


# ----------------------------------------------------------------------------------- types
class Type:
    is_tensor = False
    is_pointer = False

    @property
    def element_type(self) -> "Type":
        """Element type of a tensor; the type itself for scalars and pointers."""
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        return ()


@dataclasses.dataclass(frozen=True)
class IntType(Type):
    width: int

    def __str__(self):
        return f"i{self.width}"


@dataclasses.dataclass(frozen=True)
class IndexType(Type):
    def __str__(self):
        return "index"


@dataclasses.dataclass(frozen=True)
class FloatType(Type):
    """f16, bf16, f32, f64, tf32 and the fp8 variants, kept under their MLIR names (f8E5M2, ...)."""
    name: str

    @property
    def width(self) -> int:
        return {"f16": 16, "bf16": 16, "f32": 32, "f64": 64, "tf32": 19}.get(self.name, 8)

    def __str__(self):
        return self.name


@dataclasses.dataclass(frozen=True)
class PointerType(Type):
    pointee: Type
    address_space: int = 1
    is_pointer = True

    def __str__(self):
        space = "" if self.address_space == 1 else f", {self.address_space}"
        return f"!tt.ptr<{self.pointee}{space}>"


@dataclasses.dataclass(frozen=True)
class TensorType(Type):
    dims: tuple[int, ...]
    element: Type
    is_tensor = True

    @property
    def element_type(self) -> Type:
        return self.element

    @property
    def shape(self) -> tuple[int, ...]:
        return self.dims

    def __str__(self):
        return "tensor<" + "".join(f"{d}x" for d in self.dims) + f"{self.element}>"


@dataclasses.dataclass(frozen=True)
class TensorDescType(Type):
    """``!tt.tensordesc<tensor<...>>``; the TTIR passes normally rewrite these to pointers."""
    block: TensorType

    def __str__(self):
        return f"!tt.tensordesc<{self.block}>"


@dataclasses.dataclass(frozen=True)
class FunctionType(Type):
    inputs: tuple[Type, ...]
    results: tuple[Type, ...]

    def __str__(self):
        res = ", ".join(map(str, self.results))
        if len(self.results) != 1 or isinstance(self.results[0], FunctionType):
            res = f"({res})"
        return f"({', '.join(map(str, self.inputs))}) -> {res}"


def with_element(t: Type, element: Type) -> Type:
    """``t`` with its element type replaced (keeps the shape of tensors)."""
    return TensorType(t.dims, element) if isinstance(t, TensorType) else element


I1 = IntType(1)


# ------------------------------------------------------------------------------ attributes
@dataclasses.dataclass(frozen=True)
class IntAttr:
    value: int
    type: Type

    def __str__(self):
        return f"{self.value} : {self.type}"


@dataclasses.dataclass(frozen=True)
class FloatAttr:
    value: float
    type: Type
    text: str  # MLIR's spelling (keeps hex forms like 0xFF800000 exact)

    def __str__(self):
        return f"{self.text} : {self.type}"


@dataclasses.dataclass(frozen=True)
class BoolAttr:
    value: bool

    def __str__(self):
        return "true" if self.value else "false"


@dataclasses.dataclass(frozen=True)
class StrAttr:
    value: str

    def __str__(self):
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\0A")
        return f'"{escaped}"'


@dataclasses.dataclass(frozen=True)
class UnitAttr:
    def __str__(self):
        return "unit"


@dataclasses.dataclass(frozen=True)
class TypeAttr:
    type: Type

    def __str__(self):
        return str(self.type)


@dataclasses.dataclass(frozen=True)
class SymbolRefAttr:
    name: str

    def __str__(self):
        return f"@{self.name}"


@dataclasses.dataclass(frozen=True)
class ArrayAttr:
    items: tuple

    def __str__(self):
        return "[" + ", ".join(map(str, self.items)) + "]"


@dataclasses.dataclass(frozen=True)
class DictAttr:
    items: tuple[tuple[str, Any], ...]

    def get(self, name, default=None):
        return dict(self.items).get(name, default)

    def __str__(self):
        return "{" + ", ".join(_entry(k, v) for k, v in self.items) + "}"


@dataclasses.dataclass(frozen=True)
class DenseArrayAttr:
    element: Type
    values: tuple

    def __str__(self):
        body = ": " + ", ".join(map(str, self.values)) if self.values else ""
        return f"array<{self.element}{body}>"


@dataclasses.dataclass(frozen=True)
class DenseAttr:
    """``dense<...> : tensor<...>``. ``values`` is a nested list (or one value for a splat);
    ``text`` is MLIR's spelling of the contents."""
    type: TensorType
    values: Any
    text: str

    @property
    def is_splat(self) -> bool:
        return not isinstance(self.values, list)

    def __str__(self):
        return f"dense<{self.text}> : {self.type}"


@dataclasses.dataclass(frozen=True)
class EnumAttr:
    """An enum printed as a keyword in custom assembly (``slt``, ``acq_rel``, ``cg``).

    ``value`` is the integer MLIR stores; ``storage`` its integer type."""
    name: str
    value: int
    storage: IntType

    def __str__(self):
        return f"{self.value} : {self.storage}"


@dataclasses.dataclass(frozen=True)
class OpaqueAttr:
    """A dialect attribute kept as text: ``#arith.fastmath<fast>``, ``#tt.cache_policy<...>``."""
    text: str

    def __str__(self):
        return self.text


def _entry(name: str, value) -> str:
    return name if isinstance(value, UnitAttr) else f"{name} = {value}"


# ------------------------------------------------------------------------ IR structure
@dataclasses.dataclass(frozen=True)
class Location:
    """A source position: file, line, column; ``name`` is the variable name Triton attaches."""
    file: str
    line: int
    col: int
    name: str | None = None

    def __str__(self):
        return f"{self.file}:{self.line}:{self.col}"


class Value:
    """An SSA value: an operation result or a block argument."""

    def __init__(self, type: Type, owner, index: int, name: str | None = None):
        self.type = type
        self.owner = owner  # Operation for results, Block for block arguments
        self.index = index
        self.name = name

    def __repr__(self):
        return f"<Value %{self.name} : {self.type}>"


class Block:
    def __init__(self, arg_types=(), arg_names=(), arg_locations=()):
        self.arguments = [Value(t, self, i, n) for i, (t, n) in enumerate(zip(arg_types, arg_names))]
        self.argument_locations = list(arg_locations)
        self.operations: list[Operation] = []
        self.parent: Region | None = None

    def add_argument(self, type: Type, name: str | None = None, location: Location | None = None) -> Value:
        v = Value(type, self, len(self.arguments), name)
        self.arguments.append(v)
        self.argument_locations.append(location)
        return v

    def append(self, op: "Operation") -> "Operation":
        op.parent = self
        self.operations.append(op)
        return op


class Region:
    def __init__(self, blocks=()):
        self.blocks: list[Block] = []
        for b in blocks:
            self.append(b)

    def append(self, block: Block) -> Block:
        block.parent = self
        self.blocks.append(block)
        return block

    @property
    def entry(self) -> Block:
        return self.blocks[0]


class Operation:
    def __init__(self, name: str, operands=(), result_types=(), attributes=None, regions=(), successors=(),
                 location: Location | None = None, result_names=()):
        self.name = name
        self.operands: list[Value] = list(operands)
        names = list(result_names) + [None] * (len(result_types) - len(result_names))
        self.results = [Value(t, self, i, n) for i, (t, n) in enumerate(zip(result_types, names))]
        self.attributes: dict[str, Any] = dict(attributes or {})
        self.regions: list[Region] = list(regions)
        self.successors: list[Block] = list(successors)
        self.location = location
        self.parent: Block | None = None

    @property
    def result(self) -> Value:
        if len(self.results) != 1:
            raise ValueError(f"{self.name} has {len(self.results)} results")
        return self.results[0]

    def walk(self):
        """This operation and every operation nested in its regions, in program order."""
        yield self
        for region in self.regions:
            for block in region.blocks:
                for op in block.operations:
                    yield from op.walk()

    def __repr__(self):
        return f"<Operation {self.name} at {self.location}>"


class Function(Operation):
    """A ``tt.func``: attributes ``sym_name``, ``function_type``, optional ``sym_visibility``
    and ``arg_attrs`` (one DictAttr per argument), as MLIR stores them."""

    @property
    def sym_name(self) -> str:
        return self.attributes["sym_name"].value

    @property
    def type(self) -> FunctionType:
        return self.attributes["function_type"].type

    @property
    def visibility(self) -> str:
        vis = self.attributes.get("sym_visibility")
        return vis.value if vis is not None else "public"

    @property
    def body(self) -> Region:
        return self.regions[0]

    @property
    def arguments(self) -> list[Value]:
        return self.body.entry.arguments

    def arg_attr(self, index: int, name: str, default=None):
        attrs = self.attributes.get("arg_attrs")
        return attrs.items[index].get(name, default) if attrs is not None else default


class Module:
    def __init__(self, body: Block, attributes=None, location: Location | None = None):
        self.body = body
        self.attributes: dict[str, Any] = dict(attributes or {})
        self.location = location

    @property
    def functions(self) -> list[Function]:
        return [op for op in self.body.operations if isinstance(op, Function)]

    def function(self, name: str) -> Function:
        for f in self.functions:
            if f.sym_name == name:
                return f
        raise KeyError(name)

    def walk(self):
        for op in self.body.operations:
            yield from op.walk()


def clone(op: Operation, vmap: dict) -> Operation:
    """A copy of `op` (its regions too) whose operands are mapped through `vmap` (values not in it
    stay); `vmap` learns each copied result and block argument. Locations are kept."""
    new = Operation(op.name, [vmap.get(v, v) for v in op.operands], [r.type for r in op.results],
                    op.attributes, [clone_region(r, vmap) for r in op.regions], location=op.location,
                    result_names=[r.name for r in op.results])
    for old, res in zip(op.results, new.results):
        vmap[old] = res
    return new


def clone_region(region: Region, vmap: dict) -> Region:
    out = Region()
    for block in region.blocks:
        nb = out.append(Block([a.type for a in block.arguments], [a.name for a in block.arguments],
                              block.argument_locations))
        vmap.update(zip(block.arguments, nb.arguments))
        for op in block.operations:
            nb.append(clone(op, vmap))
    return out
