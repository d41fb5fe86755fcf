"""Host arrays as kernel arguments: the convenient, slower path.

numpy arrays and objects exposing `__array_interface__` or `__dlpack__` (PyTorch CPU tensors)
are used in place where the device can import host memory into device-local memory
(VK_EXT_external_memory_host: lavapipe, integrated GPUs), and elsewhere copied to the device before
a launch and back after it. Triton kernels index the storage a pointer points into with their own
arithmetic (strided views, transposes, offsets into the middle of a buffer), so what is imported or
copied is the whole underlying host buffer, once, and the pointer passed is its device address plus
the view's byte offset. Arguments whose buffers overlap share one import or device buffer, so
aliasing (and writes through either) behaves as on the host. Either way a launch with host arrays
returns when its results are in them: one synchronization per launch.

PyTorch CPU tensors are read through their raw storage (`data_ptr`, `untyped_storage`), not
through DLPack: numpy's DLPack rejects bf16 and tensors that require grad. A device copy keeps
the host address's offset modulo 16, since Triton specializes on the host pointer's alignment.
"""
from __future__ import annotations

import ctypes
import gc
import sys
import weakref

import numpy as np
from numpy.lib.array_utils import byte_bounds
from triton.runtime.jit import TensorWrapper


def is_host_array(v) -> bool:
    # Classes (np.float32 itself) carry these attributes as descriptors; only instances are arrays.
    return isinstance(v, np.ndarray) or (not isinstance(v, type) and (
        hasattr(v, "__array_interface__") or hasattr(v, "__dlpack__")))


def _as_numpy(v) -> tuple[np.ndarray, bool]:
    """A numpy view of `v` and whether results may be written back into it."""
    if isinstance(v, np.ndarray) or hasattr(v, "__array_interface__"):
        view = v if isinstance(v, np.ndarray) else np.asarray(v)
        if not view.dtype.isnative:
            # The device reads native (little-endian) elements: these would be silently wrong.
            raise TypeError(f"its elements are not in native byte order (dtype {view.dtype.str}); "
                            f"convert it with .astype(a.dtype.newbyteorder('='))")
        return view, view.flags.writeable
    _require_cpu(v)
    # DLPack exports of CPU tensors are writable memory even where numpy marks the view read-only.
    return np.from_dlpack(v), True


def _require_cpu(v):
    if getattr(v, "device", None) is not None and getattr(v.device, "type", "cpu") != "cpu":
        raise TypeError(f"a tensor on device {v.device.type} cannot be used; move it to the CPU or use jitspv arrays")


def _storage_extent(view: np.ndarray) -> tuple[int, int]:
    """[lo, hi) host addresses of the whole buffer `view` lives in."""
    root = view
    while isinstance(root.base, np.ndarray):
        root = root.base
    lo, hi = byte_bounds(root)
    vlo, vhi = byte_bounds(view)
    return min(lo, vlo), max(hi, vhi)


def _is_torch_tensor(v) -> bool:
    return type(v).__module__.startswith("torch") and callable(getattr(v, "untyped_storage", None))


def _describe(v) -> tuple:
    """(address of the first element, dtype, writable, lo, hi) of host array `v`, [lo, hi) the
    host addresses of its whole underlying buffer."""
    if _is_torch_tensor(v):
        _require_cpu(v)
        storage = v.untyped_storage()   # a view's storage is wider than the view
        return v.data_ptr(), v.dtype, True, storage.data_ptr(), storage.data_ptr() + storage.nbytes()
    view, writable = _as_numpy(v)
    return (view.__array_interface__["data"][0], view.dtype, writable, *_storage_extent(view))


