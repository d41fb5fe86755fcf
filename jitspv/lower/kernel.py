"""What the lowering hands to the runtime: the contract between `jitspv/lower` and the frontend.

`lower_module(ttir_module, target) -> LoweredKernel` (in jitspv/lower/__init__.py) produces one of
these; the frontend caches it (in memory and, serialized with `to_json`/`from_json` plus the
SPIR-V bytes, on disk) and launches it: it packs the launch's runtime arguments with `arg_format`
in the order of `args`, then a value for each member of `hidden` in HIDDEN_ARGS order, and hands the
bytes to the Vulkan pipeline, which passes them as push constants or, when `args_in_buffer`,
through a device buffer whose address is the only push constant. `arg_block_layout` decides where
every member lies; the lowering and `arg_format` both read it.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field, asdict


# tl.device_print buffer: a u32 cursor (records reserved so far, also beyond capacity: the excess
# is the count of dropped records), padding to 16 bytes, then records of 8 u32 words:
# [site, pid x, pid y, pid z, row-major element index, value bits low, high, 0].
PRINT_BUFFER_BYTES = 1 << 20
PRINT_HEADER_BYTES = 16
PRINT_RECORD_WORDS = 8
PRINT_CAPACITY = (PRINT_BUFFER_BYTES - PRINT_HEADER_BYTES) // (4 * PRINT_RECORD_WORDS)

# The assert record: [site + 1, pid x, y, z], then for a bounds violation [address low, high,
# launch id, 0] (u32 words).
ASSERT_RECORD_WORDS = 8

# Bounds table (u64 words), one per launch in bounds mode: [launch id, n], then (start, bytes) of the
# array each pointer argument points into, in argument order ((0, 0): none), then n live ranges
# (start, bytes) sorted by start, the first a (0, 0) sentinel so that a search always lands on one.
BOUNDS_HEADER_WORDS = 2

# Hidden members of the argument block, after the kernel's own arguments in this order, each there
# only when the kernel uses it: the address of its assert record (tl.device_assert, loops the device
# limits, bounds checks), of its print buffer (tl.device_print), of the launch's bounds table (bounds
# mode), and the launch's grid (tl.num_programs; vkCmdDispatchBase pieces make NumWorkgroups
# unreliable). Name -> struct format; the names are also the LoweringContext attributes that hold
# the loaded values.
HIDDEN_ARGS = {"assert_record": "Q", "print_buffer": "Q", "bounds_table": "Q", "clock_rate": "f", "grid": "3I"}


def arg_block_layout(formats, hidden) -> tuple:
    """The argument block's layout, decided here only: (byte offset of each kernel argument, whose
    struct formats are `formats`; {name: byte offset} of the HIDDEN_ARGS named in `hidden`; the
    block's size, a multiple of 8 and at least 8). Each member ends on a multiple of min(its size,
    8): scalars lie on their size, and the grid's three u32 end on 8 bytes."""
    offset, offsets, hidden_offsets = 0, [], {}
    members = [(None, fmt) for fmt in formats] + [(name, fmt) for name, fmt in HIDDEN_ARGS.items() if name in hidden]
    for name, fmt in members:
        size = struct.calcsize("<" + fmt)
        end = -(-(offset + size) // min(size, 8)) * min(size, 8)
        offset = end - size
        if name is None:
            offsets.append(offset)
        else:
            hidden_offsets[name] = offset
        offset = end
    return offsets, hidden_offsets, max(8, -(-offset // 8) * 8)


@dataclass(frozen=True)
class Target:
    """Device facts that change generated code (part of every cache key)."""

    subgroup_size: int = 32
    max_shared_memory: int = 48 * 1024
    max_push_constants: int = 128
    max_workgroup_invocations: int = 1024   # of one workgroup (x size and total: local_size is (n, 1, 1))
    has_float16: bool = False
    has_float64: bool = False
    has_int8: bool = False
    has_int16: bool = False
    has_float32_atomic_add: bool = False
    has_float64_atomic_add: bool = False
    has_int64_atomics: bool = False
    has_device_clock: bool = False   # OpReadClockKHR at Device scope (tl.atomic_poll's timeout_ns)
    vulkan_memory_model: bool = False   # the Vulkan memory model with device scope
    denorm_preserve_widths: tuple = ()  # float widths whose denormals the DenormPreserve mode keeps
    # Lavapipe before Mesa 25 ends every loop of an invocation once all its loops together made this
    # many passes (Mesa's LP_MAX_TGSI_LOOP_ITERATIONS); 0: no such limit.
    loop_pass_limit: int = 0
    # Subgroup-scope cooperative-matrix shapes tl.dot may use, (M, N, K, A, B, C, result type) with
    # types f16/bf16/f32/s8/u8/s32/u32 (jitspv.vk.device); empty with JITSPV_COOPMAT=0.
    cooperative_matrix_shapes: tuple = ()

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class KernelArg:
    """One runtime argument of the TTIR function, as laid out in the argument block."""

    name: str
    ttir_index: int   # index among the TTIR function's arguments
    offset: int       # byte offset in the argument block
    fmt: str          # struct format char: "Q" pointer, "i"/"I"/"q"/"Q" ints, "f"/"d" floats


@dataclass
class LoweredKernel:
    spirv: bytes
    local_size: tuple            # (num_warps * 32, 1, 1)
    args: list                   # list[KernelArg], in argument-block order
    arg_block_size: int          # bytes, 8-aligned, hidden members included
    args_in_buffer: bool         # True: arguments travel in a device buffer (too big for push constants)
    # HIDDEN_ARGS the runtime fills: name -> byte offset. A member the block holds but the kernel
    # turned out not to need (an assert record for loops that needed no counter) is not listed:
    # it stays as zero padding.
    hidden: dict = field(default_factory=dict)
    shared_bytes: int = 0        # workgroup memory used
    entry: str = "main"
    notes: dict = field(default_factory=dict)  # free-form facts for dumps (vector widths, layouts)
    # tl.device_assert sites, in site order: {"message", "file", "line", "function"}, and in bounds mode
    # also checked accesses: {"kind": "bounds", "access", "bytes", "arg", "file", "line", "function"}
    # ("arg": the pointer argument the address derives from, or None). When there are
    # any, the address of the kernel's assert record is the hidden member "assert_record".
    asserts: list = field(default_factory=list)
    # tl.device_print sites, one per printed operand in site order: {"prefix", "hex", "signed",
    # "type", "shape", "operand", "operands"} (operand -1: a print without operands). When there are
    # any, the address of the kernel's print buffer is the hidden member "print_buffer".
    prints: list = field(default_factory=list)
    # The target environment spirv-val accepted the module for when it was compiled; "" when it
    # was not validated (JITSPV_SPIRV_VAL=0, or spirv-val not installed).
    spirv_val: str = ""
    # Bounds debug mode (lower/bounds.py): the hidden member "bounds_table" is the address of the
    # launch's table of live ranges (BOUNDS_*); its violations are `asserts` sites of kind "bounds".
    # TTIR indices of the pointer arguments a store or atomic may write through (lower/stored_args.py).
    stored_args: list = field(default_factory=list)
    # TTIR indices of the pointer arguments whose contents the kernel dereferences as pointers.
    pointer_tables: list = field(default_factory=list)

    @property
    def arg_format(self) -> str:
        """struct format packing the arguments, then the hidden members, with explicit padding."""
        members = [(a.offset, a.fmt) for a in self.args]
        members += [(offset, HIDDEN_ARGS[name]) for name, offset in self.hidden.items()]
        fmt, pos = "<", 0
        for offset, member in sorted(members):
            if offset > pos:
                fmt += f"{offset - pos}x"
            fmt += member
            pos = offset + struct.calcsize("<" + member)
        if self.arg_block_size > pos:
            fmt += f"{self.arg_block_size - pos}x"
        return fmt

    def to_json(self) -> str:
        d = asdict(self)
        d.pop("spirv")
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, spirv: bytes) -> "LoweredKernel":
        d = json.loads(text)
        d["args"] = [KernelArg(**a) for a in d["args"]]
        d["local_size"] = tuple(d["local_size"])
        return cls(spirv=spirv, **d)
