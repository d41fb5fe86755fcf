"""The lowering context: SPIR-V module under construction, the value map, thread coordinates,
workgroup memory, structured control flow, and the driver that walks the TTIR function.

Values: a TTIR scalar maps to one SPIR-V id; a TTIR tensor to a `DTensor` (its encoding, the
layout over its shape, and one SPIR-V id per register of the invocation). Integers are unsigned
SPIR-V ints (signedness lives in the ops, as in TTIR), i1 is OpTypeBool, pointers are uint64
device addresses, bf16 computes in f32 registers.
"""
from __future__ import annotations

import bisect
from contextlib import contextmanager

from jitspv.lower import layout as L
from jitspv.lower.axis_info import AxisAnalysis
from jitspv.lower.errors import LoweringError
from jitspv.lower.op_facts import REMATERIALIZE, has
from jitspv.lower.registry import LOWERINGS
from jitspv.lower.ttir_access import type_name
from jitspv.lower.workgroup import WorkgroupMemory
from jitspv.lower.spirv import Module
from jitspv.lower.spirv.grammar import (
    Op, Capability, StorageClass, BuiltIn, Decoration, AddressingModel, MemoryModel,
    ExecutionModel, ExecutionMode, MemoryAccess, MemorySemantics, Scope,
)

SEM_WORKGROUP_ACQREL = 0x8 | 0x100   # AcquireRelease | WorkgroupMemory
_NON_PRIVATE = {StorageClass.PhysicalStorageBuffer, StorageClass.Workgroup}


class DTensor:
    __slots__ = ("enc", "layout", "regs")

    def __init__(self, enc, layout, regs):
        self.enc = enc
        self.layout = layout
        self.regs = regs


