"""`jitspv.Array`: an n-d view (shape, byte strides, offset) of device memory, with numpy semantics.

Views (basic slicing, `.T`, contiguous `reshape`) share their base's allocation, as numpy's do;
`data_ptr()` is the device address of element 0, which is what kernels receive. Host reads see every
launch recorded before them.
"""
from __future__ import annotations

import numpy as np

from jitspv.vk.device import get_device

DTYPES = frozenset(np.dtype(t) for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64))


def _dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in DTYPES:
        raise TypeError(f"jitspv arrays do not support dtype {dt}; supported: {sorted(str(d) for d in DTYPES)}")
    return dt


def _shape(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in shape {shape}")
    return shape


def _c_strides(shape, itemsize) -> tuple:
    strides, step = [], itemsize
    for s in reversed(shape):
        strides.append(step)
        step *= max(s, 1)
    return tuple(reversed(strides))


def _fill_word(value, dt: np.dtype):
    """The 32-bit pattern whose repetition equals `value` in dtype dt, or None if there is none."""
    raw = np.asarray(value, dtype=dt).tobytes()
    pattern = (raw * (4 // len(raw))) if len(raw) < 4 else raw
    if pattern[:4] * (len(pattern) // 4) != pattern:
        return None
    return int.from_bytes(pattern[:4], "little")


class Array:
    """Device array. Create with jitspv.empty/zeros/full/asarray rather than directly."""

    __slots__ = ("_alloc", "_offset", "shape", "dtype", "strides", "device", "__weakref__")

    def __init__(self, alloc, offset, shape, dtype, strides, device):
        self._alloc = alloc      # memory.Allocation, shared by views
        self._offset = offset    # bytes from the allocation start to element 0
        self.shape = shape
        self.dtype = dtype
        self.strides = strides
        self.device = device

    # -- numpy-like attributes -------------------------------------------------------------------

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    @property
    def data(self) -> "Array":
        """The array itself, as torch's `tensor.data`: triton.reinterpret (TensorWrapper) reads it."""
        return self

    def data_ptr(self) -> int:
        """Device address of element 0 (what a kernel's pointer argument receives)."""
        return self._alloc.address + self._offset

    def is_contiguous(self) -> bool:
        return self.size <= 1 or self.strides == _c_strides(self.shape, self.itemsize)

    def _span(self) -> tuple:
        """Byte range [lo, hi) relative to element 0 that the view touches."""
        if self.size == 0:
            return 0, 0
        lo = sum((s - 1) * st for s, st in zip(self.shape, self.strides) if st < 0)
        hi = sum((s - 1) * st for s, st in zip(self.shape, self.strides) if st > 0) + self.itemsize
        return lo, hi

    # -- host transfers --------------------------------------------------------------------------

    def numpy(self) -> np.ndarray:
        """A host copy (waits for every launch recorded before)."""
        lo, hi = self._span()
        host = np.empty(hi - lo, dtype=np.uint8)
        self.device.memory.read(self._alloc, self._offset + lo, host.ctypes.data, hi - lo)
        view = np.ndarray(self.shape, self.dtype, buffer=host, offset=-lo, strides=self.strides)
        return view if self.is_contiguous() and lo == 0 else view.copy()

    def __array__(self, dtype=None, copy=None):
        out = self.numpy()
        return out if dtype is None else out.astype(dtype, copy=False)

    def copy_from(self, src) -> "Array":
        """Writes a host array (or anything numpy accepts) into this array in place; returns self."""
        if isinstance(src, Array):
            return self.copy_(src)
        value = np.broadcast_to(np.asarray(src, dtype=self.dtype), self.shape)
        lo, hi = self._span()
        if self.is_contiguous():
            data = np.ascontiguousarray(value)
            self.device.memory.write(self._alloc, self._offset, data.ctypes.data, self.nbytes)
            return self
        # Strided view: read the touched span, update it on the host, write it back.
        host = np.empty(hi - lo, dtype=np.uint8)
        self.device.memory.read(self._alloc, self._offset + lo, host.ctypes.data, hi - lo)
        np.ndarray(self.shape, self.dtype, buffer=host, offset=-lo, strides=self.strides)[...] = value
        self.device.memory.write(self._alloc, self._offset + lo, host.ctypes.data, hi - lo)
        return self

    def copy_(self, src) -> "Array":
        """In-place copy from another Array (device to device when both are contiguous) or host data."""
        if not isinstance(src, Array):
            return self.copy_from(src)
        if src.shape == self.shape and src.dtype == self.dtype and self.is_contiguous() and src.is_contiguous():
            self.device.stream.copy_buffer(src._alloc.buffer, src._alloc.offset + src._offset,
                                           self._alloc.buffer, self._alloc.offset + self._offset, self.nbytes)
            return self
        return self.copy_from(src.numpy())

    def fill_(self, value, fresh: bool = False) -> "Array":
        """Sets every element to value: vkCmdFillBuffer when the pattern repeats every 4 bytes."""
        word = _fill_word(value, self.dtype)
        if word is not None and self.is_contiguous() and self.size:
            start = self._alloc.offset + self._offset
            # A fresh array owns its whole (256-byte padded) allocation, so rounding up to 4 bytes is safe.
            if start % 4 == 0 and (self.nbytes % 4 == 0 or fresh):
                self.device.stream.fill_buffer(self._alloc.buffer, start, (self.nbytes + 3) & ~3, word)
                return self
        if fresh:
            host = np.full(self.shape, value, self.dtype)
            self.device.memory.write(self._alloc, self._offset, host.ctypes.data, host.nbytes, fresh=True)
            return self
        return self.copy_from(np.full(self.shape, value, self.dtype))

    # -- views -----------------------------------------------------------------------------------

    def _view(self, offset, shape, strides, dtype=None) -> "Array":
        return Array(self._alloc, offset, tuple(shape), dtype or self.dtype, tuple(strides), self.device)

    def __getitem__(self, key) -> "Array":
        keys = key if isinstance(key, tuple) else (key,)
        for k in keys:
            if not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer))):
                raise TypeError(f"jitspv arrays support basic indexing only (ints, slices, ..., None), got {k!r}")
        # Let numpy do the index arithmetic on a fake array with our strides (never dereferenced).
        probe = np.lib.stride_tricks.as_strided(np.zeros(1, self.dtype), self.shape, self.strides)
        base = probe.__array_interface__["data"][0]
        view = probe[key]
        moved = view.__array_interface__["data"][0] - base
        return self._view(self._offset + moved, view.shape, view.strides)

    @property
    def T(self) -> "Array":
        return self._view(self._offset, self.shape[::-1], self.strides[::-1])

    def reshape(self, *shape) -> "Array":
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = tuple(shape[0])
        new_shape = np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), (self.size,), (0,)).reshape(shape).shape
        if self.is_contiguous():
            return self._view(self._offset, new_shape, _c_strides(new_shape, self.itemsize))
        return asarray(self.numpy().reshape(new_shape))  # numpy copies here too

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="Array(")
        return f"Array({body}, dtype={self.dtype})"


