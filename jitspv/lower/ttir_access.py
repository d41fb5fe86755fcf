"""Plain-Python views of TTIR attributes and types, as the lowering rules want them."""
from __future__ import annotations

from jitspv.ttir import ir

_MISSING = object()


def attr(op, name, default=_MISSING):
    """Attribute `name` of `op` as a Python value: int, float, bool, str (enums by keyword), list
    (arrays, non-splat dense), or the scalar of a splat dense."""
    a = op.attributes.get(name)
    if a is None:
        if default is _MISSING:
            raise KeyError(f"{op.name} has no attribute '{name}'")
        return default
    return value_of(a)


def value_of(a):
    if isinstance(a, (ir.IntAttr, ir.FloatAttr, ir.BoolAttr, ir.StrAttr)):
        v = a.value
        if isinstance(a, ir.IntAttr) and isinstance(a.type, ir.IntType) and a.type.width == 1:
            return bool(v)
        return v
    if isinstance(a, ir.EnumAttr):
        return a.name
    if isinstance(a, ir.UnitAttr):
        return True
    if isinstance(a, ir.DenseAttr):
        if a.is_splat:
            return a.values
        return list(_flatten(a.values))
    if isinstance(a, ir.ArrayAttr):
        return [value_of(x) for x in a.items]
    if isinstance(a, ir.DenseArrayAttr):
        return list(a.values)
    return a


def _flatten(v):
    if isinstance(v, list):
        for x in v:
            yield from _flatten(x)
    else:
        yield v


def type_name(t) -> str:
    """'i32', 'f16', 'bf16', 'ptr' ... of a scalar type (the element type of a tensor)."""
    if t.is_tensor:
        t = t.element
    if t.is_pointer:
        return "ptr"
    return str(t)


def bits(t) -> int:
    if t.is_tensor:
        t = t.element
    if t.is_pointer:
        return 64
    return t.width


def elem_bytes(t) -> int:
    """Bytes of one element of scalar type `t` (of a tensor's elements): pointers 8, i1 1."""
    return max(1, bits(t) // 8)


def pointee(t):
    """What a pointer type (a tensor of pointers) points to."""
    return (t.element if t.is_tensor else t).pointee
