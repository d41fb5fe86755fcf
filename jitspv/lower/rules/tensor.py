"""Program ids and tensor construction/shape ops: make_range, splat, unsplat, map_elementwise,
broadcast, expand_dims, reshape, trans, join, split, cat, gather."""
from __future__ import annotations

from jitspv.lower.layout import Slice, layout_of
from jitspv.lower.movement import numel, row_major
from jitspv.lower.values import DTensor
from jitspv.lower.registry import register
from jitspv.lower.ttir_access import attr
from jitspv.lower.spirv.grammar import Op, BuiltIn

_AXES = {"x": 0, "y": 1, "z": 2}


def _axis(op):
    a = attr(op, "axis")
    return _AXES[a] if isinstance(a, str) else int(a)


@register("tt.get_program_id")
def _program_id(ctx, op):
    wg = ctx.builtin(BuiltIn.WorkgroupId, vec3=True)
    ctx.set(op.results[0], ctx.emit(Op.CompositeExtract, ctx.t_u32, wg, _axis(op)))


@register("tt.get_num_programs")
def _num_programs(ctx, op):
    # The grid travels with the arguments: NumWorkgroups is wrong when a large grid is split
    # into several dispatches.
    ctx.set(op.results[0], ctx.grid[_axis(op)])


@register("tt.make_range")
def _make_range(ctx, op):
    res = op.results[0]
    enc = ctx.encoding_of(res)
    lay = layout_of(enc, tuple(res.type.shape))
    ctx.set(res, DTensor(enc, lay, ctx.linear_indices(lay, (1,), int(attr(op, "start")))))


@register("tt.splat")
def _splat(ctx, op):
    res = op.results[0]
    x = ctx.scalar(op.operands[0])
    enc = ctx.encoding_of(res)
    lay = layout_of(enc, tuple(res.type.shape))
    ctx.set(res, DTensor(enc, lay, [x] * len(lay.regs)))


@register("tt.unsplat")
def _unsplat(ctx, op):
    # A one-element tensor has no thread terms: every invocation holds it, in its one register.
    ctx.set(op.results[0], ctx.tensor(op.operands[0]).regs[0])


@register("tt.map_elementwise")
def _map_elementwise(ctx, op):
    """The body applied to `pack` elements at a time: each operand's `pack` registers, operand after
    operand, in; each result's `pack` registers, result after result, out. An invocation whose
    share is not a multiple of `pack` repeats its last register to fill the last group."""
    pack = int(attr(op, "pack"))
    enc = ctx.encoding_of(op.results[0])
    ins = [ctx.tensor(v, enc).regs for v in op.operands]
    n = len(ins[0])
    outs = [[] for _ in op.results]
    for start in range(0, n, pack):
        group = [min(start + i, n - 1) for i in range(pack)]
        got = ctx.inline_region(op.regions[0], [regs[i] for regs in ins for i in group])
        for r, out in enumerate(outs):
            out.extend(got[r * pack:(r + 1) * pack][:n - start])
    for res, regs in zip(op.results, outs):
        ctx.set(res, ctx.make(res, regs, enc))


@register("tt.map_elementwise.return")
def _map_elementwise_return(ctx, op):
    ctx.error("internal: region terminator lowered outside its region")


@register("tt.broadcast")
def _broadcast(ctx, op):
    res = op.results[0]
    enc = ctx.encoding_of(res)
    src = ctx.tensor(op.operands[0], enc)
    dst = layout_of(enc, tuple(res.type.shape))
    index = src.layout.register_index()
    shape = src.layout.shape
    regs = [src.regs[index[tuple(0 if shape[d] == 1 else r[d] for d in range(len(r)))]] for r in dst.regs]
    ctx.set(res, DTensor(enc, dst, regs))


@register("tt.expand_dims")
def _expand_dims(ctx, op):
    res = op.results[0]
    enc = ctx.encoding_of(res)
    d = int(attr(op, "axis"))
    src = ctx.tensor(op.operands[0], Slice(enc, d))
    # A slice's registers are its parent's over the shape with size 1 at d, in the same order.
    ctx.set(res, DTensor(enc, layout_of(enc, tuple(res.type.shape)), src.regs))