# -- constructors --------------------------------------------------------------------------------


def empty(shape, dtype=np.float32, device=None) -> Array:
    dt = _dtype(dtype)
    shape = _shape(shape)
    device = device or get_device()
    size = 1
    for s in shape:
        size *= s
    alloc = device.memory.allocate(size * dt.itemsize)
    return Array(alloc, 0, shape, dt, _c_strides(shape, dt.itemsize), device)


def full(shape, fill_value, dtype=np.float32, device=None) -> Array:
    out = empty(shape, dtype, device)
    out.fill_(fill_value, fresh=True)
    return out


def zeros(shape, dtype=np.float32, device=None) -> Array:
    return full(shape, 0, dtype, device)


def empty_like(a, dtype=None) -> Array:
    return empty(a.shape, dtype or a.dtype, getattr(a, "device", None) if isinstance(a, Array) else None)


def zeros_like(a, dtype=None) -> Array:
    return full_like(a, 0, dtype)


def full_like(a, fill_value, dtype=None) -> Array:
    return full(a.shape, fill_value, dtype or a.dtype, a.device if isinstance(a, Array) else None)


def asarray(a, dtype=None, device=None) -> Array:
    """A device array holding `a` (an ndarray, anything numpy accepts, or an Array: returned as is
    when dtype matches)."""
    if isinstance(a, Array):
        if dtype is None or np.dtype(dtype) == a.dtype:
            return a
        return asarray(a.numpy().astype(dtype))
    host = np.ascontiguousarray(np.asarray(a, dtype=dtype))
    out = empty(host.shape, host.dtype, device)
    out.device.memory.write(out._alloc, 0, host.ctypes.data, host.nbytes, fresh=True)
    return out