class HostTransfers:
    """Device copies of the host arrays among one launch's arguments.

    Created for every launch but only does work when `address` is first asked for: then all
    host arrays among the arguments are found (overlapping buffers must be merged before any
    address is handed out) and copied to the device.
    """

    __slots__ = ("_values", "_address", "_buffers", "_imports", "_read_only", "_groups", "_tables")

    def __init__(self, values):
        # Made at every launch: the rest is set up only when a host array is found (_upload).
        self._values = values
        self._address = None    # id(host array) -> (device address, dtype) or the exception it raised

    @property
    def active(self) -> bool:
        return self._address is not None and bool(self._buffers or self._imports)

    def address(self, v):
        """(device address of the view's first element, element dtype) of host array `v`."""
        if self._address is None:
            self._upload()
        found = self._address[id(v)]
        if isinstance(found, Exception):
            raise found
        return found

    def _upload(self):
        found = []   # (object, first element address, dtype, writable, lo, hi)
        self._address = {}
        self._buffers = []      # (host bytes, device array, writable): the copies
        self._imports = []      # HostImport: the buffers used in place
        self._read_only = set() # id() of the arrays in buffers that are not written back
        self._groups = []       # (lo, hi, device address of lo, members): the host buffers
        self._tables = []       # (name, translated host bytes, device copy): translated pointer tables
        for v in self._values:
            if isinstance(v, TensorWrapper):
                v = v.base
            if is_host_array(v) and id(v) not in self._address and not any(f[0] is v for f in found):
                try:
                    found.append((v, *_describe(v)))
                except (TypeError, ValueError, BufferError, RuntimeError) as e:
                    self._address[id(v)] = e
        self._add_groups(found)

    def _add_groups(self, found):
        """Copy or import the host buffers of `found` ((object, first element address, dtype,
        writable, lo, hi) each), overlapping ones as one, and give each object its device address."""
        from jitspv.frontend.runtime import upload_bytes
        found.sort(key=lambda f: f[4])
        groups = []   # [lo, hi, writable, members]
        for f in found:
            if groups and f[4] < groups[-1][1]:
                g = groups[-1]
                g[1] = max(g[1], f[5])
                g[2] = g[2] and f[3]
                g[3].append(f)
            else:
                groups.append([f[4], f[5], f[3], [f]])
        for lo, hi, writable, members in groups:
            base = self._in_place(lo, hi, members)
            if base is None:
                host = _host_bytes(lo, hi)
                device = upload_bytes(host, lo % 16)
                self._buffers.append((host, device, writable))
                base = device.data_ptr()
            self._groups.append((lo, hi, base, members))
            for v, address, dtype, _, _, _ in members:
                self._address[id(v)] = (base + address - lo, dtype)
                if not writable:
                    self._read_only.add(id(v))

    def _in_place(self, lo, hi, members):
        """Device address of host byte lo with [lo, hi) imported in place, or None (then copied).
        The address must keep lo's offset modulo 16: Triton specializes on the host pointer's alignment."""
        if hi <= lo:
            return None
        from jitspv.frontend.runtime import import_host
        imported = import_host(lo, hi, [m[0] for m in members])
        if imported is not None and imported.address % 16 != lo % 16:
            imported.release()
            imported = None
        if imported is None:
            return None
        self._imports.append(imported)
        return imported.address

    def refuse_read_only(self, stored_params, plan):
        """Raises ValueError when the kernel may store through an argument whose buffer is not
        written back (a read-only array, or one sharing its buffer with one): its results would be lost."""
        for i in stored_params:
            v = self._values[i]
            if id(v.base if isinstance(v, TensorWrapper) else v) in self._read_only:
                raise ValueError(f"{plan.name}(): argument {plan.names[i]!r} is a read-only array (or shares its "
                                 f"buffer with one), and the kernel stores through it: the results would be lost; "
                                 f"pass a writable array (a copy: np.array(...))")

    def translate_pointer_tables(self, table_params, launch, names, kernel_name):
        """Host arrays the kernel loads pointers from (`table_params`, indices into the launch's
        values) that hold host addresses (tutorial 08: an int64 tensor of torch CPU tensors'
        data_ptr()) are read by the device as translated copies: each host address becomes the
        device address of the same byte, in the buffer of the argument it points into, else of the
        live torch CPU tensor it points into (then copied or imported like an argument, and written
        back after the launch). launch[i] becomes the copy's address. A value that is neither 0,
        jitspv device memory nor such a host address raises ValueError, nothing launched."""
        from jitspv.frontend.runtime import upload_bytes
        from jitspv.vk.device import get_device
        live = None
        for i in table_params:
            v = self._values[i]
            v = v.base if isinstance(v, TensorWrapper) else v
            table = _integers64(v) if id(v) in self._address else None   # host arrays only
            if table is None or not table.size:
                continue
            if live is None:
                live = np.array(get_device().memory.live_ranges(), np.uint64).reshape(-1, 2)
            addresses = table.reshape(-1).view(np.uint64)
            at = np.searchsorted(live[:, 0], addresses, side="right") - 1
            host = ~((at >= 0) & (addresses < live[at, 0] + live[at, 1])) & (addresses != 0)
            if not host.any():
                continue
            wanted = np.unique(addresses[host])
            if any(self._group_of(int(a)) is None for a in wanted):
                self._add_holders(wanted)
            translated = addresses.copy()
            for k in np.flatnonzero(host):
                a = int(addresses[k])
                group = self._group_of(a)
                if group is None:
                    raise ValueError(
                        f"{kernel_name}(): argument {names[i]!r} holds pointers the kernel loads and dereferences, "
                        f"and its element {k} is {a:#x}, which lies in no device memory of jitspv nor in any "
                        f"argument or live torch CPU tensor. The device can only follow addresses of jitspv arrays "
                        f"(jitspv.asarray) or of host arrays it can find: pass the data as jitspv arrays and their "
                        f"data_ptr() in the table")
                translated[k] = group[2] + a - group[0]
            # The copy covers the table's whole host buffer (the kernel may index past the view), the
            # view's elements translated: the host table itself is never written.
            first = table.__array_interface__["data"][0]
            lo, hi, _, _ = self._group_of(first)
            host_bytes = _host_bytes(lo, hi).copy()
            np.ndarray(table.shape, np.uint64, host_bytes, first - lo, table.strides)[...] = translated.reshape(table.shape)
            device = upload_bytes(host_bytes, lo % 16)
            self._tables.append((names[i], host_bytes, device))
            launch[i] = device.data_ptr() + first - lo

    def _group_of(self, address):
        """The (lo, hi, device address of lo, members) of the host buffer holding `address`, or None."""
        for group in self._groups:
            if group[0] <= address < group[1]:
                return group
        return None

    def _add_holders(self, addresses):
        """Copy or import the live torch CPU tensors that hold any of `addresses` outside the
        arguments' buffers."""
        found, ranges = [], []
        for t in _torch_tensors_holding(addresses):
            f = (t, *_describe(t))
            if any(self._group_of(a) for a in (f[4], f[5] - 1)):
                continue   # an argument's buffer holds it (and so the address: none left to find there)
            if not any(r == (f[4], f[5]) for r in ranges):
                found.append(f)
                ranges.append((f[4], f[5]))
        self._add_groups(found)

    def download(self):
        """Copy every writable buffer back to the host and let the imports go (waits for the device).
        A translated pointer table the kernel wrote into raises ValueError (after all that): those
        writes went to the copy."""
        from jitspv.frontend.runtime import download_bytes, synchronize
        for host, device, writable in self._buffers:
            if writable:
                download_bytes(device, host)
        if self._imports:
            synchronize()
            for imported in self._imports:
                imported.release()
            self._imports.clear()
        for name, sent, device in self._tables:
            if not np.array_equal(device.numpy()[: sent.size], sent):
                raise ValueError(f"the kernel wrote into argument {name!r}, a pointer table of host addresses that "
                                 f"the device read as a translated copy: those writes are lost. Keep pointer tables "
                                 f"that kernels write in jitspv arrays")


