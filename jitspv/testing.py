"""Benchmark helpers with the meaning of `triton.testing`, timed with Vulkan timestamp queries."""
from __future__ import annotations

import statistics

import numpy as np

from jitspv.vk import Event, get_device
from jitspv.vk.array import empty

_FLUSH_BYTES_GPU = 256 << 20
# On a CPU device (lavapipe) a 256 MB fill costs tens of ms per iteration; 64 MB still exceeds its caches.
_FLUSH_BYTES_CPU = 64 << 20


def _summarize(times, quantiles, return_mode):
    if quantiles is not None:
        out = [float(q) for q in np.quantile(np.asarray(times), quantiles)]
        return out[0] if len(out) == 1 else out
    if return_mode == "all":
        return list(times)
    if return_mode == "min":
        return min(times)
    if return_mode == "max":
        return max(times)
    if return_mode == "median":
        return statistics.median(times)
    return statistics.fmean(times)


def flush_buffer(device):
    """One L2-flush buffer per device for the whole process (as torch's cache keeps Triton's)."""
    buf = device.__dict__.get("_bench_flush_buffer")
    if buf is None:
        nbytes = _FLUSH_BYTES_CPU if device.properties.device_type == "CPU" else _FLUSH_BYTES_GPU
        buf = device.__dict__["_bench_flush_buffer"] = empty(nbytes // 4, np.int32, device=device)
    return buf


def do_bench(fn, warmup=25, rep=100, grad_to_none=None, quantiles=None, return_mode="mean"):
    """Milliseconds of device time per call of fn, like `triton.testing.do_bench`.

    warmup and rep are target durations in ms: a first timing of 5 calls estimates how many calls fit.
    Between timed calls a buffer larger than the caches is overwritten with vkCmdFillBuffer, outside
    the timed region. quantiles/return_mode ("min", "max", "mean", "median", "all") as in Triton.
    """
    if return_mode not in ("min", "max", "mean", "median", "all"):
        raise ValueError(f"return_mode must be min, max, mean, median or all, not {return_mode!r}")
    device = get_device()
    fn()
    device.synchronize()
    cache = flush_buffer(device)

    start, end = Event(device), Event(device)
    start.record()
    for _ in range(5):
        cache.fill_(0)
        fn()
    end.record()
    estimate_ms = max(start.elapsed_time(end) / 5, 1e-6)
    n_warmup = max(1, int(warmup / estimate_ms))
    n_repeat = max(1, int(rep / estimate_ms))

    starts = [Event(device) for _ in range(n_repeat)]
    ends = [Event(device) for _ in range(n_repeat)]
    for _ in range(n_warmup):
        fn()
    for i in range(n_repeat):
        if grad_to_none is not None:
            for x in grad_to_none:
                x.grad = None
        cache.fill_(0)
        starts[i].record()
        fn()
        ends[i].record()
    device.synchronize()
    times = [s.elapsed_time(e) for s, e in zip(starts, ends)]
    return _summarize(times, quantiles, return_mode)


def run_example(check, bench, argv=None):
    """The `__main__` of the examples: print the device, run `check()` (correctness against numpy),
    then `bench()` when asked (`--bench`) or by default on a GPU; `--check` runs the check alone."""
    import sys
    argv = sys.argv[1:] if argv is None else argv
    device = get_device()
    print(f"device: {device.name}")
    check()
    if "--bench" in argv or ("--check" not in argv and device.properties.device_type != "CPU"):
        bench()
