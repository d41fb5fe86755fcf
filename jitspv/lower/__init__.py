"""Lowering: a TTIR module (jitspv.ttir.ir) to one SPIR-V compute shader.

    lowered = lower_module(ttir_module, target, num_warps=4, enable_fp_fusion=True, num_stages=3,
                           bounds_check=False)

Where JITSPV_SPIRV_VAL asks for it (by default: where spirv-val is installed) the module goes through
spirv-val before it is returned: a module it rejects raises LoweringError naming the TTIR op, and
the kernel's source line, whose lowering produced the offending instruction, and never reaches a
driver. `LoweredKernel.spirv_val` records the verdict, so cached entries are not validated again.

One workgroup of num_warps * 32 invocations runs one Triton program. The kernel's runtime
arguments arrive in push constants (or, when they do not fit, in a device buffer whose address is
the only push constant), laid out as `LoweredKernel.args` says.
"""
from __future__ import annotations

import struct

from jitspv.lower.assign import assign_encodings
from jitspv.lower.bounds import BoundsCheck
from jitspv.lower.context import LoweringContext
from jitspv.lower.dot_strategy import plan_dots
from jitspv.lower.errors import LoweringError, OutOfResources
from jitspv.lower.kernel import HIDDEN_ARGS, KernelArg, LoweredKernel, Target, arg_block_layout
from jitspv.lower.prefetch import pipeline_dot_loops
from jitspv.lower.scaled_dot import decompose_scaled_dots
from jitspv.lower import rules  # noqa: F401  (registers every lowering)
from jitspv.lower.rules.dot import DOT_OPERANDS
from jitspv.lower.rules.memory import poll_timeout
from jitspv.lower.spirv.grammar import Op, StorageClass, Decoration, MemoryAccess
from jitspv.lower.spirv.tools import SPIRV_VAL_TARGET, rejected_id, validate, validate_cold_compiles
from jitspv.errors import InvalidSpirv
from jitspv.lower.op_facts import accesses_memory
from jitspv.lower.stored_args import pointer_table_arguments, stored_arguments
from jitspv.lower.ttir_access import type_name
from jitspv.ttir import ir
from jitspv.ttir.inline import inline_calls
from jitspv.ttir.printer import print_module
from jitspv.ttir.structure import UnstructuredControlFlow, structure_control_flow

__all__ = ["lower_module", "LoweredKernel", "KernelArg", "Target", "LoweringError"]

# Argument block member per TTIR scalar type: (struct format, size). Narrow ints and floats
# travel widened to 32 bits (push-constant members of 8/16 bits need extra device features).
_ARG_FORMATS = {"ptr": "Q", "i1": "I", "i8": "i", "i16": "i", "i32": "i", "i64": "q",
                "f16": "f", "bf16": "f", "f32": "f", "f64": "d"}
_LOOPS = ("scf.for", "scf.while", "tt.dot")   # ops that may lower to a loop

# jitspv's own rewrites of the TTIR, in order: (name, fn(module, kernel function, num_stages)).
def _structure(module, func, num_stages):
    """Early returns (cf.cond_br/cf.br) become scf.if: the lowering emits structured control flow."""
    try:
        structure_control_flow(module)
    except UnstructuredControlFlow as e:
        raise LoweringError(f"jitspv cannot lower this control flow: {e}", func.location) from None


REWRITES = (
    ("scaled_dot", lambda module, func, num_stages: decompose_scaled_dots(module, func)),   # upcasts and tt.dot
    ("structure", _structure),
    ("inline", lambda module, func, num_stages: inline_calls(module, func)),   # one body per call site
    ("prefetch", lambda module, func, num_stages: pipeline_dot_loops(func, num_stages)),
)


