"""The lowering context: the SPIR-V module under construction and the driver that walks the TTIR
function, one rule per op (jitspv.lower.registry.LOWERINGS). Its other jobs live in one file each
and come in as parts of the class:

    values.py      TTIR types and values -> SPIR-V types, constants, ids, DTensors; emit
    threads.py     invocation coordinates, computed once in the entry block
    movement.py    data movement through workgroup memory (barriers, words, layout conversion)
    structured.py  structured control flow (blocks, selections)
    workgroup.py   the workgroup-memory allocator (ctx.workgroup)
"""
from __future__ import annotations

import bisect

from jitspv.errors import JitspvError
from jitspv.lower.axis_info import AxisAnalysis
from jitspv.lower.errors import LoweringError
from jitspv.lower.movement import DataMovement
from jitspv.lower.registry import LOWERINGS
from jitspv.lower.structured import StructuredControl
from jitspv.lower.threads import Threads
from jitspv.lower.values import Values
from jitspv.lower.workgroup import WorkgroupMemory
from jitspv.lower.spirv import Module
from jitspv.lower.spirv.grammar import (
    Op, Capability, AddressingModel, MemoryModel, ExecutionModel, ExecutionMode,
)


class LoweringContext(Values, Threads, DataMovement, StructuredControl):
    def __init__(self, func, target, num_warps, encodings, dot_plans, dot_pool_bytes=None, scratch_bound=None):
        self.func = func
        self.target = target
        self.num_threads = num_warps * 32
        self.enc = encodings               # TTIR value -> encoding (from jitspv.lower.assign)
        self.dot_plans = dot_plans          # tt.dot op -> its strategy's plan (lower/dot_strategy.py)
        self.before_loop = {}               # tt.dot op -> what its plan emitted before the loop holding it
        self.dot_pool_bytes = dot_pool_bytes   # bound on the FMA dots' operand pool (None: whole operands)
        self.scratch_bound = scratch_bound     # words layout conversions may use at once (None: any)
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
        self.label = self._first_body_label = self.f.label()
        self.f.begin_block(self.label)
        self._thread_cache = {}
        self._builtins = {}
        self.workgroup = WorkgroupMemory(self)
        self.plans = {}                     # per-kernel plans rules make on first need, by class
        self.loop_passes = None             # u32 Function variable: loop passes so far (rules/control.py)
        self.bounds = None                  # lower/bounds.py BoundsCheck in bounds debug mode

    # ---- errors ------------------------------------------------------------------------------
    def error(self, message):
        raise LoweringError(message, self.loc)

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
        except (LoweringError, JitspvError):
            raise
        except Exception as e:   # a bug in a rule: said with the op and the kernel line it was lowering
            types = ", ".join(str(v.type) for v in op.operands)
            raise LoweringError(f"internal: {type(e).__name__}: {e}, while lowering '{op.name}' with operands "
                                f"({types}); this is a jitspv bug", self.loc) from e
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
        with self.prologue():
            self.emit(Op.Branch, None, self._first_body_label)
        self.f.end()
        m = self.m
        self.workgroup.finish()
        m.entry_point(ExecutionModel.GLCompute, self.f.id, "main")
        m.execution_mode(self.f.id, ExecutionMode.LocalSize, self.num_threads, 1, 1)
        # Triton keeps denormals (PTX without .ftz); NVIDIA's Vulkan driver flushes fp32 ones unless asked.
        t = self.target
        for width in t.denorm_preserve_widths:
            if width == 32 or (width == 16 and t.has_float16) or (width == 64 and t.has_float64):
                m.capability(Capability.DenormPreserve)
                m.execution_mode(self.f.id, ExecutionMode.DenormPreserve, width)
        return m.assemble()

