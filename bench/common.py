"""Shared by the bench scripts: what the machine has (Triton-CUDA and torch on a GPU machine, only
lavapipe on a development machine), and the table printer."""
from __future__ import annotations

import datetime
import importlib.util
import statistics
import threading
import time
from pathlib import Path

import triton


def load_example(filename: str):
    """An examples/ script as a module (its kernels and host functions), without running main."""
    path = Path(__file__).resolve().parent.parent / "examples" / filename
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module



def cuda_available() -> bool:
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


def header(title: str) -> str:
    from jitspv.vk import get_device
    dev = get_device()
    line = f"# {title}\njitspv device: {dev.name}; Triton {triton.__version__}; {datetime.date.today()}"
    if cuda_available():
        import torch
        line += f"; CUDA device: {torch.cuda.get_device_name()}; torch {torch.__version__}"
    return line


def table(columns, rows) -> str:
    """Markdown table; floats get 3 significant digits."""
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return "n/a" if v is None else str(v)
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


class ClockSampler:
    """The GPU's SM clock every 2 ms through NVML (nvidia-ml-py) while a measurement runs.

    On the H200 the SM clock was seen to drop from 1980 to 645 MHz under a Vulkan-only load, which
    halves a memory-bound kernel's bandwidth (bench/RESULTS.md): a number without its clock can
    compare two different cards. Without NVML (lavapipe) every reading is None.
    """

    def __init__(self):
        try:
            import pynvml
            pynvml.nvmlInit()
            self._nvml, self._handle = pynvml, pynvml.nvmlDeviceGetHandleByIndex(0)
        except Exception:  # noqa: BLE001 - no NVIDIA driver or no nvidia-ml-py: no clock column
            self._nvml = None
        self.samples = []

    def __enter__(self):
        self.samples, self._running = [], True
        if self._nvml:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self):
        nv, h = self._nvml, self._handle
        while self._running:
            self.samples.append((nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM),
                                 nv.nvmlDeviceGetCurrentClocksEventReasons(h)
                                 if hasattr(nv, "nvmlDeviceGetCurrentClocksEventReasons")
                                 else nv.nvmlDeviceGetCurrentClocksThrottleReasons(h)))
            time.sleep(0.002)

    def __exit__(self, *exc):
        self._running = False
        if self._nvml:
            self._thread.join()

    @property
    def sm_mhz(self):
        """(min, median, max) SM clock of the samples, or None."""
        sm = sorted(s[0] for s in self.samples)
        return (sm[0], sm[len(sm) // 2], sm[-1]) if sm else None

    @property
    def reasons(self):
        """NVML clock-event reason bits seen in any sample (0: none), or None."""
        if not self.samples:
            return None
        bits = 0
        for _, r in self.samples:
            bits |= r
        return bits


def back_to_back_ms(launch, synchronize, n: int = 500) -> float:
    """Host wall time per launch of `n` launches in a row, the device drained before and after: the
    one method both sides can share where a kernel is as short as its launch (CUDA events and Vulkan
    timestamps bracket different things there; this counts the launch gaps on either side)."""
    for _ in range(20):
        launch()
    synchronize()
    start = time.perf_counter()
    for _ in range(n):
        launch()
    synchronize()
    return (time.perf_counter() - start) / n * 1e3


def side_by_side(sides: dict, rounds: int = 3) -> dict:
    """{name: (median ms, median SM MHz)} for callables that each return one measurement in ms.

    The sides are measured in turn, `rounds` times (jitspv, Triton, torch, jitspv, ...), so that a
    change of the card's clock state lands on every side rather than on whichever ran first."""
    times = {name: [] for name in sides}
    clocks = {name: [] for name in sides}
    sampler = ClockSampler()
    for _ in range(rounds):
        for name, measure in sides.items():
            with sampler:
                times[name].append(measure())
            if sampler.sm_mhz:
                clocks[name].append(sampler.sm_mhz[1])
    return {name: (statistics.median(times[name]), statistics.median(clocks[name]) if clocks[name] else None)
            for name in sides}
