"""A compiled specialization of a kernel: its stages (TTIR, SPIR-V), its pipeline, its launcher."""
from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path

from jitspv.lower.kernel import LoweredKernel


class KernelAsm(Mapping):
    """`compiled.asm`: "ttir" (text), "spv" (bytes), "spvasm" and "glsl" (computed on first use)."""

    def __init__(self, ttir: str, spirv: bytes):
        self._stages = {"ttir": ttir, "spv": spirv}

    def __getitem__(self, stage):
        if stage not in self._stages:
            from jitspv.lower.spirv import tools
            if stage == "spvasm":
                self._stages[stage] = tools.disassemble(self._stages["spv"])
            elif stage == "glsl":
                self._stages[stage] = tools.to_glsl(self._stages["spv"])
            else:
                raise KeyError(stage)
        return self._stages[stage]

    def __iter__(self):
        return iter(("ttir", "spv", "spvasm", "glsl"))

    def __len__(self):
        return 4


class CompiledKernel:
    """One specialization, ready to launch.

    `runtime_params[i]` is the kernel parameter index whose launch value goes into the i-th
    KernelArg of the argument block (the TTIR function keeps only runtime parameters, in order).
    """

    def __init__(self, name: str, lowered: LoweredKernel, ttir: str, kept_params, pipeline, *,
                 key: str, timings: dict, from_disk: bool):
        self.name = name
        self.lowered = lowered
        self.pipeline = pipeline
        self.key = key
        self.timings = timings          # seconds: "frontend", "lowering", "pipeline" (missing when cached)
        self.from_disk = from_disk
        self.asm = KernelAsm(ttir, lowered.spirv)
        self.runtime_params = tuple(kept_params[a.ttir_index] for a in lowered.args)
        self._pack = struct.Struct(lowered.arg_format).pack
        self.metadata = {"name": name, "num_warps": lowered.local_size[0] // 32, "local_size": lowered.local_size,
                         "shared": lowered.shared_bytes, "arg_block_size": lowered.arg_block_size,
                         "args_in_buffer": lowered.args_in_buffer, **lowered.notes}

    def pack_args(self, launch_values, grid) -> bytes:
        vals = [launch_values[i] for i in self.runtime_params]
        if self.lowered.grid_in_args:
            vals.extend(grid)
        return self._pack(*vals)

    def launch(self, grid, launch_values):
        self.pipeline.launch(grid, self.pack_args(launch_values, grid))

    def dump(self, directory: str) -> None:
        """Write every stage (ttir, spvasm, json metadata) for JITSPV_DUMP."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        stem = f"{self.name}-{self.key[:12]}"
        (d / f"{stem}.ttir").write_text(self.asm["ttir"])
        (d / f"{stem}.spv").write_bytes(self.asm["spv"])
        try:
            (d / f"{stem}.spvasm").write_text(self.asm["spvasm"])
        except (OSError, RuntimeError) as e:
            (d / f"{stem}.spvasm").write_text(f"; disassembly failed: {e}\n")
        (d / f"{stem}.json").write_text(json.dumps(
            {"metadata": self.metadata, "lowered": json.loads(self.lowered.to_json()), "timings": self.timings},
            indent=1, sort_keys=True, default=repr))

    def __repr__(self):
        return f"<jitspv.CompiledKernel {self.name} local_size={self.lowered.local_size}>"


def dump_dir() -> str | None:
    return os.environ.get("JITSPV_DUMP") or None