def lower_module(module, target: Target, num_warps: int = 4, enable_fp_fusion: bool = True,
                 num_stages: int = 3, bounds_check: bool = False, stages: dict | None = None) -> LoweredKernel:
    """Stages, in order: jitspv's TTIR rewrites (REWRITES), a strategy for each tt.dot
    (dot_strategy.py), an encoding for each tensor (assign.py), then emission, one rule per op
    (twice where the kernel exceeds the device's workgroup memory: dots in K slices, large layout
    conversions in parts then, _workgroup_bounds).
    `stages`, where given, receives the TTIR text after each rewrite, by its name (JITSPV_DUMP)."""
    kernels = [f for f in module.functions if f.visibility == "public"]
    if len(kernels) != 1:
        raise LoweringError(f"expected one public kernel function in the TTIR module, found {len(kernels)}")
    func = kernels[0]
    threads = num_warps * 32   # one program = one workgroup of num_warps warps of 32
    if threads > target.max_workgroup_invocations:
        raise OutOfResources(threads, target.max_workgroup_invocations,
                             f"workgroup invocations of num_warps={num_warps} (32 per warp; the device's "
                             "maxComputeWorkGroupInvocations)")
    for name, rewrite in REWRITES:
        rewrite(module, func, num_stages)
        if stages is not None:
            stages[name] = print_module(module)
    dot_plans = plan_dots(func, target, threads)
    encodings = assign_encodings(func, threads, dot_plans)
    emit = (func, target, num_warps, encodings, dot_plans, enable_fp_fusion, bounds_check)
    ctx, args, size, in_buffer, hidden_offsets = _emit(*emit)
    bounds = _workgroup_bounds(ctx.workgroup, target.max_shared_memory)
    if bounds:
        ctx, args, size, in_buffer, hidden_offsets = _emit(*emit, *bounds)
    spirv = ctx.finish()
    verdict = _validate(ctx, spirv) if validate_cold_compiles() else ""
    return LoweredKernel(spirv=spirv, local_size=(ctx.num_threads, 1, 1), args=args,
                         arg_block_size=size, args_in_buffer=in_buffer,
                         # a kernel whose loops needed no counter after all: the record's member stays, unfilled
                         hidden={name: offset for name, offset in hidden_offsets.items()
                                 if name != "assert_record" or ctx.asserts},
                         shared_bytes=ctx.workgroup.total_bytes, notes={"kernel": func.sym_name},
                         asserts=ctx.asserts, prints=ctx.prints,
                         spirv_val=verdict, stored_args=stored_arguments(func),
                         pointer_tables=pointer_table_arguments(func))


