"""Argument binding: from `k[grid](*args, **kwargs)` to a specialization key and launch values.

Built once per kernel (`BindingPlan`), used on every launch: a generated function binds
positional/keyword arguments and defaults exactly like calling the Python function would
(without `inspect.Signature.bind`, which costs microseconds per call), then each runtime argument
is specialized and turned into the value that goes into the argument block.
"""
from __future__ import annotations

import keyword
from dataclasses import dataclass

import numpy as np
from triton.runtime.jit import MockTensor, TensorWrapper

from jitspv.frontend import specialize as spec
from jitspv.frontend.runtime import device_array_type
from jitspv.frontend.host_arrays import HostTransfers, is_host_array



@dataclass(frozen=True)
class ParamInfo:
    index: int
    name: str
    is_constexpr: bool
    is_const: bool
    specialize: bool
    align: bool
    annotation_type: str   # "" or Triton type string forced by the annotation ("i64", "*fp16", ...)


def make_binder(name: str, signature, kernel_name: str):
    """A function taking the kernel's parameters (+ **options) and returning (values, options).

    It is generated (as Triton does) because a plain Python call is the fastest binder there is,
    and its TypeErrors for missing/duplicate arguments name the parameter and the kernel.
    """
    import inspect
    fn_name = kernel_name if kernel_name.isidentifier() and not keyword.iskeyword(kernel_name) else "kernel"
    params, names, namespace, has_star = [], [], {}, False
    for i, (pname, p) in enumerate(signature.parameters.items()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise TypeError(f"kernel {name}: *args/**kwargs parameters are not supported")
        if p.kind == p.KEYWORD_ONLY and not has_star:
            params.append("*")
            has_star = True
        if p.default is inspect.Parameter.empty:
            params.append(pname)
        else:
            namespace[f"_jitspv_default_{i}"] = p.default
            params.append(f"{pname}=_jitspv_default_{i}")
        names.append(pname)
    values = "(" + "".join(f"{n}, " for n in names) + ")"
    src = f"def {fn_name}({', '.join(params + ['**_jitspv_options'])}):\n    return {values}, _jitspv_options\n"
    exec(compile(src, f"<jitspv binder for {name}>", "exec"), namespace)
    return namespace[fn_name]


class BindingPlan:
    """Everything about a kernel's parameters that does not change between launches."""

    def __init__(self, jit_fn):
        import inspect
        self.name = jit_fn.__name__
        signature = inspect.signature(jit_fn.fn)
        self.bind = make_binder(self.name, signature, jit_fn.fn.__name__)
        self.params = tuple(
            ParamInfo(p.num, p.name, p.is_constexpr, p.is_const, not p.do_not_specialize,
                      not getattr(p, "do_not_specialize_on_alignment", False), p.annotation_type)
            for p in jit_fn.params)
        self.names = tuple(p.name for p in self.params)
        self.constexpr_indices = tuple(p.index for p in self.params if p.is_constexpr)
        self.runtime_params = tuple(p for p in self.params if not p.is_constexpr)
        self._specializer = None   # made at the first launch (the device array type is known then)

    def specialize(self, values, transfers: HostTransfers | None, mock_ok: bool = False):
        """(specialization per runtime param, launch value per param index) for bound `values`.

        Host arrays are registered with `transfers` (device copies made there); `mock_ok` lets
        warmup take dtypes in place of arrays, as Triton's warmup does.
        """
        if self._specializer is None:
            self._specializer = _make_specializer(self.runtime_params)
        try:
            return self._specializer(values, transfers, mock_ok)
        except TypeError as e:
            raise TypeError(f"{self.name}(): {e}") from None

    def constexpr_values(self, values):
        out = []
        for i in self.constexpr_indices:
            v = values[i]
            if type(v) is not int:
                v = _constexpr_key(v)
            try:
                hash(v)
            except TypeError:
                raise TypeError(f"constexpr parameter {self.names[i]!r} of {self.name} must be hashable, "
                                f"got {type(v).__name__}") from None
            out.append(v)
        return tuple(out)


def specialize_value(p: ParamInfo, v, transfers, mock_ok):
    """(specialization, launch value) of runtime parameter `p` given `v`: every case."""
    t = type(v)
    if t is device_array_type():
        address = v.data_ptr()
        s = spec.specialize_pointer(spec.canonical_dtype(v.dtype), address, p.is_const, p.specialize, p.align)
    elif t is int:
        s, address = spec.specialize_int(v, p.specialize, p.align), v
    elif t is float:
        s, address = ("fp32", None), v
    elif t is bool:
        s, address = ("u1", None), int(v)
    elif v is None:
        s, address = ("constexpr", None), v
    else:
        s, address = _specialize_object(p, v, transfers, mock_ok)
    if p.annotation_type:
        s = _apply_annotation(p, s)
    return s, address


def _make_specializer(runtime_params):
    """specialize(values, transfers, mock_ok) -> (specs, launch values) for these parameters,
    generated as Triton generates its binder: the common cases inline (a device array: its
    specialization looked up by (dtype, 16-byte alignment); an int in i32 range other than 1),
    each other value through specialize_value. The specializations are those specialize_value
    gives (the lookups are filled from it)."""
    namespace = {"Array": device_array_type(), "specialize_value": specialize_value}
    lines = ["def specialize(values, transfers, mock_ok):", "    launch = list(values)"]
    for k, p in enumerate(runtime_params):
        namespace[f"p{k}"] = p
        generic = f"s{k}, launch[{p.index}] = specialize_value(p{k}, v, transfers, mock_ok)"
        lines.append(f"    v = values[{p.index}]")
        if p.annotation_type:
            lines.append(f"    {generic}")
            continue
        namespace[f"ptr{k}"] = {}   # (dtype, address & 15) -> specialization
        namespace[f"int{k}"] = (spec.specialize_int(16, p.specialize, p.align),
                                spec.specialize_int(17, p.specialize, p.align))
        lines += [
            "    t = type(v)",
            "    if t is Array:",
            "        a = v.data_ptr()",
            f"        launch[{p.index}] = a",
            f"        s{k} = ptr{k}.get((v.dtype, a & 15))",
            f"        if s{k} is None:",
            f"            s{k} = ptr{k}[v.dtype, a & 15] = specialize_value(p{k}, v, None, False)[0]",
            "    elif t is int and v != 1 and -2147483648 <= v <= 2147483647:",
            f"        s{k} = int{k}[0] if v & 15 == 0 else int{k}[1]",
            "    else:",
            f"        {generic}"]
    lines.append(f"    return ({''.join(f's{k}, ' for k in range(len(runtime_params)))}), launch")
    exec(compile("\n".join(lines) + "\n", "<jitspv specializer>", "exec"), namespace)
    return namespace["specialize"]


def _constexpr_key(v):
    """What identifies a non-int constexpr value in the in-memory cache, where Python's equality
    is wrong: NaN != NaN (a miss per launch), 0.0 == -0.0 and 2 == 2.0 == True (a kernel built for
    one reused for the other). The type is part of the key; NaN and zeros go by repr, as in the disk key."""
    t = type(v)
    if t is float:
        return (float, v) if v == v and v else (float, repr(v))
    if t is bool:
        return (bool, v)
    if t is list or t is tuple:
        return tuple(map(_constexpr_key, v))
    return v


def _apply_annotation(p: ParamInfo, s):
    # Triton: an annotated type wins; annotated floats/bools are never specialized.
    ann = p.annotation_type
    if ann == "u1" or ann[:2] in ("fp", "bf") or not p.specialize:
        return (ann, None)
    # The value's fact is kept as Triton keeps it (an int 1 leaves its 1 there: no attribute).
    return (ann, s[1])


def _pointer(p: ParamInfo, dtype, address):
    try:
        name = spec.canonical_dtype(dtype)
    except TypeError:
        raise TypeError(f"argument {p.name!r}: unsupported element type {dtype!r}") from None
    return spec.specialize_pointer(name, address, p.is_const, p.specialize, p.align)


def _specialize_object(p: ParamInfo, v, transfers, mock_ok):
    if isinstance(v, np.generic):
        py = v.item()
        if isinstance(py, bool):
            return ("u1", None), int(py)
        if isinstance(py, int):
            return spec.specialize_int(py, p.specialize, p.align), py
        if isinstance(py, float):
            return ("fp32", None), py
        raise TypeError(f"argument {p.name!r}: unsupported numpy scalar {v!r}")
    if isinstance(v, TensorWrapper):
        # Triton's reinterpret(): the base's storage seen with another element type.
        address, _ = array_address(p.name, v.base, transfers)
        return _pointer(p, v.dtype, address), address
    if hasattr(v, "data_ptr") or is_host_array(v):
        address, dtype = array_address(p.name, v, transfers)
        return _pointer(p, dtype, address), address
    if mock_ok:
        if isinstance(v, MockTensor):
            return _pointer(p, v.dtype, 0), 0
        if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)) \
                or type(v).__module__.startswith("triton.language"):
            return _pointer(p, v, 0), 0
    raise TypeError(f"argument {p.name!r}: unsupported type {type(v).__name__} "
                    "(expected a jitspv.Array, a numpy array or array-like, an int, float, bool or None)")


def array_address(name: str, v, transfers):
    """(device address, element dtype) of an array argument; host arrays get device copies."""
    if isinstance(v, device_array_type()):
        return v.data_ptr(), v.dtype
    if is_host_array(v):
        try:
            return transfers.address(v)
        except (TypeError, ValueError, BufferError, RuntimeError) as e:
            raise TypeError(f"argument {name!r}: {e}") from None
    raise TypeError(f"argument {name!r}: {type(v).__name__} has data_ptr() but is neither a jitspv.Array "
                    "nor a host array (numpy, __array_interface__ or __dlpack__); CUDA tensors cannot be used")
