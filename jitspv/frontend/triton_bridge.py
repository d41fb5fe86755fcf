"""The one module that knows Triton's internal, version-specific APIs.

It turns a kernel written in ``triton.language`` into TTIR text by running Triton's own code
generator (``ast_to_ttir``) and the standard TTIR passes, without instantiating any Triton
backend (there is no CUDA/ROCm here). Checked on Triton 3.6.0 and 3.9.0; where the two differ
the comment next to the code says which version needs what.

Facts found out while writing it (both versions unless said otherwise):
- Constexpr parameters and ints specialized to 1 (Triton passes those as constexpr ``1``) are
  not arguments of the TTIR function: the function keeps only the runtime parameters, in
  order. ``TtirResult.kept_args``/``dropped_args`` give the mapping by parameter index.
- ``module.str()`` prints the custom assembly form with ``loc(...)`` references and a trailing
  table of ``#locN = loc("file":line:col)`` aliases; ``module.str_nodebug()`` prints the same
  form without locations. Neither version's Python binding exposes MLIR's generic printer, so
  jitspv parses the custom form (jitspv/ttir/parser.py).
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import os
import re
import time
from typing import Any, Mapping

import triton
from triton.compiler.compiler import ASTSource
from triton.compiler.code_generator import ast_to_ttir
from triton.compiler.errors import CompilationError
from triton.runtime.jit import JITFunction
from triton._C.libtriton import ir, passes

from jitspv.frontend.options import TtirOptions

TRITON_VERSION = tuple(int(p) for p in re.findall(r"\d+", triton.__version__)[:2])

# The SPIR-V lowering implements tl.dot for any tile shape, so no lower bound is imposed
# (Triton's CUDA backend would require K >= 16 for 16-bit inputs, for example).
MIN_DOT_SIZE = (1, 1, 1)


def codegen_fns() -> dict:
    """The backend hooks Triton's code generator calls: tl.dot's minimum tile, and conversions with
    fp8e4b15 (Triton's own fp8 type, which a backend lowers itself), refused naming the type."""
    return {"min_dot_size": lambda lhs, rhs: MIN_DOT_SIZE, "convert_custom_types": _refuse_custom_fp8}


def _refuse_custom_fp8(input, dst_ty, rounding=None, _semantic=None):
    raise TypeError(f"casting {input.dtype} to {dst_ty}: jitspv has no fp8e4b15; its fp8 types are "
                    "tl.float8e4nv (torch.float8_e4m3fn) and tl.float8e5 (torch.float8_e5m2)")


@dataclasses.dataclass(frozen=True)
class TtirResult:
    """TTIR of one specialization of a kernel."""

    name: str                    # name of the TTIR kernel function (Triton mangles in constexprs)
    text: str                    # module.str(): with loc(...) and #loc aliases
    text_nodebug: str            # module.str_nodebug(): no locations
    kept_args: tuple[int, ...]   # parameter index of each TTIR function argument, in order
    dropped_args: tuple[int, ...]  # parameter indices absent from the TTIR function (constexprs)
    frontend_seconds: float      # time spent in ast_to_ttir plus the TTIR passes


def _unwrap(obj: Any) -> Any:
    """The JITFunction inside a jitspv decorator object, or ``obj`` when it is not one."""
    for attr in ("jit_function", "fn"):
        inner = getattr(obj, attr, None)
        if isinstance(inner, JITFunction):
            return inner
    return obj


def to_jit_function(fn: Any) -> JITFunction:
    """A JITFunction for a plain function, a ``@triton.jit`` function or a jitspv kernel object."""
    if isinstance(fn, JITFunction):
        return fn
    inner = _unwrap(fn)
    if isinstance(inner, JITFunction):
        return inner
    if inspect.isfunction(fn):
        return triton.jit(fn)
    raise TypeError(f"expected a Python function or a triton.jit function, got {type(fn).__name__}")


def _def_line(jit_fn: JITFunction) -> int:
    """File line of the ``def`` statement (Triton's ``src`` starts there, decorators stripped).

    3.9 stores it as ``def_file_line_number``; 3.6 does not have that attribute.
    """
    for offset, line in enumerate(jit_fn.raw_src):
        if re.match(r"\s*def\s", line):
            return jit_fn.starting_line_number + offset
    return jit_fn.starting_line_number


def _referenced_jit_functions(jit_fn: JITFunction) -> list[JITFunction]:
    """JITFunctions named in ``jit_fn``'s source: directly or inside a jitspv decorator object."""
    scope = dict(jit_fn.fn.__globals__)
    scope.update(inspect.getclosurevars(jit_fn.fn).nonlocals)
    found = []
    for node in ast.walk(ast.parse(jit_fn.src)):
        if isinstance(node, ast.Name) and node.id in scope:
            inner = _unwrap(scope[node.id])
            if isinstance(inner, JITFunction) and inner not in found:
                found.append(inner)
    return found


def _transitive_jit_functions(jit_fn: JITFunction) -> list[JITFunction]:
    """``jit_fn`` and every JITFunction it references, transitively, each once."""
    order, stack = [], [jit_fn]
    while stack:
        fn = stack.pop()
        if all(fn is not seen for seen in order):
            order.append(fn)
            stack.extend(reversed(_referenced_jit_functions(fn)))
    return order


def _source_location(err: CompilationError, candidates: list[JITFunction]) -> str:
    """file:line:col of the node an error points at.

    Found by the function whose source contains that exact AST node: ``err.src`` is not
    reliable (3.6 and 3.9 raise the noinline-argument error with the callee's source and the
    caller's node).
    """
    node = err.node
    if getattr(node, "lineno", None) is None:
        return "<unknown location>"
    want = (type(node), node.lineno, node.col_offset, getattr(node, "end_lineno", None),
            getattr(node, "end_col_offset", None), ast.dump(node))
    ordered = sorted(candidates, key=lambda fn: fn.src != err.src)
    for fn in ordered:
        for other in ast.walk(ast.parse(fn.src)):
            if (type(other), getattr(other, "lineno", None), getattr(other, "col_offset", None),
                    getattr(other, "end_lineno", None), getattr(other, "end_col_offset", None),
                    ast.dump(other)) == want:
                return f"{fn.fn.__code__.co_filename}:{_def_line(fn) + node.lineno - 1}:{node.col_offset + 1}"
    return "<unknown location>"


def _with_source_location(err: CompilationError, jit_fn: JITFunction) -> CompilationError:
    """Prefix Triton's message ("at 3:4: ...", relative to the function) with file:line:col.

    An error inside a called jit function arrives as a CompilationError at the call site whose
    ``__cause__`` is the callee's error; each one in that chain gets its own location.
    """
    candidates = _transitive_jit_functions(jit_fn)
    parts, cur = [], err
    while isinstance(cur, CompilationError):
        parts.append(f"{_source_location(cur, candidates)}: {cur.message}")
        cur = cur.__cause__
    if cur is not None and not isinstance(cur, CompilationError):
        parts.append(f"{type(cur).__name__}: {cur}")
    err.message = f"in kernel {jit_fn.__name__} at " + "\ninside the called function at ".join(parts)
    return err


def run_ttir_passes(module, context) -> None:
    """Triton's standard TTIR pipeline (as in the backends' ``make_ttir``).

    Differences between versions:
    - 3.6 has ``add_rewrite_tensor_pointer`` (block pointers from ``tl.make_block_ptr`` become
      plain pointer tensors); 3.9 removed the pass and keeps ``!tt.ptr<tensor<...>>`` values
      with ``tt.make_tensor_ptr``/``tt.advance`` in TTIR (CUDA rewrites them later, in TTGIR).
    - ``add_rewrite_tensor_descriptor_to_pointer`` exists in both; CUDA runs it below sm90 and
      AMD always. jitspv has no TMA, so it always runs it.
    """
    pm = ir.pass_manager(context)
    pm.enable_debug()
    passes.common.add_inliner(pm)
    if hasattr(passes.ttir, "add_rewrite_tensor_pointer"):
        passes.ttir.add_rewrite_tensor_pointer(pm)
    passes.ttir.add_rewrite_tensor_descriptor_to_pointer(pm)
    passes.common.add_canonicalizer(pm)
    passes.ttir.add_combine(pm)
    passes.ttir.add_reorder_broadcast(pm)
    passes.common.add_cse(pm)
    passes.common.add_symbol_dce(pm)
    passes.ttir.add_loop_unroll(pm)
    pm.run(module, "make_ttir")


def module_map():
    """tl.extra.libdevice is a stub a backend replaces; the CUDA one emits tt.extern_elementwise
    with `__nv_*` symbols, which the lowering maps to SPIR-V (jitspv/lower/rules/extern.py)."""
    from triton.language.extra.cuda import libdevice
    return {"triton.language.extra.libdevice": libdevice}


def make_ttir(jit_fn: Any, signature: Mapping[str, str], constexprs: Mapping[str, Any],
              divisible_by_16: set[str] = frozenset(), equal_to_1: set[str] = frozenset(),
              options: TtirOptions | None = None) -> TtirResult:
    """Run Triton's frontend and TTIR passes on one specialization of a kernel.

    ``signature`` maps every parameter name to Triton's type string (``"*fp32"``, ``"i32"``,
    ``"fp32"``, ``"u1"``, ``"constexpr"``, ...); ``constexprs`` gives the value of each
    ``"constexpr"`` parameter; parameters in ``equal_to_1`` are compiled as the constant 1
    (Triton's own specialization of ints equal to 1) and ``divisible_by_16`` ones carry
    ``tt.divisibility = 16``. Errors in kernel source raise Triton's ``CompilationError``
    (or a subclass) whose message starts with the kernel's file and line.
    """
    jit_fn = to_jit_function(jit_fn)
    options = options or TtirOptions()
    names = list(jit_fn.arg_names)
    missing = [n for n in names if n not in signature]
    unknown = [n for n in signature if n not in names]
    if missing or unknown:
        raise ValueError(f"signature of {jit_fn.__name__} must name exactly its parameters "
                         f"{names}: missing {missing}, unknown {unknown}")

    sig = dict(signature)
    consts = dict(constexprs)
    for name in equal_to_1:
        sig[name] = "constexpr"
        consts[name] = 1
    for name, ty in sig.items():
        if ty == "constexpr" and name not in consts:
            raise ValueError(f"constexpr parameter {name!r} of {jit_fn.__name__} has no value")
    attrs = {(names.index(n),): [["tt.divisibility", 16]] for n in divisible_by_16 if sig[n] != "constexpr"}
    src = ASTSource(jit_fn, sig, {n: consts[n] for n in names if sig[n] == "constexpr"}, attrs)

    start = time.perf_counter()
    context = ir.context()
    ir.load_dialects(context)
    try:
        module = ast_to_ttir(jit_fn, src, context=context, options=options,
                             codegen_fns=codegen_fns(), module_map=module_map())
    except CompilationError as err:
        raise _with_source_location(err, jit_fn)
    run_ttir_passes(module, context)
    seconds = time.perf_counter() - start

    kept = tuple(i for i, n in enumerate(names) if sig[n] != "constexpr")
    dropped = tuple(i for i, n in enumerate(names) if sig[n] == "constexpr")
    return TtirResult(name=module.get_entry_func_name(), text=module.str(), text_nodebug=module.str_nodebug(),
                      kept_args=kept, dropped_args=dropped, frontend_seconds=seconds)


def parse_mlir(text: str) -> str:
    """Have Triton's MLIR parser read ``text`` and print it back without locations.

    Used to check that jitspv's printer writes TTIR that Triton accepts.
    """
    import tempfile
    context = ir.context()
    ir.load_dialects(context)
    # parse_mlir_module takes a file name in both 3.6 and 3.9.
    with tempfile.NamedTemporaryFile("w", suffix=".ttir", delete=False) as f:
        f.write(text)
    try:
        module = ir.parse_mlir_module(f.name, context)
        module.context = context
        return module.str_nodebug()
    finally:
        os.unlink(f.name)


def kernel_source_hash(jit_fn: Any) -> str:
    """Hash of the kernel's source and of every jit function it calls, transitively.

    Triton's ``cache_key`` already covers the source, the keys of called ``JITCallable``s
    transitively (3.6 and 3.9 alike), ``noinline``, the def line and the values of constexpr
    globals; callees reached through jitspv decorator objects are invisible to it, so the keys
    of every transitively referenced JITFunction are folded in as well.
    """
    h = hashlib.sha256()
    for fn in _transitive_jit_functions(to_jit_function(jit_fn)):
        h.update(fn.cache_key.encode())
    return h.hexdigest()
