"""`@jitspv.kernel` (alias `jitspv.jit`): a Triton JIT function whose launches run on Vulkan.

`Kernel` subclasses Triton's `JITFunction`, so everything Triton does with a jit function still
works: other kernels call it, `triton.language` code sees it as a jit callable, and Triton's cache
key and source tracking apply. Only launching differs: `run` binds the arguments, specializes
them as Triton would, looks the specialization up in memory, then on disk, and otherwise compiles
(Triton's frontend -> TTIR -> jitspv IR -> SPIR-V -> pipeline).
"""
from __future__ import annotations

import dataclasses
import hashlib
import operator
import os
import threading
import time
from pathlib import Path

from triton.runtime.jit import JITFunction

import jitspv
from jitspv.frontend import cache as disk_cache
from jitspv.frontend.binding import BindingPlan
from jitspv.frontend.compiled import CompiledKernel, dump_dir
from jitspv.frontend.host_arrays import HostTransfers
from jitspv.frontend.options import IGNORED_OPTIONS
from jitspv.frontend.triton_bridge import TRITON_VERSION, TtirOptions, kernel_source_hash, make_ttir
from jitspv.frontend import runtime as rt
from jitspv.lower.kernel import LoweredKernel
from jitspv.lower.spirv.tools import SPIRV_VAL_TARGET, validate, validate_cold_compiles

_OPTION_FIELDS = frozenset(f.name for f in dataclasses.fields(TtirOptions))
# One compile at a time in the process: Triton's frontend is not known to be thread-safe, the lowering
# is Python bound by the GIL anyway, and a specialization two threads miss at once compiles once.
# Launches of compiled kernels never take it.
_compile_lock = threading.RLock()


def cdiv(x: int, y: int) -> int:
    return (x + y - 1) // y


def next_power_of_2(n: int) -> int:
    """Smallest power of 2 >= n, as triton.next_power_of_2 (which gives 0 for 0)."""
    return 1 << (n - 1).bit_length() if n > 0 else 0