def _through_memory(ctx, op, sources, dests):
    rtype = ctx.stype(op.results[0].type)
    elements = sum(numel(tuple(v.type.shape)) for v in op.results)
    return ctx.exchange(sources, dests, rtype, elements)


@register("tt.reshape")
def _reshape(ctx, op):
    x, res = op.operands[0], op.results[0]
    src = ctx.tensor(x)
    shape = tuple(res.type.shape)
    enc = ctx.encoding_of(res)
    out, = _through_memory(ctx, op, [(src, row_major(tuple(x.type.shape)), 0)],
                           [(enc, shape, row_major(shape), 0)])
    ctx.set(res, out)


@register("tt.trans")
def _trans(ctx, op):
    x, res = op.operands[0], op.results[0]
    order = [int(o) for o in attr(op, "order")]
    shape = tuple(res.type.shape)
    dst_strides = row_major(shape)
    src_strides = [0] * len(order)
    for e, d in enumerate(order):
        src_strides[d] = dst_strides[e]
    out, = _through_memory(ctx, op, [(ctx.tensor(x), tuple(src_strides), 0)],
                           [(ctx.encoding_of(res), shape, dst_strides, 0)])
    ctx.set(res, out)


@register("tt.join")
def _join(ctx, op):
    a, b = op.operands
    res = op.results[0]
    shape = tuple(res.type.shape)
    strides = row_major(shape)
    src_strides = strides[:-1]
    out, = _through_memory(ctx, op, [(ctx.tensor(a), src_strides, 0), (ctx.tensor(b), src_strides, 1)],
                           [(ctx.encoding_of(res), shape, strides, 0)])
    ctx.set(res, out)


@register("tt.split")
def _split(ctx, op):
    x = op.operands[0]
    shape = tuple(x.type.shape)
    strides = row_major(shape)
    outs = _through_memory(ctx, op, [(ctx.tensor(x), strides, 0)],
                           [(ctx.encoding_of(r), shape[:-1], strides[:-1], i) for i, r in enumerate(op.results)])
    for r, t in zip(op.results, outs):
        ctx.set(r, t)


@register("tt.cat")
def _cat(ctx, op):
    a, b = op.operands
    res = op.results[0]
    shape = tuple(res.type.shape)
    strides = row_major(shape)
    out, = _through_memory(ctx, op, [(ctx.tensor(a), strides, 0),
                                     (ctx.tensor(b), strides, numel(tuple(a.type.shape)))],
                           [(ctx.encoding_of(res), shape, strides, 0)])
    ctx.set(res, out)


@register("tt.gather")
def _gather(ctx, op):
    """out[..., i, ...] = src[..., index[..., i, ...], ...] along `axis`: src goes to workgroup
    memory, each result register reads the element its index names. An index outside the axis
    reads its last element (Triton leaves it undefined; memory outside the tile is never read)."""
    src, index = op.operands
    res = op.results[0]
    axis = int(attr(op, "axis"))
    src_shape, shape = tuple(src.type.shape), tuple(res.type.shape)
    rtype = ctx.stype(res.type)
    elements = numel(src_shape)
    enc = ctx.encoding_of(res)
    lay = layout_of(enc, shape)
    indices = ctx.tensor(index, enc).regs   # before src fills workgroup memory: this may go through it
    ctx.exchange([(ctx.tensor(src), row_major(src_shape), 0)], [], rtype, elements)
    strides = list(row_major(src_shape))
    axis_stride, strides[axis] = strides[axis], 0
    bits = ctx.m.type_info(ctx.stype(index.type)).width
    last = ctx.u32(src_shape[axis] - 1)
    regs = []
    for base, i in zip(ctx.linear_indices(lay, strides), indices):
        if bits != 32:
            i = ctx.emit(Op.UConvert if bits > 32 else Op.SConvert, ctx.t_u32, i)
        i = ctx.emit(Op.Select, ctx.t_u32, ctx.emit(Op.ULessThan, ctx.t_bool, i, last), i, last)
        if axis_stride != 1:
            i = ctx.emit(Op.IMul, ctx.t_u32, i, ctx.u32(axis_stride))
        regs.append(ctx.scratch_load(rtype, ctx.emit(Op.IAdd, ctx.t_u32, base, i), elements))
    ctx.set(res, DTensor(enc, lay, regs))
