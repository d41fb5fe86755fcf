"""`jitspv.autotune`, `jitspv.Config`, `jitspv.heuristics`: Triton's meaning, jitspv's timer.

Decorators stack as in Triton (`@autotune` over `@heuristics` over `@kernel`); each wrapper's
`.fn` is the object below it and `run(*args, grid=..., **kwargs)` passes down. Configurations
are timed with `jitspv.testing.do_bench` (device timestamps) and the best one is remembered per
value of the key arguments (plus the dtypes of array arguments, as Triton does).
"""
from __future__ import annotations

import builtins
import threading

import numpy as np

from triton.compiler.errors import CompileTimeAssertionFailure
from triton.runtime.jit import KernelInterface

from jitspv.errors import OutOfResources


class Config:
    """One point of the search space: constexpr values plus launch options."""

    def __init__(self, kwargs, num_warps=4, num_stages=3, num_ctas=1, maxnreg=None, pre_hook=None):
        self.kwargs = dict(kwargs)
        self.num_warps = num_warps
        self.num_stages = num_stages
        self.num_ctas = num_ctas
        self.maxnreg = maxnreg
        self.pre_hook = pre_hook

    def all_kwargs(self):
        opts = {"num_warps": self.num_warps, "num_stages": self.num_stages, "num_ctas": self.num_ctas,
                "maxnreg": self.maxnreg}
        return {**self.kwargs, **{k: v for k, v in opts.items() if v is not None}}

    def _identity(self):
        return (tuple(self.all_kwargs().items()), self.pre_hook)

    def __hash__(self):
        return hash(self._identity())

    def __eq__(self, other):
        return isinstance(other, Config) and self._identity() == other._identity()

    def __str__(self):
        parts = [f"{k}: {v}" for k, v in self.kwargs.items()]
        parts += [f"num_warps: {self.num_warps}", f"num_stages: {self.num_stages}", f"num_ctas: {self.num_ctas}",
                  f"maxnreg: {self.maxnreg}"]
        return ", ".join(parts)

    __repr__ = __str__


class _Wrapper(KernelInterface):
    """Common parts of Autotuner and Heuristics: the wrapped kernel and its argument names."""

    def __init__(self, fn):
        self.fn = fn
        self.arg_names = list(fn.arg_names)

    @property
    def jit_function(self):
        inner = self.fn
        while isinstance(inner, _Wrapper):
            inner = inner.fn
        return inner

    def warmup(self, *args, grid, **kwargs):
        return self.run(*args, grid=grid, warmup=True, **kwargs)


class Heuristics(_Wrapper):
    def __init__(self, fn, values):
        super().__init__(fn)
        self.values = values

    def run(self, *args, **kwargs):
        for name, rule in self.values.items():
            kwargs[name] = rule({**dict(zip(self.arg_names, args)), **kwargs})
        return self.fn.run(*args, **kwargs)


def heuristics(values):
    """`values` maps a meta-parameter name to a function of the dict of all arguments."""
    return lambda fn: Heuristics(fn, values)


