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


class DeviceAssertionError(AssertionError):
    """A tl.device_assert failed in a launched kernel; raised at the next synchronization."""

    def __init__(self, site: dict, program_id: tuple):
        self.file, self.line, self.function = site["file"], site["line"], site["function"]
        self.message, self.program_id = site["message"], program_id
        super().__init__(f"jitspv: device assertion failed at {self.file}:{self.line} in {self.function}: "
                         f"{self.message} (program id {program_id})")


class _AssertRecord:
    """Four u32 words the kernel's tt.assert sites write on failure: [site + 1, pid x, y, z].

    It lives in host-mapped memory (device memory where the host can map it, else the staging
    heap), so that a check reads it without recording or waiting for anything: the check runs as
    a stream callback once the launches before it completed, i.e. at the next synchronization.
    """

    def __init__(self, device):
        from jitspv.vk.binding import ffi
        memory = device.memory
        heap = memory.device_heap if memory.device_heap.mapped else memory.staging_heap
        self.stream = device.stream
        self.allocation = heap.allocate(16)
        if self.allocation.host_safe_serial > self.stream.completed_serial:
            self.stream.wait_serial(self.allocation.host_safe_serial)   # reused memory: its last users
        self.address = self.allocation.address
        self.words = ffi.cast("uint32_t*", self.allocation.host_ptr)
        self.clear()
        self.checked_serial = 0   # the stream serial whose completion the last deferred check waits for

    def clear(self):
        for k in range(4):
            self.words[k] = 0

    def read(self):
        return tuple(self.words[k] for k in range(4))


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
        self._assert_record = None   # made at the first launch of a kernel with asserts
        self.metadata = {"name": name, "num_warps": lowered.local_size[0] // 32, "local_size": lowered.local_size,
                         "shared": lowered.shared_bytes, "arg_block_size": lowered.arg_block_size,
                         "args_in_buffer": lowered.args_in_buffer, **lowered.notes}

    def pack_args(self, launch_values, grid) -> bytes:
        vals = [launch_values[i] for i in self.runtime_params]
        if self.lowered.asserts:
            vals.append(self.assert_record.address)
        if self.lowered.grid_in_args:
            vals.extend(grid)
        return self._pack(*vals)

    def launch(self, grid, launch_values):
        self.pipeline.launch(grid, self.pack_args(launch_values, grid))
        if self.lowered.asserts:
            # One check per submission that holds launches of this kernel, run when it completes.
            record = self._assert_record
            serial = record.stream.pending_serial
            if serial != record.checked_serial:
                record.checked_serial = serial
                record.stream.defer(self._check_asserts)

    @property
    def assert_record(self) -> _AssertRecord:
        if self._assert_record is None:
            from jitspv.vk.device import get_device
            self._assert_record = _AssertRecord(get_device())
        return self._assert_record

    def _check_asserts(self):
        """Raises DeviceAssertionError when a site failed, clearing the record first so that the
        process stays usable. Runs inside the stream's completion handling: the stream has noted
        the completion already, and callbacks queued behind this one run at the next completion."""
        record = self._assert_record
        site, *program_id = record.read()
        if site:
            record.clear()
            raise DeviceAssertionError(self.lowered.asserts[site - 1], tuple(program_id))

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