class Kernel(JITFunction):
    """A kernel decorated with `@jitspv.kernel`; launch with `kernel[grid](*args, **kwargs)`."""

    def __init__(self, fn, **jit_options):
        super().__init__(fn, **jit_options)
        self._plan = BindingPlan(self)
        self._compiled = {}       # (specs, constexprs, TtirOptions) -> CompiledKernel, this process's device
        self._options = {}        # launch keyword options as given -> TtirOptions
        self._source_hash = None

    # -- launching -----------------------------------------------------------------------------

    def run(self, *args, grid, warmup=False, **kwargs):
        plan = self._plan
        values, opts = plan.bind(*args, **kwargs)
        transfers = HostTransfers(values)
        specs, launch = plan.specialize(values, transfers, mock_ok=warmup)
        options = self._launch_options(opts)
        key = (specs, plan.constexpr_values(values), options)
        kernel = self._compiled.get(key)
        if kernel is None:
            with _compile_lock:
                kernel = self._compiled.get(key)
                if kernel is None:
                    kernel = self._compiled[key] = self._compile(specs, values, options)
        if warmup:
            return kernel
        if callable(grid):
            grid = grid(dict(zip(plan.names, values)))
        grid = grid3(grid, kernel)
        if grid[0] and grid[1] and grid[2]:
            host_arrays = transfers.active
            if host_arrays:
                transfers.refuse_read_only(kernel.stored_params, plan)
                if kernel.table_params:
                    transfers.translate_pointer_tables(kernel.table_params, launch, plan.names, plan.name)
            kernel.launch(grid, launch)
            if host_arrays:
                transfers.download()
        return kernel

    def warmup(self, *args, grid, **kwargs):
        """Compile for these arguments without launching; arrays may be given as dtypes."""
        return self.run(*args, grid=grid, warmup=True, **kwargs)

    def _launch_options(self, opts: dict) -> TtirOptions:
        try:
            found = self._options.get(tuple(opts.items()))
        except TypeError:       # an unhashable ignored option (extern_libs={...})
            return self._make_options(opts)
        if found is None:
            found = self._options[tuple(opts.items())] = self._make_options(opts)
        return found

    def _make_options(self, opts: dict) -> TtirOptions:
        given = {}
        for name, value in opts.items():
            if name in _OPTION_FIELDS:
                given[name] = value
            elif name not in IGNORED_OPTIONS:
                raise TypeError(f"{self.__name__}() got an unexpected keyword argument {name!r} "
                                f"(not a parameter of the kernel nor a launch option)")
        given.setdefault("debug", bool(self.debug))
        given.setdefault("bounds_check", "bounds" in debug_modes())
        for name in ("num_warps", "num_stages", "num_ctas"):
            if name in given:
                given[name] = operator.index(given[name])
        return TtirOptions(**given)

    # -- compiling -----------------------------------------------------------------------------

    def frontend_request(self, specs, values):
        """What Triton's frontend is asked for one specialization.

        Returns (signature, constexprs, divisible_by_16, equal_to_1, kept) where `kept` lists the
        parameter indices that remain arguments of the TTIR function, in order.
        """
        plan = self._plan
        signature, constexprs, divisible, equal_to_1 = {}, {}, set(), set()
        for p in plan.params:
            if p.is_constexpr:
                signature[p.name] = "constexpr"
                constexprs[p.name] = values[p.index]
        for p, (ty, attr) in zip(plan.runtime_params, specs):
            if ty == "constexpr" and attr == 1:
                signature[p.name] = "i32"
                equal_to_1.add(p.name)
            elif ty == "constexpr":
                signature[p.name] = "constexpr"
                constexprs[p.name] = attr
            else:
                signature[p.name] = ty
                if attr == "D":
                    divisible.add(p.name)
        signature = {n: signature[n] for n in plan.names}
        kept = tuple(p.index for p in plan.params
                     if signature[p.name] != "constexpr" and p.name not in equal_to_1)
        return signature, constexprs, divisible, equal_to_1, kept

    def _compile(self, specs, values, options: TtirOptions) -> CompiledKernel:
        signature, constexprs, divisible, equal_to_1, kept = self.frontend_request(specs, values)
        target = rt.current_target()
        if self._source_hash is None:
            self._source_hash = kernel_source_hash(self)
        ingredients = {
            "kernel": f"{self.fn.__module__}.{self.fn.__qualname__}", "source": self._source_hash,
            "signature": signature, "constexprs": {k: _stable_repr(v) for k, v in constexprs.items()},
            "divisible_by_16": sorted(divisible), "equal_to_1": sorted(equal_to_1),
            "options": dataclasses.asdict(options), "jitspv": jitspv_fingerprint(),
            "triton": list(TRITON_VERSION), "target": target.key(),
        }
        key = disk_cache.hash_key(ingredients)
        timings = {}
        stages = {} if dump_dir() else None   # TTIR after each of jitspv's rewrites, for the dump
        entry = disk_cache.load(key)
        if entry is not None:
            lowered = LoweredKernel.from_json(entry.lowered_json, entry.spirv)
            ttir = entry.ttir
            if not lowered.spirv_val and validate_cold_compiles():
                # Stored without a verdict (spirv-val was off or missing then): checked now, once.
                validate(lowered.spirv, SPIRV_VAL_TARGET)
                lowered.spirv_val = SPIRV_VAL_TARGET
        else:
            ttir_result = make_ttir(self, signature, constexprs, divisible, equal_to_1, options)
            timings["frontend"] = ttir_result.frontend_seconds
            ttir = ttir_result.text
            start = time.perf_counter()
            lowered = lower_ttir(ttir, target, options, stages)
            timings["lowering"] = time.perf_counter() - start
            disk_cache.store(ingredients, lowered.spirv, lowered.to_json(), ttir, name=self.__name__)
        start = time.perf_counter()
        pipeline = rt.make_pipeline(lowered)
        timings["pipeline"] = time.perf_counter() - start
        compiled = CompiledKernel(self.__name__, lowered, ttir, kept, pipeline, key=key, timings=timings,
                                  from_disk=entry is not None, signature=signature)
        if dump_dir():
            compiled.dump(dump_dir())
            for name, text in (stages or {}).items():
                (Path(dump_dir()) / f"{compiled.name}-{key[:12]}.{name}.ttir").write_text(text)
        return compiled

    def cache_clear(self):
        """Forget this kernel's in-memory compiled specializations (the disk cache stays)."""
        self._compiled.clear()

    def __repr__(self):
        return f"jitspv.Kernel({self.fn.__module__}:{self.fn.__qualname__})"


