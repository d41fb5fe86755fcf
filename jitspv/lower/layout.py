"""Distributed-tensor layouts: which invocation holds which tensor elements, in which registers.

A program's tensor is spread over the workgroup's W invocations. As in TritonGPU, an *encoding*
(blocked, or a slice of another encoding along one dimension) applied to a static shape gives a
`Layout`: the coordinate of register k of invocation `tid` along dimension d is

    sum(((tid // term.stride) % term.count) * term.scale for term in terms[d]) + regs[k][d]

`tid` is the invocation's index in *subgroup order* (SubgroupId * SubgroupSize + lane), so the low
bits of tid are subgroup lanes and reductions can use subgroup shuffles. When an encoding's tile is
bigger than the shape, several invocations hold the same element (replicas): they compute the same
values, and side effects are predicated to one of them.

Two layouts whose `terms` are equal place equal coordinates in the same invocation, so converting
between them, or broadcasting a size-1 dimension, is a register renaming; anything else goes
through workgroup memory (see jitspv/lower/rules).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import product


@dataclass(frozen=True)
class ThreadTerm:
    stride: int
    count: int
    scale: int


@dataclass(frozen=True)
class Layout:
    shape: tuple
    terms: tuple          # per dimension, a tuple of ThreadTerm
    regs: tuple           # per register, a tuple of static offsets (one per dimension)
    num_threads: int      # W: invocations in the workgroup
    replica_mask: int     # tid bits no term reads: invocations differing only there hold the same data

    @property
    def rank(self):
        return len(self.shape)

    def register_index(self):
        """Map static offsets -> register number."""
        return {r: k for k, r in enumerate(self.regs)}


@dataclass(frozen=True)
class Blocked:
    """Each invocation holds `size_per_thread` contiguous elements per dimension, repeated."""

    size_per_thread: tuple
    threads: tuple        # invocations along each dimension (product <= num_threads)
    order: tuple          # dimensions, fastest-varying first
    num_threads: int

    @property
    def rank(self):
        return len(self.order)


@dataclass(frozen=True)
class Slice:
    """`parent` with dimension `dim` removed: the layout of a reduction along `dim`."""

    parent: object
    dim: int

    @property
    def rank(self):
        return self.parent.rank - 1

    @property
    def num_threads(self):
        return self.parent.num_threads


def default_blocked(shape, elem_bytes: int, num_threads: int) -> Blocked:
    """The encoding chosen for a tensor of `shape`: 16 bytes contiguous per invocation along the
    last dimension (one vector load), invocations spread fastest along the last dimension."""
    rank = len(shape)
    order = tuple(reversed(range(rank)))
    spt = [1] * rank
    spt[order[0]] = max(1, min(shape[order[0]], 16 // max(1, elem_bytes)))
    threads = [1] * rank
    left = num_threads
    for d in order:
        t = min(left, max(1, shape[d] // spt[d]))
        threads[d] = t
        left //= t
    # Threads not needed by the shape go to the slowest dimension (replicas if it is too small).
    return Blocked(tuple(spt), tuple(threads), order, num_threads)


def dot_encoding(shape, elem_bytes: int, num_threads: int, wide: bool = False) -> Blocked:
    """The encoding of a tt.dot result (jitspv.lower.rules.dot): each invocation holds a register
    tile of C made of v x v chunks (v = 16 // elem_bytes, one 16-byte workgroup-memory read per
    chunk row/column), chunks repeated at a stride of the whole thread grid, as in SGEMM. Threads
    split M and N (N first, lanes fastest along N), keeping each invocation's tile near square; or,
    `wide`, along N as far as it goes (the thread grid spans the fewest rows)."""
    m, n = shape[-2], shape[-1]
    v = max(1, 16 // elem_bytes)
    sm, sn = min(v, m), min(v, n)
    tm = tn = 1
    while tm * tn < num_threads:
        rm, rn = m // (sm * tm), n // (sn * tn)   # chunks per invocation left along M, N
        if (rn >= rm or wide) and rn > 1:
            tn *= 2
        elif rm > 1:
            tm *= 2
        else:
            break   # tile smaller than the workgroup: the other invocations are replicas
    batch = len(shape) - 2
    return Blocked((1,) * batch + (sm, sn), (1,) * batch + (tm, tn),
                   tuple(reversed(range(len(shape)))), num_threads)


def row_encoding(shape, num_threads: int):
    """An encoding for a 2-D tile whose rows are reduced (attention's q @ k^T, read by the online
    softmax's row max and sum): each row held by the fewest invocations, num_threads // m of them
    (one where m >= num_threads), so a row reduction takes log2 of that many shuffles, not those of
    dot_encoding's square tiles. Their chunks of a row interleave, 32 // across elements each (at
    least 4): the 8 invocations one 16-byte read of f32 serves at once (rows 4 banks apart in the
    16-byte-padded staging) then hit distinct banks. None where the tile has fewer elements than
    invocations."""
    m, n = shape
    across = max(1, num_threads // m)          # invocations per row
    if across > n:
        return None
    return Blocked((1, min(n // across, max(4, 32 // across))), (num_threads // across, across), (1, 0), num_threads)


def layout_of(encoding, shape) -> Layout:
    return _layout_of(encoding, tuple(int(s) for s in shape))


@lru_cache(maxsize=None)
def _layout_of(encoding, shape) -> Layout:
    if isinstance(encoding, Slice):
        full = list(shape)
        full.insert(encoding.dim, 1)
        parent = _layout_of(encoding.parent, tuple(full))
        d = encoding.dim
        terms = parent.terms[:d] + parent.terms[d + 1:]
        regs = tuple(r[:d] + r[d + 1:] for r in parent.regs)
        return Layout(shape, terms, regs, parent.num_threads, _replica_mask(terms, parent.num_threads))
    assert isinstance(encoding, Blocked) and len(shape) == encoding.rank, (encoding, shape)
    rank = len(shape)
    strides = [0] * rank
    stride = 1
    for d in encoding.order:
        strides[d] = stride
        stride *= encoding.threads[d]
    terms, offsets = [], []
    for d in range(rank):
        spt = min(encoding.size_per_thread[d], shape[d])
        count = min(encoding.threads[d], max(1, shape[d] // spt))
        tile = spt * count
        terms.append((ThreadTerm(strides[d], count, spt),) if count > 1 else ())
        offsets.append([rep * tile + w for rep in range(max(1, shape[d] // tile)) for w in range(spt)])
    # Registers enumerate the fastest dimension innermost, so a thread's contiguous run along it
    # occupies consecutive registers (one vector access).
    slow_to_fast = list(reversed(encoding.order))
    regs = []
    for combo in product(*(offsets[d] for d in slow_to_fast)):
        r = [0] * rank
        for d, v in zip(slow_to_fast, combo):
            r[d] = v
        regs.append(tuple(r))
    return Layout(shape, tuple(terms), tuple(regs), encoding.num_threads,
                  _replica_mask(terms, encoding.num_threads))


def _replica_mask(terms, num_threads):
    used = 0
    for dim_terms in terms:
        for t in dim_terms:
            used |= (t.stride * t.count - 1) & ~(t.stride - 1)
    return (num_threads - 1) & ~used


def expand_encoding(encoding, dim):
    """Encoding of `expand_dims(x, dim)` for x in `encoding`."""
    if isinstance(encoding, Slice) and encoding.dim == dim:
        return encoding.parent
    rank = encoding.rank + 1
    if isinstance(encoding, Blocked):
        spt = list(encoding.size_per_thread)
        thr = list(encoding.threads)
        spt.insert(dim, 1)
        thr.insert(dim, 1)
        order = tuple(o + (o >= dim) for o in encoding.order) + (dim,)
        return Blocked(tuple(spt), tuple(thr), order, encoding.num_threads)
    # Slice of something along another dim: expand the parent, re-slice.
    pdim = encoding.dim + (encoding.dim >= dim)
    return Slice(expand_encoding(encoding.parent, dim if dim <= encoding.dim else dim + 1), pdim) \
        if rank else encoding


def same_distribution(a: Layout, b: Layout) -> bool:
    """True when every element b holds in an invocation is held by a in the same invocation, so a
    value in layout a becomes one in layout b by renaming registers (a's size-1 dimensions broadcast)."""
    if a.rank != b.rank:
        return False
    for d in range(a.rank):
        if a.shape[d] == 1:
            continue  # broadcast: every b coordinate maps to a's coordinate 0
        if a.terms[d] != b.terms[d]:
            return False
    index = a.register_index()
    for r in b.regs:
        if tuple(0 if a.shape[d] == 1 else r[d] for d in range(a.rank)) not in index:
            return False
    return True


def part_groups(layout, strides, base, size):
    """The registers (indices) of `layout` grouped by the parts, of `size` consecutive indices each,
    that may hold their index base + sum(coord * strides) plus the invocation's part of it: key
    (first, last, None) where part `first` == `last` holds them in every invocation, (first, last,
    k_base) where the invocation's part decides (DataMovement.part_of: the part of k_base plus the
    invocation's part; one of first..last). The invocation's parts are multiples of q, so a
    register's part depends on its static index only through index // q."""
    terms = [(t, s) for d, s in enumerate(strides) for t in layout.terms[d] if s]
    span = sum((t.count - 1) * t.scale * s for t, s in terms)   # the largest invocation's part
    q = math.gcd(size, *(t.scale * s for t, s in terms))
    groups = {}
    for i, r in enumerate(layout.regs):
        index = base + sum(o * s for o, s in zip(r, strides))
        k_base = index - index % q
        first, last = k_base // size, (k_base + span) // size
        groups.setdefault((first, last, k_base if first != last else None), []).append(i)
    return groups