class LoweringContext:
    def __init__(self, func, target, num_warps, encodings, dot_plans):
        self.func = func
        self.target = target
        self.num_threads = num_warps * 32
        self.enc = encodings               # TTIR value -> encoding (from jitspv.lower.assign)
        self.dot_plans = dot_plans          # tt.dot op -> its strategy's plan (lower/dot_strategy.py)
        self.axis = AxisAnalysis(func)
        self.values = {}
        self.loc = None
        self.op = None                      # the TTIR op being lowered
        # (first id allocated, op allocating from there on), in order: which op produced an id that
        # spirv-val names (origin_of). Two appends per op lowered.
        self.id_origins = []
        m = self.m = Module(version=(1, 5))
        for cap in (Capability.Shader, Capability.PhysicalStorageBufferAddresses, Capability.Int64,
                    Capability.GroupNonUniform, Capability.GroupNonUniformShuffle):
            m.capability(cap)
        # The Vulkan memory model, where the device has it: its acquire/release semantics carry
        # availability and visibility, so a lock taken with an atomic (Triton's layer-norm backward)
        # sees the previous holder's plain stores. Under GLSL450 a driver may serve plain loads from
        # a non-coherent cache (seen on NVIDIA). Memory accesses are then marked NonPrivatePointer.
        self.vmm = target.vulkan_memory_model
        if self.vmm:
            m.capability(Capability.VulkanMemoryModel)
            m.capability(Capability.VulkanMemoryModelDeviceScope)
        m.memory_model(AddressingModel.PhysicalStorageBuffer64,
                       MemoryModel.Vulkan if self.vmm else MemoryModel.GLSL450)
        self.t_void = m.type_void()
        self.t_bool = m.type_bool()
        self.t_u32 = m.type_int(32, False)
        self.t_u64 = m.type_int(64, False)
        self.t_f32 = m.type_float(32)
        self.f = m.function(self.t_void, m.type_function(self.t_void, []))
        self.entry_label = self.f.label()
        self.f.begin_block(self.entry_label)
        self._prologue = self.f._cur
        self.label = self._first_body_label = self.f.label()
        self.f.begin_block(self.label)
        self._thread_cache = {}
        self._builtins = {}
        self.workgroup = WorkgroupMemory(self)
        self.plans = {}                     # per-kernel plans rules make on first need, by class
        self.uses_grid = False
        self.loop_passes = None             # u32 Function variable: loop passes so far (rules/control.py)
        self.bounds = None                  # lower/bounds.py BoundsCheck in bounds debug mode
        self.arg_fields = []                # (name, ttir index, spirv type, struct fmt, size)

    # ---- errors ------------------------------------------------------------------------------
    def error(self, message):
        raise LoweringError(message, self.loc)

    # ---- types and constants -----------------------------------------------------------------
    def stype(self, t):
        """SPIR-V register type of a TTIR scalar or pointer type (the element type for tensors)."""
        if t.is_tensor:
            t = t.element
        if t.is_pointer:
            return self.t_u64
        name = type_name(t)
        if name == "i1":
            return self.t_bool
        if name[0] == "i":
            bits = int(name[1:])
            self._need_int(bits)
            return self.m.type_int(bits, False)
        if name in ("f16", "f32", "f64"):
            bits = int(name[1:])
            self._need_float(bits)
            return self.m.type_float(bits)
        if name == "bf16":
            return self.t_f32
        self.error(f"jitspv does not support the type {name} yet")

    def _need_int(self, bits):
        if bits == 8 and not self.target.has_int8 or bits == 16 and not self.target.has_int16:
            self.error(f"this device has no {bits}-bit integer arithmetic (shaderInt{bits})")

    def _need_float(self, bits):
        if bits == 16 and not self.target.has_float16 or bits == 64 and not self.target.has_float64:
            self.error(f"this device has no {bits}-bit float arithmetic (shaderFloat{bits})")

    def const(self, t, value):
        """Constant of TTIR scalar type `t` (or a SPIR-V type id)."""
        tid = t if isinstance(t, int) else self.stype(t)
        info = self.m.type_info(tid)
        if info.kind == "int":
            value = int(value) & ((1 << info.width) - 1)
        elif info.kind == "bool":
            value = bool(value)
        return self.m.const(tid, value)

    def u32(self, v):
        return self.m.const(self.t_u32, int(v) & 0xFFFFFFFF)

    def emit(self, op, rtype, *operands):
        if self.vmm and (op == Op.Load or op == Op.Store):
            operands = self._non_private(op, operands)
        return self.f.emit(op, rtype, *operands)

    def _non_private(self, op, operands):
        """Under the Vulkan memory model, accesses to shared (buffer, workgroup) memory take part
        in the availability/visibility that barriers and atomics provide only when NonPrivatePointer."""
        sc = self.m.type_info(self.m.type_of(operands[0])).storage_class
        if sc not in _NON_PRIVATE:
            return operands
        n = 1 if op == Op.Load else 2
        if len(operands) > n:
            return operands[:n] + (operands[n] | MemoryAccess.NonPrivatePointer,) + operands[n + 1:]
        return operands + (MemoryAccess.NonPrivatePointer,)

    def semantics(self, bits):
        """Memory-semantics constant; under the Vulkan memory model acquire/release also make
        writes available / visible (what they imply under GLSL450)."""
        if self.vmm:
            if bits & (MemorySemantics.Release | MemorySemantics.AcquireRelease):
                bits |= MemorySemantics.MakeAvailable
            if bits & (MemorySemantics.Acquire | MemorySemantics.AcquireRelease):
                bits |= MemorySemantics.MakeVisible
        return self.u32(bits)

    # ---- values ------------------------------------------------------------------------------
    def set(self, value, lowered):
        self.values[value] = lowered

    def get(self, value):
        try:
            return self.values[value]
        except KeyError:
            self.error(f"internal: value {value} used before it was lowered")

    def scalar(self, value):
        v = self.get(value)
        if isinstance(v, DTensor):
            self.error("internal: tensor used where a scalar was expected")
        return v

    def encoding_of(self, value):
        return self.enc[value]

    def tensor(self, value, enc=None):
        """`value` as a DTensor in encoding `enc` (default: its assigned encoding)."""
        v = self.get(value)
        if enc is None:
            enc = self.enc[value]
        shape = tuple(value.type.shape)
        if not isinstance(v, DTensor):   # a scalar used as a tensor: every register holds it
            lay = L.layout_of(enc, shape)
            return DTensor(enc, lay, [v] * len(lay.regs))
        if v.enc == enc:
            return v
        if has(getattr(value.owner, "name", ""), REMATERIALIZE):
            return self._rematerialize(value, enc)
        return self.convert(v, enc, shape, value.type)

    def _rematerialize(self, value, enc):
        """Lower the (cheap, pure) op defining `value` again, here, with its result in `enc`:
        index and mask arithmetic recomputed in registers instead of moved through memory
        (a broadcast moves only its small source)."""
        saved_value, saved_enc = self.values[value], self.enc[value]
        self.enc[value] = enc
        try:
            self.lower_op(value.owner)
            return self.values[value]
        finally:
            self.values[value], self.enc[value] = saved_value, saved_enc

    def make(self, value, regs, enc=None):
        enc = self.enc[value] if enc is None else enc
        return DTensor(enc, L.layout_of(enc, tuple(value.type.shape)), regs)

    # ---- invocation coordinates ----------------------------------------------------------------
    @contextmanager
    def prologue(self):
        """Emit into the entry block, whose values dominate the whole function."""
        saved = self.f._cur
        self.f._cur = self._prologue
        try:
            yield
        finally:
            self.f._cur = saved

    def builtin(self, which, vec3=False):
        key = (which, vec3)
        if key not in self._builtins:
            m = self.m
            t = m.type_vector(self.t_u32, 3) if vec3 else self.t_u32
            var = m.variable(m.type_pointer(StorageClass.Input, t), StorageClass.Input)
            m.decorate(var, Decoration.BuiltIn, which)
            with self.prologue():
                self._builtins[key] = self.emit(Op.Load, t, var)
        return self._builtins[key]

    def tid(self):
        """Invocation index in subgroup order: lanes of one subgroup are consecutive."""
        if "tid" not in self._thread_cache:
            sid = self.builtin(BuiltIn.SubgroupId)
            ssz = self.builtin(BuiltIn.SubgroupSize)
            lane = self.builtin(BuiltIn.SubgroupLocalInvocationId)
            with self.prologue():
                base = self.emit(Op.IMul, self.t_u32, sid, ssz)
                self._thread_cache["tid"] = self.emit(Op.IAdd, self.t_u32, base, lane)
        return self._thread_cache["tid"]

    def lane(self):
        return self.builtin(BuiltIn.SubgroupLocalInvocationId)

    def thread_term(self, term):
        key = ("term", term)
        if key not in self._thread_cache:
            tid = self.tid()
            with self.prologue():
                x = tid
                if term.stride > 1:
                    x = self.emit(Op.ShiftRightLogical, self.t_u32, x, self.u32(term.stride.bit_length() - 1))
                if term.stride * term.count < self.num_threads or term.stride > 1:
                    x = self.emit(Op.BitwiseAnd, self.t_u32, x, self.u32(term.count - 1))
                if term.scale > 1:
                    x = self.emit(Op.IMul, self.t_u32, x, self.u32(term.scale))
                self._thread_cache[key] = x
        return self._thread_cache[key]

    def thread_linear(self, layout, strides):
        """sum over dims of (thread part of coordinate) * strides[d], as u32 (None if zero)."""
        terms = tuple((t, s) for d, s in enumerate(strides) for t in layout.terms[d] if s)
        if not terms:
            return None
        key = ("lin", terms)
        if key not in self._thread_cache:
            parts = [self.thread_term(t) for t, _ in terms]
            with self.prologue():
                acc = None
                for (t, s), p in zip(terms, parts):
                    if s != 1:
                        p = self.emit(Op.IMul, self.t_u32, p, self.u32(s))
                    acc = p if acc is None else self.emit(Op.IAdd, self.t_u32, acc, p)
                self._thread_cache[key] = acc
        return self._thread_cache[key]

    def linear_indices(self, layout, strides, base=0):
        """Per register: u32 id of base + sum(coord_d * strides[d])."""
        thr = self.thread_linear(layout, strides)
        out = []
        for r in layout.regs:
            off = base + sum(o * s for o, s in zip(r, strides))
            out.append(self.u32(off) if thr is None else
                       (thr if off == 0 else self.emit(Op.IAdd, self.t_u32, thr, self.u32(off))))
        return out

    def is_owner(self, layout):
        """bool id (None when every invocation holds distinct data): this invocation performs the
        side effects for its elements; its replicas (same data, other invocations) do not."""
        if not layout.replica_mask:
            return None
        key = ("owner", layout.replica_mask)
        if key not in self._thread_cache:
            tid = self.tid()
            with self.prologue():
                bits = self.emit(Op.BitwiseAnd, self.t_u32, tid, self.u32(layout.replica_mask))
                self._thread_cache[key] = self.emit(Op.IEqual, self.t_bool, bits, self.u32(0))
        return self._thread_cache[key]

    def first_invocation(self):
        """bool id: tid == 0 (the one invocation that performs a scalar side effect)."""
        key = ("first",)
        if key not in self._thread_cache:
            tid = self.tid()
            with self.prologue():
                self._thread_cache[key] = self.emit(Op.IEqual, self.t_bool, tid, self.u32(0))
        return self._thread_cache[key]

    # ---- workgroup memory ----------------------------------------------------------------------
    def barrier(self, device=False):
        """Workgroup barrier ordering workgroup memory; device=True also orders buffer memory at
        device scope (tl.debug_barrier before releasing a lock, and after acquiring one)."""
        wg = self.u32(Scope.Workgroup)
        if device:
            self.emit(Op.ControlBarrier, None, wg, self.u32(Scope.Device),
                      self.semantics(SEM_WORKGROUP_ACQREL | MemorySemantics.UniformMemory))
        else:
            self.emit(Op.ControlBarrier, None, wg, wg, self.semantics(SEM_WORKGROUP_ACQREL))

    def to_words(self, tid, x):
        """Split a register value into u32 words for workgroup memory."""
        info = self.m.type_info(tid)
        if info.kind == "bool":
            return [self.emit(Op.Select, self.t_u32, x, self.u32(1), self.u32(0))]
        if info.width == 64:
            bits = x if info.kind == "int" else self.emit(Op.Bitcast, self.t_u64, x)
            lo = self.emit(Op.UConvert, self.t_u32, bits)
            hi = self.emit(Op.UConvert, self.t_u32,
                           self.emit(Op.ShiftRightLogical, self.t_u64, bits, self.u32(32)))
            return [lo, hi]
        if info.width == 32:
            return [x if info.kind == "int" else self.emit(Op.Bitcast, self.t_u32, x)]
        ut = self.m.type_int(info.width, False)
        bits = x if info.kind == "int" else self.emit(Op.Bitcast, ut, x)
        return [self.emit(Op.UConvert, self.t_u32, bits)]

    def from_words(self, tid, words):
        info = self.m.type_info(tid)
        if info.kind == "bool":
            return self.emit(Op.INotEqual, self.t_bool, words[0], self.u32(0))
        if info.width == 64:
            lo = self.emit(Op.UConvert, self.t_u64, words[0])
            hi = self.emit(Op.ShiftLeftLogical, self.t_u64, self.emit(Op.UConvert, self.t_u64, words[1]),
                           self.u32(32))
            bits = self.emit(Op.BitwiseOr, self.t_u64, lo, hi)
            return bits if info.kind == "int" else self.emit(Op.Bitcast, tid, bits)
        if info.width == 32:
            return words[0] if info.kind == "int" else self.emit(Op.Bitcast, tid, words[0])
        ut = self.m.type_int(info.width, False)
        bits = self.emit(Op.UConvert, ut, words[0])
        return bits if info.kind == "int" else self.emit(Op.Bitcast, tid, bits)

    def word_count(self, tid):
        info = self.m.type_info(tid)
        return 2 if info.width == 64 else 1

    def convert(self, t: DTensor, enc, shape, ttype):
        """Move a tensor to another encoding: renaming registers when both place elements in the
        same invocations, else through workgroup memory (barrier, write, barrier, read)."""
        dst = L.layout_of(enc, shape)
        if t.regs and all(x == t.regs[0] for x in t.regs) and self.m.is_constant(t.regs[0]):
            return DTensor(enc, dst, [t.regs[0]] * len(dst.regs))   # a splat constant is everywhere
        if L.same_distribution(t.layout, dst):
            index = t.layout.register_index()
            regs = [t.regs[index[tuple(0 if t.layout.shape[d] == 1 else r[d] for d in range(len(r)))]]
                    for r in dst.regs]
            return DTensor(enc, dst, regs)
        strides = row_major(shape)
        return self.exchange([(t, strides, 0)], [(enc, shape, strides, 0)], self.stype(ttype), _numel(shape))[0]

    def exchange(self, sources, dests, rtype, numel):
        """Move data between layouts through workgroup memory. sources: (DTensor, strides, base):
        register r is written at base + sum(coord * strides); dests: (encoding, shape, strides,
        base): registers read back the same way. One barrier before the writes (earlier readers
        are done), one between writes and reads."""
        nw = self.word_count(rtype)
        self.workgroup.scratch(numel * nw, "layout conversion")
        self.barrier()
        for t, strides, base in sources:
            for idx, x in zip(self.linear_indices(t.layout, strides, base), t.regs):
                for w, word in enumerate(self.to_words(rtype, x)):
                    at = idx if w == 0 else self.emit(Op.IAdd, self.t_u32, idx, self.u32(w * numel))
                    self.emit(Op.Store, None, self.workgroup.scratch_ptr(at), word)
        self.barrier()
        out = []
        for enc, shape, strides, base in dests:
            lay = L.layout_of(enc, shape)
            regs = []
            for idx in self.linear_indices(lay, strides, base):
                words = [self.emit(Op.Load, self.t_u32, self.workgroup.scratch_ptr(
                    idx if w == 0 else self.emit(Op.IAdd, self.t_u32, idx, self.u32(w * numel))))
                    for w in range(nw)]
                regs.append(self.from_words(rtype, words))
            out.append(DTensor(enc, lay, regs))
        return out

    # ---- structured control flow --------------------------------------------------------------
    def new_label(self):
        return self.f.label()

    def start_block(self, label):
        self.f.begin_block(label)
        self.label = label

    def branch(self, label):
        self.emit(Op.Branch, None, label)

    def if_then(self, cond, then_fn, else_fn=None):
        """Structured if/else. then_fn/else_fn emit their blocks and return lists of result ids;
        returns phis merging them (an else_fn is required when results are returned)."""
        then_l, merge_l = self.new_label(), self.new_label()
        else_l = self.new_label() if else_fn else merge_l
        self.emit(Op.SelectionMerge, None, merge_l, 0)
        self.emit(Op.BranchConditional, None, cond, then_l, else_l)
        self.start_block(then_l)
        then_vals = then_fn() or []
        then_end = self.label
        self.branch(merge_l)
        else_vals, else_end = [], None
        if else_fn:
            self.start_block(else_l)
            else_vals = else_fn() or []
            else_end = self.label
            self.branch(merge_l)
        self.start_block(merge_l)
        return [self.f.phi(self.m.type_of(a), (a, then_end), (b, else_end))
                for a, b in zip(then_vals, else_vals)]

    # ---- driver -------------------------------------------------------------------------------
    def lower_block(self, block):
        for op in block.operations:
            self.lower_op(op)

    def lower_op(self, op):
        rule = LOWERINGS.get(op.name)
        saved, self.loc = self.loc, op.location or self.loc
        if rule is None:
            self.error(f"jitspv does not support the operation '{op.name}' yet")
        outer, self.op = self.op, op
        self.id_origins.append((self.m.bound, op))
        try:
            rule(self, op)
        finally:
            self.loc, self.op = saved, outer
            self.id_origins.append((self.m.bound, outer))

    def origin_of(self, result_id):
        """The TTIR op being lowered when `result_id` was allocated (None: outside every op)."""
        at = bisect.bisect_right(self.id_origins, result_id, key=lambda entry: entry[0]) - 1
        return self.id_origins[at][1] if at >= 0 else None

    def inline_region(self, region, args):
        """Lower a single-block region (a combine function) with its arguments bound to `args`
        (ids); returns the ids its terminator yields."""
        block = region.blocks[0]
        for a, v in zip(block.arguments, args):
            self.set(a, v)
        for op in block.operations[:-1]:
            self.lower_op(op)
        return [self.scalar(v) for v in block.operations[-1].operands]

    def finish(self):
        """Close the function: the prologue branches to the body, workgroup memory is declared
        with its final size, entry point and execution modes written."""
        self.emit(Op.Return, None)
        saved = self.f._cur
        self.f._cur = self._prologue
        self.emit(Op.Branch, None, self._first_body_label)
        self.f._cur = saved
        self.f.end()
        m = self.m
        self.workgroup.finish()
        m.entry_point(ExecutionModel.GLCompute, self.f.id, "main")
        m.execution_mode(self.f.id, ExecutionMode.LocalSize, self.num_threads, 1, 1)
        return m.assemble()


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def row_major(shape):
    strides, s = [], 1
    for n in reversed(shape):
        strides.append(s)
        s *= n
    return tuple(reversed(strides))


def aligned(nbytes):
    """Memory operands of a PhysicalStorageBuffer access: Aligned with a power-of-2 alignment."""
    return (MemoryAccess.Aligned, nbytes)
