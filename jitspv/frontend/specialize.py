"""Specialization: which Triton type and which facts (divisible by 16, equal to 1) a launch argument gets.

Mirrors Triton's `specialize_impl` (C++ `native_specialize_impl` in 3.9, Python in 3.6) so that a
kernel compiled by jitspv sees exactly the TTIR Triton would build for the same call:

  None            -> constexpr None
  bool            -> u1 (never specialized)
  int             -> i32 if it fits, else i64, else u64; == 1 becomes a constexpr when specialized;
                     divisibility by 16 recorded when specialized (and alignment not disabled)
  float           -> fp32 (never specialized)
  pointer-likes   -> "*<dtype>" ("*k<dtype>" for const params), divisibility of the address by 16

A specialization is a pair (type string, attribute) where the attribute is "D" (divisible by 16),
"" (nothing known), or None (not specialized) — the same pairs Triton computes, which the tests
compare against Triton's own function.
"""
from __future__ import annotations

import numpy as np

# Canonical Triton names of element types, keyed by the names numpy, torch and triton.language use.
_DTYPE_NAMES = {
    "bool": "u1", "int1": "u1", "uint1": "u1", "i1": "u1", "u1": "u1",
    "float8e4nv": "fp8e4nv", "float8_e4m3fn": "fp8e4nv", "float8e5": "fp8e5", "float8_e5m2": "fp8e5",
    "float8e4b15": "fp8e4b15", "float8e4b8": "fp8e4b8", "float8_e4m3fnuz": "fp8e4b8",
    "float8e5b16": "fp8e5b16", "float8_e5m2fnuz": "fp8e5b16",
    "half": "fp16", "float16": "fp16", "bfloat16": "bf16",
    "float": "fp32", "float32": "fp32", "double": "fp64", "float64": "fp64",
    "int8": "i8", "int16": "i16", "int": "i32", "int32": "i32", "int64": "i64",
    "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
}
for _v in list(_DTYPE_NAMES.values()):
    _DTYPE_NAMES[_v] = _v

_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1
_U64_MAX = 2**64 - 1


_CANONICAL = {}   # dtype object -> Triton name; launches look dtypes up here, not by string work


def canonical_dtype(dtype) -> str:
    """Triton's name ("fp32", "i64", "u1", ...) for a numpy/torch/triton.language dtype or its name."""
    try:
        return _CANONICAL[dtype]
    except (KeyError, TypeError):
        pass
    name = _canonical_name(dtype)
    try:
        _CANONICAL[dtype] = name
    except TypeError:
        pass
    return name


def _canonical_name(dtype) -> str:
    if isinstance(dtype, np.dtype):
        name = dtype.name
    elif isinstance(dtype, type) and issubclass(dtype, np.generic):
        name = np.dtype(dtype).name
    else:
        name = getattr(dtype, "name", None) if not isinstance(dtype, str) else dtype
        if not isinstance(name, str):
            name = str(dtype)
        name = name.rsplit(".", 1)[-1]
    try:
        return _DTYPE_NAMES[name]
    except KeyError:
        raise TypeError(f"unsupported element type {dtype!r}") from None


def int_type(value: int) -> str:
    """The Triton integer type of a Python int argument, chosen by value as Triton does."""
    if _I32_MIN <= value <= _I32_MAX:
        return "i32"
    if _I64_MIN <= value <= _I64_MAX:
        return "i64"
    if 0 <= value <= _U64_MAX:
        return "u64"
    raise OverflowError(f"integer {value} does not fit in 64 bits")   # as Triton's specializer


def specialize_int(value: int, specialize: bool, align: bool):
    if specialize and value == 1:
        return ("constexpr", 1)
    ty = int_type(value)
    if not specialize:
        return (ty, None)
    return (ty, "D" if align and value % 16 == 0 else "")


def specialize_pointer(dtype_name: str, address: int, is_const: bool, specialize: bool, align: bool):
    ty = ("*k" if is_const else "*") + dtype_name
    if not specialize:
        return (ty, None)
    return (ty, "D" if align and address % 16 == 0 else "")