class Autotuner(_Wrapper):
    def __init__(self, fn, configs, key, prune_configs_by=None, reset_to_zero=None, restore_value=None,
                 pre_hook=None, post_hook=None, warmup=25, rep=100, do_bench=None):
        super().__init__(fn)
        self.configs = list(configs) or [Config({})]
        self.keys = list(key)
        self.reset_to_zero = list(reset_to_zero or [])
        self.restore_value = list(restore_value or [])
        for what, names in (("key", self.keys), ("reset_to_zero", self.reset_to_zero),
                            ("restore_value", self.restore_value)):
            unknown = [n for n in names if n not in self.arg_names]
            if unknown:
                raise ValueError(f"{what} names {unknown} that are not arguments of the kernel {self.arg_names}")
        prune = prune_configs_by or {}
        self.perf_model = prune.get("perf_model")
        self.top_k = prune.get("top_k", 1.0)
        self.early_config_prune = prune.get("early_config_prune")
        self.user_pre_hook, self.user_post_hook = pre_hook, post_hook
        self.warmup_ms, self.rep_ms = warmup, rep
        self._do_bench = do_bench
        self.cache = {}            # key values -> best Config
        self.configs_timings = {}  # Config -> ms, of the last tuning
        self.best_config = None
        self.nargs = None
        # Tuning (and `nargs`, which prune hooks read) happens in one thread at a time; launches
        # of a key already tuned take no lock.
        self._tuning = threading.RLock()

    def _key(self, args, kwargs):
        named = {**dict(zip(self.arg_names, args)), **kwargs}
        key = [named[k] for k in self.keys if k in named]
        key += [str(v.dtype) for k, v in named.items() if k in self.arg_names and hasattr(v, "dtype")]
        return tuple(key)

    def _reset_and_save(self, nargs):
        if self.user_pre_hook:
            self.user_pre_hook(nargs)
            return {}
        for name in self.reset_to_zero:
            if nargs.get(name) is not None:
                _fill_zero(nargs[name])
        return {name: _copy(nargs[name]) for name in self.restore_value if nargs.get(name) is not None}

    def _restore(self, nargs, saved, exception):
        if self.user_post_hook:
            self.user_post_hook(nargs, exception)
        for name, value in saved.items():
            _copy_into(nargs[name], value)

    def _bench(self, args, kwargs, config):
        conflicts = kwargs.keys() & config.kwargs.keys()
        if conflicts:
            raise ValueError(f"Conflicting meta-parameters: {', '.join(sorted(conflicts))}. "
                             "Make sure that you don't re-define auto-tuned symbols.")
        current = {**kwargs, **config.all_kwargs()}
        nargs = {**dict(zip(self.arg_names, args)), **current}

        def call():
            if config.pre_hook:
                config.pre_hook(nargs)
            saved = self._reset_and_save(nargs)
            try:
                self.fn.run(*args, **current)
            except Exception as e:
                self._restore(nargs, saved, e)
                raise
            self._restore(nargs, saved, None)

        try:
            return self.do_bench(call)
        except (OutOfResources, CompileTimeAssertionFailure):
            # As Triton's autotuner: a config that cannot compile here is skipped; when none
            # compiles, the launch with the chosen one raises its error.
            return float("inf")

    def do_bench(self, fn):
        if self._do_bench is not None:
            return self._do_bench(fn)
        from jitspv.testing import do_bench
        return do_bench(fn, warmup=self.warmup_ms, rep=self.rep_ms)

    def prune_configs(self, kwargs):
        configs = self.configs
        if self.early_config_prune:
            configs = self.early_config_prune(self.configs, self.nargs, **kwargs)
            if not configs:
                raise ValueError("early_config_prune returned no configs; it must return at least one")
        if self.perf_model:
            top_k = self.top_k
            if isinstance(top_k, float) and top_k <= 1.0:
                top_k = max(1, int(len(configs) * top_k))
            if len(configs) > top_k:
                est = {c: self.perf_model(**self.nargs, **kwargs, **c.all_kwargs()) for c in configs}
                configs = sorted(est, key=est.get)[:top_k]
        return configs

    def run(self, *args, **kwargs):
        nargs = dict(zip(self.arg_names, args))
        if len(self.configs) > 1:
            key = self._key(args, kwargs)
            config = self.cache.get(key)
            if config is None:
                with self._tuning:
                    config = self.cache.get(key) or self._tune(key, args, kwargs, nargs)
        else:
            config = self.configs[0]
        self.best_config = config
        if config.pre_hook is not None:
            config.pre_hook({**nargs, **kwargs, **config.all_kwargs()})
        return self.fn.run(*args, **kwargs, **config.all_kwargs())

    def _tune(self, key, args, kwargs, nargs):
        self.nargs = nargs
        try:
            bench_kwargs = {k: v for k, v in kwargs.items() if k != "warmup"}
            pruned = self.prune_configs(bench_kwargs)
            if len(pruned) == 1:
                self.cache[key] = pruned[0]
            else:
                timings = {c: self._bench(args, bench_kwargs, c) for c in pruned}
                self.configs_timings = timings
                self.cache[key] = builtins.min(timings, key=timings.get)
                # Leave the arrays as a user-visible launch expects them: reset, not restored.
                if not self.user_pre_hook:
                    for name in self.reset_to_zero:
                        if nargs.get(name) is not None:
                            _fill_zero(nargs[name])
            return self.cache[key]
        finally:
            self.nargs = None

    def warmup(self, *args, grid, **kwargs):
        with self._tuning:
            self.nargs = dict(zip(self.arg_names, args))
            try:
                return [self.fn.warmup(*args, grid=grid, **kwargs, **c.all_kwargs())
                        for c in self.prune_configs(kwargs)]
            finally:
                self.nargs = None


def autotune(configs, key, prune_configs_by=None, reset_to_zero=None, restore_value=None, pre_hook=None,
             post_hook=None, warmup=25, rep=100, do_bench=None):
    """Triton's `autotune`: time each config on first use of each key value, then reuse the best.

    `warmup`/`rep` are milliseconds for `jitspv.testing.do_bench`; `do_bench(fn) -> ms` replaces it.
    """
    return lambda fn: Autotuner(fn, configs, key, prune_configs_by, reset_to_zero, restore_value,
                                pre_hook, post_hook, warmup, rep, do_bench)


# Arrays under tuning: jitspv arrays (fill_/copy_), torch tensors (zero_/clone/copy_) and numpy arrays.
def _fill_zero(a):
    if hasattr(a, "fill_"):
        a.fill_(0)
    elif hasattr(a, "zero_"):
        a.zero_()
    else:
        a[...] = 0


def _copy(a):
    if hasattr(a, "clone"):
        return a.clone()
    if isinstance(a, np.ndarray):
        return a.copy()
    from jitspv.vk.array import empty_like
    return empty_like(a).copy_(a)


def _copy_into(dst, src):
    if hasattr(dst, "copy_"):
        dst.copy_(src)
    else:
        dst[...] = src
