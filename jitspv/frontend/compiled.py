"""A compiled specialization of a kernel: its stages (TTIR, SPIR-V), its pipeline, its launcher."""
from __future__ import annotations

import json
import math
import os
import sys
import struct
from collections.abc import Mapping
from pathlib import Path

from jitspv.lower.kernel import (LoweredKernel, PRINT_BUFFER_BYTES, PRINT_CAPACITY, PRINT_HEADER_BYTES,
                                 PRINT_RECORD_WORDS)


# What each argument-block format holds (lower/__init__.py _ARG_FORMATS), for errors.
_MEMBER_TYPES = {"Q": "a 64-bit pointer or unsigned integer", "q": "a 64-bit integer",
                 "I": "a 32-bit unsigned integer", "i": "a 32-bit integer", "f": "fp32, at most 3.4e38 in magnitude",
                 "d": "fp64"}


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


class _DebugBuffer:
    """u32 words the kernel's debug sites write: the assert record (four words the tt.assert sites
    write on failure: [site + 1, pid x, y, z]) or the print buffer (lower/kernel.py, PRINT_*).

    It lives in host-mapped memory (device memory where the host can map it, else the staging
    heap), so that a check reads it without recording or waiting for anything: the check runs as
    a stream callback once the launches before it completed, i.e. at the next synchronization.
    Only the first four words start cleared (the record, or the print buffer's cursor).
    """

    def __init__(self, device, nbytes=16):
        from jitspv.vk.binding import ffi
        memory = device.memory
        heap = memory.device_heap if memory.device_heap.mapped else memory.staging_heap
        self.stream = device.stream
        self.allocation = heap.allocate(nbytes)
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

    def print_records(self, count):
        """The first `count` print records, copied out, as a (count, PRINT_RECORD_WORDS) u32 array."""
        import numpy as np
        from jitspv.vk.binding import ffi
        data = ffi.buffer(self.words + PRINT_HEADER_BYTES // 4, count * 4 * PRINT_RECORD_WORDS)
        return np.frombuffer(data, np.uint32).reshape(count, PRINT_RECORD_WORDS).copy()


def format_print_records(sites, records) -> list:
    """Lines Triton's printf would print for these records (lower/kernel.py, PRINT_*), grouped by
    site (tt.print operand, in program order), then program id, then element index; records with
    equal keys (a print in a loop) keep the order they were written in."""
    import numpy as np
    order = np.lexsort((records[:, 4], records[:, 3], records[:, 2], records[:, 1], records[:, 0]))
    lines = []
    for site_index, px, py, pz, index, low, high, _ in records[order].tolist():
        site = sites[site_index]
        line = f"pid ({px}, {py}, {pz})"
        if site["operand"] < 0:
            lines.append(line + site["prefix"])
            continue
        shape = site["shape"]
        coords = np.unravel_index(index, shape) if shape else ()
        widths = [math.ceil(math.log10(d)) if d > 0 else 0 for d in shape]
        line += " idx (" + ", ".join(str(int(c)).rjust(w) for c, w in zip(coords, widths)) + ")" + site["prefix"]
        if site["operands"] > 1:
            line += f"(operand {site['operand']}) "
        lines.append(line + _format_value(site, low | high << 32))
    return lines


def _format_value(site, bits):
    """printf of one value as Triton's format string has it: %f (the value as double), %i / %u
    (%lli / %llu for 64 bits; narrower ints extended to 32 bits by their signedness), %p, and for
    hex=True 0x%0Nx with N hex digits of the type."""
    import numpy as np
    t, hex_ = site["type"], site["hex"]
    if t == "ptr":
        return f"0x{bits:x}" if bits else "(nil)"
    if t in ("f16", "bf16", "f32", "f64"):
        value = struct.unpack("<d", struct.pack("<Q", bits))[0] if t == "f64" else \
            struct.unpack("<f", struct.pack("<I", bits))[0]
        if hex_:
            pattern = {"f64": bits, "f32": bits, "bf16": bits >> 16,
                       "f16": int(np.float32(value).astype(np.float16).view(np.uint16)) if t == "f16" else 0}[t]
            return f"0x{pattern:0{int(t[-2:]) // 4}x}"
        if math.isnan(value):
            return "-nan" if math.copysign(1.0, value) < 0 else "nan"
        return "%f" % value
    width = int(t[1:])
    value = bits & ((1 << width) - 1)
    if site["signed"] and value >> (width - 1):
        value -= 1 << width
    if hex_:
        return "0x" + format(value & ((1 << max(width, 32)) - 1), f"0{width // 4}x" if width >= 4 else "x")
    return str(value)


class CompiledKernel:
    """One specialization, ready to launch.

    `runtime_params[i]` is the kernel parameter index whose launch value goes into the i-th
    KernelArg of the argument block (the TTIR function keeps only runtime parameters, in order).
    """

    def __init__(self, name: str, lowered: LoweredKernel, ttir: str, kept_params, pipeline, *,
                 key: str, timings: dict, from_disk: bool, param_names: tuple):
        self.name = name
        self.param_names = param_names   # the kernel's parameter names, for errors
        self.lowered = lowered
        self.pipeline = pipeline
        self.key = key
        self.timings = timings          # seconds: "frontend", "lowering", "pipeline" (missing when cached)
        self.from_disk = from_disk
        self.asm = KernelAsm(ttir, lowered.spirv)
        self.runtime_params = tuple(kept_params[a.ttir_index] for a in lowered.args)
        # Parameter indices of the pointers a store or atomic may write through.
        self.stored_params = frozenset(kept_params[i] for i in lowered.stored_args)
        self._pack = struct.Struct(lowered.arg_format).pack
        self._assert_record = None   # made at the first launch of a kernel with asserts
        self._print_buffer = None    # made at the first launch of a kernel with prints
        # (buffer, completion check) per debug buffer, in argument-block order; () without any.
        self._debug_checks = None if lowered.asserts or lowered.prints else ()
        self.metadata = {"name": name, "num_warps": lowered.local_size[0] // 32, "local_size": lowered.local_size,
                         "shared": lowered.shared_bytes, "arg_block_size": lowered.arg_block_size,
                         "args_in_buffer": lowered.args_in_buffer, **lowered.notes}

    def pack_args(self, launch_values, grid) -> bytes:
        vals = [launch_values[i] for i in self.runtime_params]
        if self._debug_checks is None:
            checks = []
            if self.lowered.asserts:
                checks.append((self.assert_record, self._check_asserts))
            if self.lowered.prints:
                checks.append((self.print_buffer, self._emit_prints))
            self._debug_checks = tuple(checks)
        vals.extend(buffer.address for buffer, _ in self._debug_checks)
        if self.lowered.grid_in_args:
            vals.extend(grid)
        try:
            return self._pack(*vals)
        except (struct.error, OverflowError):
            self._raise_unpackable(vals)
            raise

    def _raise_unpackable(self, vals):
        """Names the argument whose value its argument-block member cannot hold (1e300 as fp32)."""
        for a, param, value in zip(self.lowered.args, self.runtime_params, vals):
            try:
                struct.pack("<" + a.fmt, value)
            except (struct.error, OverflowError):
                raise OverflowError(f"{self.name}(): argument {self.param_names[param]!r} = {value!r} is out of "
                                    f"range for its type ({_MEMBER_TYPES[a.fmt]})") from None

    def launch(self, grid, launch_values):
        self.pipeline.launch(grid, self.pack_args(launch_values, grid))
        # Debug buffers (asserts, prints): one check per submission holding launches of this
        # kernel, run when it completes. Kernels without them skip an empty loop.
        for buffer, check in self._debug_checks:
            serial = buffer.stream.pending_serial
            if serial != buffer.checked_serial:
                buffer.checked_serial = serial
                buffer.stream.defer(check)

    @property
    def assert_record(self) -> _DebugBuffer:
        if self._assert_record is None:
            from jitspv.vk.device import get_device
            self._assert_record = _DebugBuffer(get_device())
        return self._assert_record

    @property
    def print_buffer(self) -> _DebugBuffer:
        if self._print_buffer is None:
            from jitspv.vk.device import get_device
            self._print_buffer = _DebugBuffer(get_device(), PRINT_BUFFER_BYTES)
        return self._print_buffer

    def _emit_prints(self):
        """Prints the records of the completed submission to stdout and empties the buffer."""
        buffer = self._print_buffer
        reserved = buffer.words[0]
        if not reserved:
            return
        written = min(reserved, PRINT_CAPACITY)
        records = buffer.print_records(written)
        buffer.clear()
        lines = format_print_records(self.lowered.prints, records)
        if reserved > written:
            lines.append(f"jitspv: {reserved - written} lines of tl.device_print dropped "
                         f"(the print buffer holds {PRINT_CAPACITY})")
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()

    def _check_asserts(self):
        """Raises DeviceAssertionError when a site failed, clearing the record first so that the
        process stays usable. Runs inside the stream's completion handling, which runs the other
        due callbacks before re-raising."""
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
