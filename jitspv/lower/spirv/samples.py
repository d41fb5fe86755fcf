"""Kernels built directly with the builder, without Triton: the runtime's tests and
bench/launch_overhead.py use them to exercise Vulkan before the lowering exists.

vector_add_f32: out[i] = a[i] + b[i] for i < n, one element per invocation, i = GlobalInvocationId.x.
Its push constants are `VECTOR_ADD_F32_ARGS` (struct format "<QQQI", 28 bytes): three buffer
device addresses then the element count; dispatch ceil(n / local_size) workgroups.

device_clock: one invocation stores the device's shader clock (OpReadClockKHR, Device scope) as a
u64 at the address in its push constants (struct format "<Q"); the runtime measures the clock's
rate with it (jitspv.frontend.runtime.device_clock_ticks_per_ns).
"""
from __future__ import annotations

from jitspv.lower.kernel import KernelArg, LoweredKernel
from jitspv.lower.spirv.builder import Module
from jitspv.lower.spirv.grammar import (
    AddressingModel, BuiltIn, Capability, Decoration, ExecutionMode, ExecutionModel,
    MemoryAccess, MemoryModel, Op, SelectionControl, StorageClass,
)

VECTOR_ADD_F32_ARGS = [
    KernelArg("a", 0, 0, "Q"),
    KernelArg("b", 1, 8, "Q"),
    KernelArg("out", 2, 16, "Q"),
    KernelArg("n", 3, 24, "I"),
]
VECTOR_ADD_F32_PUSH_CONSTANT_SIZE = 28


def vector_add_f32(local_size: int = 128, version=(1, 5)) -> bytes:
    """SPIR-V GLCompute shader for out = a + b over n float32 elements (see module docstring)."""
    m = Module(version=version)
    m.capability(Capability.Shader)
    m.capability(Capability.PhysicalStorageBufferAddresses)
    if version < (1, 5):
        m.extension("SPV_KHR_physical_storage_buffer")
    m.memory_model(AddressingModel.PhysicalStorageBuffer64, MemoryModel.GLSL450)

    void = m.type_void()
    u32 = m.type_int(32, False)
    u64 = m.type_int(64, False)
    f32 = m.type_float(32)
    v3u32 = m.type_vector(u32, 3)
    boolean = m.type_bool()

    args = m.type_struct([u64, u64, u64, u32], offsets=[a.offset for a in VECTOR_ADD_F32_ARGS])
    m.decorate(args, Decoration.Block)
    m.name(args, "Args")
    for i, a in enumerate(VECTOR_ADD_F32_ARGS):
        m.member_name(args, i, a.name)
    pc = m.variable(m.type_pointer(StorageClass.PushConstant, args), StorageClass.PushConstant)
    m.name(pc, "args")
    pc_u64 = m.type_pointer(StorageClass.PushConstant, u64)
    pc_u32 = m.type_pointer(StorageClass.PushConstant, u32)

    gid_var = m.variable(m.type_pointer(StorageClass.Input, v3u32), StorageClass.Input)
    m.decorate(gid_var, Decoration.BuiltIn, BuiltIn.GlobalInvocationId)
    psb_f32 = m.type_pointer(StorageClass.PhysicalStorageBuffer, f32, array_stride=4)

    f = m.function(void, m.type_function(void))
    m.name(f.id, "main")
    entry, body, merge = f.label(), f.label(), f.label()
    f.begin_block(entry)
    gid = f.emit(Op.CompositeExtract, u32, f.emit(Op.Load, v3u32, gid_var), 0)
    n = f.emit(Op.Load, u32, f.emit(Op.AccessChain, pc_u32, pc, m.const(u32, 3)))
    in_bounds = f.emit(Op.ULessThan, boolean, gid, n)
    f.emit(Op.SelectionMerge, None, merge, SelectionControl.None_)
    f.emit(Op.BranchConditional, None, in_bounds, body, merge)

    f.begin_block(body)

    def element(member: int) -> int:
        address = f.emit(Op.Load, u64, f.emit(Op.AccessChain, pc_u64, pc, m.const(u32, member)))
        return f.emit(Op.PtrAccessChain, psb_f32, f.emit(Op.ConvertUToPtr, psb_f32, address), gid)

    x = f.emit(Op.Load, f32, element(0), MemoryAccess.Aligned, 4)
    y = f.emit(Op.Load, f32, element(1), MemoryAccess.Aligned, 4)
    f.emit(Op.Store, None, element(2), f.emit(Op.FAdd, f32, x, y), MemoryAccess.Aligned, 4)
    f.emit(Op.Branch, None, merge)

    f.begin_block(merge)
    f.emit(Op.Return, None)
    f.end()

    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, local_size, 1, 1)
    return m.assemble()


def device_clock() -> bytes:
    """SPIR-V GLCompute shader storing the Device-scope shader clock (see module docstring)."""
    m = Module(version=(1, 5))
    for cap in (Capability.Shader, Capability.PhysicalStorageBufferAddresses, Capability.Int64,
                Capability.ShaderClockKHR):
        m.capability(cap)
    m.extension("SPV_KHR_shader_clock")
    m.memory_model(AddressingModel.PhysicalStorageBuffer64, MemoryModel.GLSL450)
    void, u32, u64 = m.type_void(), m.type_int(32, False), m.type_int(64, False)
    args = m.type_struct([u64], offsets=[0])
    m.decorate(args, Decoration.Block)
    pc = m.variable(m.type_pointer(StorageClass.PushConstant, args), StorageClass.PushConstant)
    f = m.function(void, m.type_function(void))
    f.begin_block(f.label())
    out = f.emit(Op.Load, u64, f.emit(Op.AccessChain, m.type_pointer(StorageClass.PushConstant, u64), pc,
                                      m.const(u32, 0)))
    psb = m.type_pointer(StorageClass.PhysicalStorageBuffer, u64)
    ticks = f.emit(Op.ReadClockKHR, u64, m.const(u32, 1))   # Scope Device
    f.emit(Op.Store, None, f.emit(Op.ConvertUToPtr, psb, out), ticks, MemoryAccess.Aligned, 8)
    f.emit(Op.Return, None)
    f.end()
    m.entry_point(ExecutionModel.GLCompute, f.id, "main")
    m.execution_mode(f.id, ExecutionMode.LocalSize, 1, 1, 1)
    return m.assemble()


def vector_add_f32_kernel(local_size: int = 128) -> LoweredKernel:
    """vector_add_f32 packaged the way the lowering hands kernels to the runtime."""
    return LoweredKernel(
        spirv=vector_add_f32(local_size),
        local_size=(local_size, 1, 1),
        args=list(VECTOR_ADD_F32_ARGS),
        arg_block_size=32,
        args_in_buffer=False,
    )