def lower_ttir(ttir_text: str, target, options: TtirOptions, stages=None):
    """TTIR text -> LoweredKernel (jitspv's IR, then SPIR-V); `stages` as for lower_module."""
    from jitspv.ttir.parser import TtirParseError, parse
    from jitspv.lower import LoweringError, lower_module
    try:
        module = parse(ttir_text)
    except TtirParseError as e:
        # Refused at the kernel's line, as the lowering refuses what it cannot do.
        raise LoweringError(e.message if e.loc else str(e), e.loc) from None
    return lower_module(module, target, num_warps=options.num_warps,
                        enable_fp_fusion=options.enable_fp_fusion, num_stages=options.num_stages,
                        bounds_check=options.bounds_check, stages=stages)


_DEBUG_MODES = frozenset({"bounds"})


def debug_modes() -> frozenset:
    """The words of JITSPV_DEBUG (comma-separated), read when a kernel first meets a set of launch options."""
    words = frozenset(w.strip() for w in os.environ.get("JITSPV_DEBUG", "").split(",") if w.strip())
    if words - _DEBUG_MODES:
        raise ValueError(f"JITSPV_DEBUG={os.environ['JITSPV_DEBUG']!r}: unknown mode(s) "
                         f"{sorted(words - _DEBUG_MODES)}; known: {sorted(_DEBUG_MODES)}")
    return words


def grid3(grid, kernel):
    if type(grid) is tuple and len(grid) == 1 and type(grid[0]) is int and 0 <= grid[0] < 1 << 31:
        return (grid[0], 1, 1)   # the common case, without the general checks' cost
    n = len(grid)
    if not 1 <= n <= 3:
        raise ValueError(f"grid must have 1 to 3 dimensions, got {grid!r}")
    g = (operator.index(grid[0]), operator.index(grid[1]) if n > 1 else 1, operator.index(grid[2]) if n > 2 else 1)
    # Beyond the device's per-dimension workgroup count the runtime splits the dispatch
    # (vkCmdDispatchBase keeps program ids global); program ids are 32-bit.
    if min(g) < 0 or max(g) >= 1 << 31:
        raise ValueError(f"grid {g} of {kernel.name} is outside the range 0..2^31-1 per dimension")
    return g


def _stable_repr(value) -> str:
    """A repr that is the same in every process (jit functions by their source key)."""
    if isinstance(value, JITFunction):
        return f"jit:{value.cache_key}"
    return repr(value)


_fingerprint = None


def jitspv_fingerprint() -> str:
    """jitspv's version plus a hash of its sources: a changed compiler never reuses old entries."""
    global _fingerprint
    if _fingerprint is None:
        h = hashlib.sha256(jitspv.__version__.encode())
        root = Path(jitspv.__file__).parent
        for f in sorted(root.rglob("*.py")):
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
        _fingerprint = f"{jitspv.__version__}+{h.hexdigest()[:16]}"
    return _fingerprint


def kernel(fn=None, *, version=None, do_not_specialize=None, do_not_specialize_on_alignment=None, debug=None,
           noinline=None, repr=None, launch_metadata=None):
    """Decorator: `@jitspv.kernel` or `@jitspv.kernel(do_not_specialize=[...], debug=...)`.

    Works on a plain function and on a `@triton.jit` function (whose options are kept unless
    given here).
    """
    def decorate(f):
        given = dict(version=version, do_not_specialize=do_not_specialize,
                     do_not_specialize_on_alignment=do_not_specialize_on_alignment, debug=debug,
                     noinline=noinline, repr=repr, launch_metadata=launch_metadata)
        if isinstance(f, JITFunction):
            inherited = {"do_not_specialize": f.do_not_specialize, "debug": f.debug, "noinline": f.noinline,
                         "do_not_specialize_on_alignment": getattr(f, "do_not_specialize_on_alignment", None)}
            for name, value in inherited.items():
                if given[name] is None:
                    given[name] = value
            f = f.fn
        return Kernel(f, **{k: v for k, v in given.items() if v is not None})

    return decorate if fn is None else decorate(fn)


jit = kernel