# Host buffers found holding addresses in pointer tables, by their first byte: (weak reference
# to the tensor, end). Repeated launches with the same tables skip the scan of live objects.
_HOLDERS = {}


def _torch_tensors_holding(addresses) -> list:
    """Live torch CPU tensors whose storage holds any of `addresses` (sorted uint64): the ones
    found before where they still do, else a scan of the objects the garbage collector tracks
    (tens of ms with torch loaded; only launches whose pointer tables hold host addresses pay it)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return []
    found, missing = [], []
    holders = list(_HOLDERS.items())   # a snapshot: other threads and weakref callbacks change it
    for a in addresses.tolist():
        hit = next((ref() for lo, (ref, hi) in holders if lo <= a < hi), None)
        r = None if hit is None else _storage_range(hit, torch)
        if r is not None and r[0] <= a < r[1]:
            found.append(hit)
        else:
            missing.append(a)
    if not missing:
        return found
    missing = np.array(missing, np.uint64)
    for obj in gc.get_objects():
        # type(), not isinstance: that would read __class__, which some objects warn about
        r = _storage_range(obj, torch) if issubclass(type(obj), torch.Tensor) else None
        if r is not None:
            k = np.searchsorted(missing, r[0])
            if k < missing.size and missing[k] < r[1]:
                found.append(obj)
                _HOLDERS[r[0]] = (weakref.ref(obj, _forget_holder), r[1])
    return found


def _forget_holder(ref):
    """Weakref callback: a remembered holder died; its entry goes (unless another took its place)."""
    for lo, (held, _) in list(_HOLDERS.items()):
        if held is ref:
            _HOLDERS.pop(lo, None)


def _storage_range(t, torch):
    """[lo, hi) host addresses of torch tensor `t`'s storage, or None (not a dense CPU tensor)."""
    try:
        if t.device.type != "cpu" or t.layout != torch.strided:
            return None
        storage = t.untyped_storage()
        lo = storage.data_ptr()
        return (lo, lo + storage.nbytes()) if lo else None
    except (RuntimeError, TypeError, NotImplementedError, AttributeError):
        return None


def _integers64(v) -> np.ndarray | None:
    """The elements of host array `v` when they are 64-bit integers (what holds pointers), else None."""
    if _is_torch_tensor(v):
        import torch
        return v.detach().numpy() if v.dtype in (torch.int64, torch.uint64) else None
    view, _ = _as_numpy(v)
    return view if view.dtype.kind in "iu" and view.dtype.itemsize == 8 else None


def _host_bytes(lo: int, hi: int) -> np.ndarray:
    """The host memory [lo, hi) as a writable uint8 array (no copy)."""
    if hi <= lo:
        return np.zeros(0, np.uint8)
    return np.ctypeslib.as_array((ctypes.c_uint8 * (hi - lo)).from_address(lo))