def _workgroup_bounds(wg, limit):
    """Where the kernel's workgroup memory (WorkgroupMemory `wg`, all lowered) exceeds `limit`: the
    bounds to lower it again with, (FMA dot operand pool bytes: K slices, scratch words: layout
    conversions in parts), each None for no bound; None where neither would make room. The other
    users' needs do not depend on these. The dots shrink first; where the scratch alone leaves them
    no room and a conversion sized it, the conversions go in parts too, in half of what is left."""
    if wg.total_bytes <= limit:
        return None
    pool, scratch = wg.bytes_of(DOT_OPERANDS), wg.scratch_words * 4
    left = limit - (wg.total_bytes - pool - scratch)   # for the pool and the scratch
    if pool and left > scratch:
        return left - scratch, None
    floor = wg.fixed_scratch_words * 4                 # what no conversion in parts shrinks
    if scratch <= floor:
        return None
    bound = max(floor, left // 2 if pool else left)
    if bound <= 0 or pool and left <= bound:
        return None
    return (left - bound if pool else None), bound // 4


def _emit(func, target, num_warps, encodings, dot_plans, enable_fp_fusion, bounds_check, dot_pool_bytes=None,
          scratch_bound=None):
    """Lower the kernel's body into a new LoweringContext, all but its finish(); returns it with the
    argument block (args, size, in_buffer, {hidden name: offset})."""
    ctx = LoweringContext(func, target, num_warps, encodings, dot_plans, dot_pool_bytes, scratch_bound)
    ctx.fp_fusion = enable_fp_fusion
    # Failure sites use the assert record: tl.device_assert, loops where the device limits them, and
    # the accesses bounds mode checks. Layout conversions in parts are loops too, made by any op.
    limited = _LOOPS if target.loop_pass_limit else ()
    uses_bounds = bounds_check and any(accesses_memory(op.name) for op in func.walk())
    in_parts = bool(target.loop_pass_limit) and scratch_bound is not None
    hidden = {"assert_record": uses_bounds or in_parts or any(op.name == "tt.assert" or op.name in limited
                                                              for op in func.walk()),
              "print_buffer": any(op.name == "tt.print" for op in func.walk()),
              "bounds_table": uses_bounds,
              "clock_rate": any(op.name == "tt.atomic_poll" and isinstance(poll_timeout(op), ir.Value)
                                for op in func.walk()),
              "grid": any(op.name == "tt.get_num_programs" for op in func.walk())}
    ctx.asserts = []   # filled by the tt.assert rule and the bounds checks, one entry per site
    ctx.prints = []    # filled by the tt.print rule, one entry per printed operand
    args, size, in_buffer, hidden_offsets = _load_arguments(ctx, func, [name for name, used in hidden.items() if used])
    if uses_bounds:
        ctx.bounds = BoundsCheck(ctx, func, ctx.bounds_table)
    ctx.lower_block(func.body.blocks[0])
    return ctx, args, size, in_buffer, hidden_offsets


def _validate(ctx, spirv):
    """spirv-val's verdict ("vulkan1.2": accepted for that target); a rejection raises LoweringError
    at the op that produced the instruction spirv-val names."""
    try:
        validate(spirv, SPIRV_VAL_TARGET)
    except InvalidSpirv as e:
        rid = rejected_id(spirv, str(e))
        op = ctx.origin_of(rid) if rid is not None else None
        where = f"while lowering '{op.name}'" if op is not None else "outside every op (prologue or epilogue)"
        raise LoweringError(f"jitspv produced SPIR-V that spirv-val rejects, {where} (result id %{rid}); "
                            f"this is a jitspv bug, and nothing was handed to the driver.\n{e}",
                            getattr(op, "location", None)) from None
    return SPIRV_VAL_TARGET


def _load_arguments(ctx, func, hidden):
    """Declare the argument block (laid out by kernel.arg_block_layout: the kernel's arguments, then
    the HIDDEN_ARGS named in `hidden`) and load every member in the prologue; each hidden value goes
    to the ctx attribute of its name. Returns (args, size, in_buffer, {hidden name: offset})."""
    m = ctx.m
    formats = []
    for i, arg in enumerate(func.arguments):
        tname = type_name(arg.type)
        if arg.type.is_tensor or tname not in _ARG_FORMATS:
            ctx.error(f"kernel argument {i} has type {arg.type}, which jitspv cannot pass yet")
        formats.append(_ARG_FORMATS[tname])
    offsets, hidden_offsets, size = arg_block_layout(formats, hidden)
    args = [KernelArg(name=f"arg{i}", ttir_index=i, offset=offset, fmt=fmt)
            for i, (fmt, offset) in enumerate(zip(formats, offsets))]
    # One struct member per scalar: a hidden "3I" is three u32 members.
    groups = [_scalars(fmt, offset) for fmt, offset in zip(formats, offsets)]
    groups += [_scalars(HIDDEN_ARGS[name], offset) for name, offset in hidden_offsets.items()]
    members = [(_member_type(ctx, fmt), offset) for group in groups for fmt, offset in group]
    in_buffer = size > ctx.target.max_push_constants

    block = m.type_struct([t for t, _ in members], offsets=[off for _, off in members])
    m.decorate(block, Decoration.Block)
    with ctx.prologue():
        if in_buffer:
            holder = m.type_struct([ctx.t_u64], offsets=[0])
            m.decorate(holder, Decoration.Block)
            var = m.variable(m.type_pointer(StorageClass.PushConstant, holder), StorageClass.PushConstant)
            addr = ctx.emit(Op.Load, ctx.t_u64, ctx.emit(
                Op.AccessChain, m.type_pointer(StorageClass.PushConstant, ctx.t_u64), var, ctx.u32(0)))
            base = ctx.emit(Op.ConvertUToPtr, m.type_pointer(StorageClass.PhysicalStorageBuffer, block), addr)
            storage = StorageClass.PhysicalStorageBuffer
        else:
            base = m.variable(m.type_pointer(StorageClass.PushConstant, block), StorageClass.PushConstant)
            storage = StorageClass.PushConstant
        loaded = []
        for k, (t, _) in enumerate(members):
            p = ctx.emit(Op.AccessChain, m.type_pointer(storage, t), base, ctx.u32(k))
            extra = (MemoryAccess.Aligned, 8 if m.type_info(t).width == 64 else 4) if in_buffer else ()
            loaded.append(ctx.emit(Op.Load, t, p, *extra))
        values = iter(loaded)
        for arg, fmt in zip(func.arguments, formats):
            ctx.set(arg, _narrow(ctx, arg.type, fmt, next(values)))
        for name, group in zip(hidden_offsets, groups[len(formats):]):
            loaded_group = [next(values) for _ in group]
            setattr(ctx, name, loaded_group[0] if len(group) == 1 else loaded_group)
    return args, size, in_buffer, hidden_offsets


def _scalars(fmt, offset):
    """(format char, offset) of each scalar of an argument-block member: "3I" at 36 -> I at 36, 40, 44."""
    count, char = int(fmt[:-1] or 1), fmt[-1]
    return [(char, offset + k * struct.calcsize("<" + char)) for k in range(count)]


def _member_type(ctx, fmt):
    if fmt == "d":   # declared only when used: it needs the Float64 capability (shaderFloat64)
        return ctx.m.type_float(64)
    return {"Q": ctx.t_u64, "q": ctx.t_u64, "I": ctx.t_u32, "i": ctx.t_u32, "f": ctx.t_f32}[fmt]


def _narrow(ctx, ttype, fmt, x):
    """Argument-block member -> the register the TTIR argument stands for."""
    rtype = ctx.stype(ttype)
    if rtype == ctx.m.type_of(x):
        return x
    info = ctx.m.type_info(rtype)
    if info.kind == "bool":
        return ctx.emit(Op.INotEqual, ctx.t_bool, x, ctx.u32(0))
    if info.kind == "int":
        return ctx.emit(Op.UConvert, rtype, x)
    return ctx.emit(Op.FConvert, rtype, x)
