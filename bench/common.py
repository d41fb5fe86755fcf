"""Shared by the bench scripts: what the machine has (Triton-CUDA and torch on a GPU machine, only
lavapipe on a development machine), and the table printer."""
from __future__ import annotations

import datetime
import importlib.util
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
