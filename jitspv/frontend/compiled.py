"""A compiled specialization of a kernel: its stages (TTIR, SPIR-V), its pipeline, its launcher."""
from __future__ import annotations

import bisect
import json
import math
import os
import re
import sys
import struct
from collections.abc import Mapping
from pathlib import Path

from jitspv.frontend import runtime
from jitspv.lower.fp8 import FP8_FORMATS, encode_value, is_fp8
from jitspv.lower.kernel import (ASSERT_RECORD_WORDS, HIDDEN_ARGS, LoweredKernel, PRINT_BUFFER_BYTES,
                                 PRINT_CAPACITY, PRINT_HEADER_BYTES, PRINT_RECORD_WORDS)


# What each argument-block format holds (lower/__init__.py _ARG_FORMATS), for errors.
_MEMBER_TYPES = {"Q": "a 64-bit pointer or unsigned integer", "q": "a 64-bit integer, signed or unsigned",
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


class DeviceLoopLimitError(RuntimeError):
    """A loop of a launched kernel was stopped by the device's loop limit (lavapipe before Mesa 25),
    so its results are wrong; raised at the next synchronization."""

    def __init__(self, site: dict, program_id: tuple):
        self.file, self.line, self.function = site["file"], site["line"], site["function"]
        self.message, self.program_id = site["message"], program_id
        super().__init__(f"jitspv: loop at {self.file}:{self.line} in {self.function}: {self.message} "
                         f"(program id {program_id})")


# Failure sites of the assert record by kind (lower/rules/assert_.py): the error each raises.
_FAILURES = {"assert": DeviceAssertionError, "loop_limit": DeviceLoopLimitError}


class DeviceBoundsError(DeviceAssertionError, IndexError):
    """Bounds mode (JITSPV_DEBUG=bounds): a kernel's global load, store or atomic fell outside the
    arrays and was not performed; raised at the next synchronization. `address`, `nbytes`, `access`
    ("load", "store", "atomic_add", ...), `program_id`, `file`, `line`, `function`, and `array`: the
    nearest array as {"name" (the pointer parameter, or None), "dtype", "base", "nbytes"} or None."""

    def __init__(self, site: dict, program_id: tuple, address: int, array, text: str):
        self.file, self.line, self.function = site["file"], site["line"], site["function"]
        self.access, self.nbytes, self.program_id = site["access"], site["bytes"], program_id
        self.address, self.array, self.message = address, array, text
        Exception.__init__(self, f"jitspv: out-of-bounds {self.access} of {self.nbytes} bytes at address "
                                 f"0x{address:x} at {self.file}:{self.line} in {self.function} (program id "
                                 f"{program_id}); it was not performed. {text}")


class _DebugBuffer:
    """u32 words the kernel's debug sites write: the assert record (ASSERT_RECORD_WORDS words the
    tt.assert sites and bounds checks write on failure: [site + 1, pid x, y, z, ...]) or the print
    buffer (lower/kernel.py, PRINT_*).

    It lives in host-mapped memory (device memory where the host can map it, else the staging
    heap), so that a check reads it without recording or waiting for anything: the check runs as
    a stream callback once the launches before it completed, i.e. at the next synchronization.
    Only the first four words start cleared (the record, or the print buffer's cursor).
    """

    def __init__(self, device, nbytes=4 * ASSERT_RECORD_WORDS):
        from jitspv.vk.binding import ffi
        self.stream = device.stream
        self.allocation = _host_mapped(device, nbytes)
        self.address = self.allocation.address
        self.words = ffi.cast("uint32_t*", self.allocation.host_ptr)
        self.clear()
        self.checked_serial = 0   # the stream serial whose completion the last deferred check waits for

    def clear(self):
        for k in range(4):
            self.words[k] = 0

    def read(self):
        return tuple(self.words[k] for k in range(ASSERT_RECORD_WORDS))

    def print_records(self, count):
        """The first `count` print records, copied out, as a (count, PRINT_RECORD_WORDS) u32 array."""
        import numpy as np
        from jitspv.vk.binding import ffi
        data = ffi.buffer(self.words + PRINT_HEADER_BYTES // 4, count * 4 * PRINT_RECORD_WORDS)
        return np.frombuffer(data, np.uint32).reshape(count, PRINT_RECORD_WORDS).copy()


def _host_mapped(device, nbytes):
    """An untracked allocation the host can write and read at once: device memory where the host
    can map it, else the staging heap."""
    memory, stream = device.memory, device.stream
    heap = memory.device_heap if memory.device_heap.mapped else memory.staging_heap
    allocation = heap.allocate(nbytes, track=False)
    if allocation.host_safe_serial > stream.completed_serial:
        stream.wait_serial(allocation.host_safe_serial)   # reused memory: its last users
    return allocation


class _BoundsTables:
    """Bounds mode: each launch gets a table of the live ranges (lower/kernel.py, BOUNDS_*) that its
    accesses are checked against, kept with what an error report needs until the launch completed.

    `pointers`: (argument-block index, launch-value index, parameter name, Triton type) of each
    pointer argument, in argument order. `address` is the table of the launch being packed."""

    def __init__(self, device, pointers):
        self.device, self.stream, self.pointers = device, device.stream, pointers
        self.launches = {}   # launch id -> (stream serial, allocation, argument ranges, live ranges)
        self.next_id = 1
        self.address = 0
        self.checked_serial = 0

    def prepare(self, launch_values):
        import numpy as np
        from jitspv.vk.binding import ffi
        live = self.device.memory.live_ranges()
        starts = [start for start, _ in live]
        ranges = [_containing(live, starts, launch_values[value]) for _, value, _, _ in self.pointers]
        launch = self.next_id
        self.next_id = self.next_id % 0xFFFFFFFF + 1
        words = np.array([launch, len(live) + 1, *(w for r in ranges for w in r), 0, 0,
                          *(w for r in live for w in r)], np.uint64)
        allocation = _host_mapped(self.device, words.nbytes)
        ffi.memmove(ffi.cast("char*", allocation.host_ptr), words.tobytes(), words.nbytes)
        self.launches[launch] = (self.stream.pending_serial, allocation, ranges, live)
        self.address = allocation.address

    def release_completed(self):
        done = self.stream.completed_serial
        for launch in [k for k, entry in self.launches.items() if entry[0] <= done]:
            self.launches.pop(launch)[1].free()

    def describe(self, site, address, launch):
        """(nearest array as a dict, or None; a sentence saying where the address is) for a violation
        of `site` at `address` in launch `launch` (whose table is kept until its check ran)."""
        entry = self.launches.get(launch)
        if entry is None:
            return None, "(the launch's table of arrays is gone)"
        if address >> 63:   # a pointer that went below address 0 wrapped around in 64 bits
            address -= 1 << 64
        _, _, ranges, live = entry
        arrays = [{"name": name, "dtype": dtype, "base": base, "nbytes": nbytes}
                  for (_, _, name, dtype), (base, nbytes) in zip(self.pointers, ranges) if nbytes or base]
        if site["arg"] is not None:   # the address derives from this argument: it must stay in its array
            k = next(i for i, p in enumerate(self.pointers) if p[0] == site["arg"])
            name, dtype = self.pointers[k][2], self.pointers[k][3]
            base, nbytes = ranges[k]
            if not base and not nbytes:
                return None, f"It derives from argument '{name}' ({dtype}), which points into no live array."
            array = {"name": name, "dtype": dtype, "base": base, "nbytes": nbytes}
            return array, "The address derives from " + _where(array, address, site["bytes"])
        nearest = min(arrays, key=lambda a: _distance(a, address), default=None)
        text = "" if nearest is None else "The nearest argument array is " + _where(nearest, address, site["bytes"])
        i = bisect.bisect_right([start for start, _ in live], address)
        others = [{"name": None, "dtype": None, "base": b, "nbytes": n} for b, n in live[max(0, i - 1):i + 1]]
        closer = min(others, key=lambda a: _distance(a, address), default=None)
        if closer is not None and (nearest is None or _distance(closer, address) < _distance(nearest, address)):
            text += (" " if text else "") + "The nearest live array is " + _where(closer, address, site["bytes"])
            nearest = closer
        return nearest, text or "There is no live array."


def _containing(live, starts, address):
    """(start, bytes) of the live range `address` points into (or at the start of), else (0, 0)."""
    i = bisect.bisect_right(starts, address) - 1
    if i >= 0 and (address < live[i][0] + live[i][1] or address == live[i][0]):
        return live[i]
    return 0, 0


def _distance(array, address):
    base, end = array["base"], array["base"] + array["nbytes"]
    return base - address if address < base else max(0, address - end + 1)


def _where(array, address, nbytes):
    """"argument 'x' (*fp32: 4000 bytes, 1000 elements, at 0x...); the address lies 0 bytes past its end"."""
    itemsize = _itemsize(array["dtype"])
    base, end = array["base"], array["base"] + array["nbytes"]

    def amount(n):
        return f"{n} bytes" + (f" ({n / itemsize:g} elements)" if itemsize else "")
    if address < base:
        where = f"the address lies {amount(base - address)} before its start"
    elif address >= end:
        where = f"the address lies {amount(address - end)} past its end"
    elif address + nbytes > end:
        where = f"the access ends {amount(address + nbytes - end)} past its end"
    else:
        where = "the access lies inside it"
    what = f"argument '{array['name']}' ({array['dtype']}: " if array["name"] else "an allocation ("
    return f"{what}{amount(array['nbytes'])} at 0x{base:x}); {where}."


def _itemsize(dtype):
    """Bytes per element of a Triton pointer type ('*fp32' -> 4), or None when unknown."""
    if not dtype or not dtype.startswith("*"):
        return None
    if dtype.startswith("**"):
        return 8
    found = re.search(r"\d+", dtype)
    return max(1, int(found.group()) // 8) if found else None


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
    if t in ("f16", "bf16", "f32", "f64") or is_fp8(t):
        value = struct.unpack("<d", struct.pack("<Q", bits))[0] if t == "f64" else \
            struct.unpack("<f", struct.pack("<I", bits))[0]
        if hex_ and is_fp8(t):
            return f"0x{encode_value(FP8_FORMATS[t], value):02x}"
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
                 key: str, timings: dict, from_disk: bool, signature: dict):
        self.name = name
        self.param_names = tuple(signature)   # the kernel's parameter names, for errors
        self.lowered = lowered
        self.pipeline = pipeline
        self.key = key
        self.timings = timings          # seconds: "frontend", "lowering", "pipeline" (missing when cached)
        self.from_disk = from_disk
        self.asm = KernelAsm(ttir, lowered.spirv)
        self.runtime_params = tuple(kept_params[a.ttir_index] for a in lowered.args)
        # Parameter indices of the pointers a store or atomic may write through.
        self.stored_params = frozenset(kept_params[i] for i in lowered.stored_args)
        # Parameter indices of the pointers to tables of pointers (host addresses there are refused).
        self.table_params = tuple(kept_params[i] for i in lowered.pointer_tables)
        self._pack = struct.Struct(lowered.arg_format).pack
        self._assert_record = None   # made at the first launch of a kernel with asserts
        self._print_buffer = None    # made at the first launch of a kernel with prints
        self._bounds = None          # bounds mode: made at the first launch
        if "bounds_table" in lowered.hidden:
            self.launch = self._launch_bounds_checked
            self._signature = signature   # parameter name -> Triton type, in parameter order
        # (buffer, completion check) per hidden member filled from a debug buffer, in argument-block
        # order; () without any.
        self._debug_checks = None if any(name in _DEBUG_BUFFERS for name in lowered.hidden) else ()
        self._grid_in_args = "grid" in lowered.hidden
        # tl.atomic_poll's timeout_ns: clock ticks per ns of this device (measured once per process).
        self._clock_rate = (runtime.device_clock_ticks_per_ns(),) if "clock_rate" in lowered.hidden else ()
        self._hidden = None          # _hidden_values(), once known
        self.metadata = {"name": name, "num_warps": lowered.local_size[0] // 32, "local_size": lowered.local_size,
                         "shared": lowered.shared_bytes, "arg_block_size": lowered.arg_block_size,
                         "args_in_buffer": lowered.args_in_buffer, **lowered.notes}

    def pack_args(self, launch_values, grid) -> bytes:
        vals = [launch_values[i] for i in self.runtime_params]
        vals += self._hidden if self._hidden is not None else self._hidden_values()
        if self._grid_in_args:   # the last hidden member
            vals += grid
        try:
            return self._pack(*vals)
        except (struct.error, OverflowError):
            vals = self._unsigned_64_wrapped(vals)
            try:
                return self._pack(*vals)
            except (struct.error, OverflowError):
                self._raise_unpackable(vals)
                raise

    def _hidden_values(self):
        """The hidden members before the grid: debug buffers' addresses (the buffers made here, at
        the first launch), then the clock rate; kept for every later launch except in bounds mode,
        where each launch packs its own table."""
        with self.pipeline.device.lock:   # one set of debug buffers, whichever thread launches first
            if self._debug_checks is None:
                self._debug_checks = tuple(_DEBUG_BUFFERS[name](self) for name in HIDDEN_ARGS
                                           if name in _DEBUG_BUFFERS and name in self.lowered.hidden)
            hidden = tuple(buffer.address for buffer, _ in self._debug_checks) + self._clock_rate
            if "bounds_table" not in self.lowered.hidden:
                self._hidden = hidden
        return hidden

    def _unsigned_64_wrapped(self, vals):
        """`vals` with ints in [2**63, 2**64) in 64-bit integer members as their two's complement:
        Triton passes them as u64, which TTIR's signless i64 holds bit for bit."""
        members = [a.fmt for a in self.lowered.args]
        return [v - 2**64 if k < len(members) and members[k] == "q" and isinstance(v, int) and 2**63 <= v < 2**64
                else v for k, v in enumerate(vals)]

    def _raise_unpackable(self, vals):
        """Names the argument whose value its argument-block member cannot hold (1e300 as fp32)."""
        for a, param, value in zip(self.lowered.args, self.runtime_params, vals):
            try:
                struct.pack("<" + a.fmt, value)
            except (struct.error, OverflowError):
                raise OverflowError(f"{self.name}(): argument {self.param_names[param]!r} = {value!r} is out of "
                                    f"range for its type ({_MEMBER_TYPES[a.fmt]})") from None

    def launch(self, grid, launch_values):
        args = self.pack_args(launch_values, grid)
        if not self._debug_checks:
            self.pipeline.launch(grid, args)
            return
        # Debug buffers (asserts, prints): one check per submission holding launches of this
        # kernel, run when it completes; the lock keeps the launch in the submission checked.
        with self.pipeline.device.lock:
            self.pipeline.launch(grid, args)
            for buffer, check in self._debug_checks:
                serial = buffer.stream.pending_serial
                if serial != buffer.checked_serial:
                    buffer.checked_serial = serial
                    buffer.stream.defer(check)

    def _launch_bounds_checked(self, grid, launch_values):
        """launch() in bounds mode: first this launch's table of live ranges (packed as a hidden argument)."""
        device = self.pipeline.device
        with device.lock:   # the table prepared is the one this launch packs
            if self._bounds is None:
                names = list(self._signature)
                pointers = [(k, p, names[p], self._signature.get(names[p]))
                            for k, (a, p) in enumerate(zip(self.lowered.args, self.runtime_params)) if a.fmt == "Q"]
                self._bounds = _BoundsTables(device, pointers)
            self._bounds.prepare(launch_values)
            CompiledKernel.launch(self, grid, launch_values)

    @property
    def assert_record(self) -> _DebugBuffer:
        if self._assert_record is None:
            self._assert_record = _DebugBuffer(self.pipeline.device)
        return self._assert_record

    @property
    def print_buffer(self) -> _DebugBuffer:
        if self._print_buffer is None:
            self._print_buffer = _DebugBuffer(self.pipeline.device, PRINT_BUFFER_BYTES)
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
        """Raises the error of the site that failed (DeviceAssertionError, DeviceLoopLimitError,
        DeviceBoundsError),
        clearing the record first so that the process stays usable. Runs inside the stream's
        completion handling, which runs the other due callbacks before re-raising."""
        record = self._assert_record
        words = record.read()
        if words[0]:
            record.clear()
            site, program_id = self.lowered.asserts[words[0] - 1], tuple(words[1:4])
            if site.get("kind") == "bounds":
                address = words[4] | words[5] << 32
                array, text = self._bounds.describe(site, address, words[6])
                raise DeviceBoundsError(site, program_id, address, array, text)
            raise _FAILURES[site.get("kind", "assert")](site, program_id)

    def dump(self, directory: str) -> None:
        """Write every stage (ttir, spvasm, json metadata; with JITSPV_PIPELINE_STATS=1 also the
        driver's statistics in the json and its text forms of the shader, NAME.driver-*.txt) for JITSPV_DUMP."""
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
            {"metadata": self.metadata, "lowered": json.loads(self.lowered.to_json()), "timings": self.timings,
             "driver_statistics": self.pipeline.statistics()},
            indent=1, sort_keys=True, default=repr))
        for name, text in self.pipeline.internal_representations().items():
            (d / f"{stem}.driver-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.txt").write_text(text)

    def __repr__(self):
        return f"<jitspv.CompiledKernel {self.name} local_size={self.lowered.local_size}>"


# Hidden argument-block members (lower/kernel.py HIDDEN_ARGS) filled with a debug buffer's address:
# (the buffer, the check run once a submission holding a launch completed).
_DEBUG_BUFFERS = {
    "assert_record": lambda k: (k.assert_record, k._check_asserts),
    "print_buffer": lambda k: (k.print_buffer, k._emit_prints),
    "bounds_table": lambda k: (k._bounds, k._bounds.release_completed),
}


def dump_dir() -> str | None:
    return os.environ.get("JITSPV_DUMP") or None
