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

    __slots__ = ("_values", "_address", "_buffers", "_imports", "_read_only", "_groups")

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
        from jitspv.frontend.runtime import upload_bytes
        found = []   # (object, first element address, dtype, writable, lo, hi)
        self._address = {}
        self._buffers = []      # (host bytes, device array, writable): the copies
        self._imports = []      # HostImport: the buffers used in place
        self._read_only = set() # id() of the arrays in buffers that are not written back
        self._groups = []       # [lo, hi, writable, members]: the host buffers, by host address
        for v in self._values:
            if isinstance(v, TensorWrapper):
                v = v.base
            if is_host_array(v) and id(v) not in self._address and not any(f[0] is v for f in found):
                try:
                    found.append((v, *_describe(v)))
                except (TypeError, ValueError, BufferError, RuntimeError) as e:
                    self._address[id(v)] = e
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
        self._groups = groups
        for lo, hi, writable, members in groups:
            base = self._in_place(lo, hi, members)
            if base is None:
                host = _host_bytes(lo, hi)
                device = upload_bytes(host, lo % 16)
                self._buffers.append((host, device, writable))
                base = device.data_ptr()
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

    def refuse_host_pointers(self, table_params, names, kernel_name):
        """Raises ValueError when a host array whose contents the kernel dereferences as pointers
        holds a value that is no address of jitspv's device memory (a host tensor's data_ptr()):
        the device cannot read host addresses, the kernel would read garbage or fault."""
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
            inside = (at >= 0) & (addresses < live[at, 0] + live[at, 1])
            bad = np.flatnonzero(~inside & (addresses != 0))
            if bad.size:
                k, address = int(bad[0]), int(addresses[bad[0]])
                into = [names[j] for j, w in enumerate(self._values) for lo, hi, _, members in self._groups
                        if lo <= address < hi and any(m[0] is (w.base if isinstance(w, TensorWrapper) else w)
                                                     for m in members)]
                where = (f"an address in host array argument {into[0]!r}, whose device address for this launch "
                         f"is elsewhere" if into else "which lies in no device memory of jitspv: a host array's "
                         "address (a torch CPU tensor's data_ptr()?)")
                raise ValueError(
                    f"{kernel_name}(): argument {names[i]!r} holds pointers the kernel loads and dereferences, "
                    f"and its element {k} is {address:#x}, {where}. The device cannot use host addresses: "
                    f"put the data in jitspv arrays (jitspv.asarray) and their data_ptr() in the table")

    def download(self):
        """Copy every writable buffer back to the host and let the imports go (waits for the device)."""
        from jitspv.frontend.runtime import download_bytes, synchronize
        for host, device, writable in self._buffers:
            if writable:
                download_bytes(device, host)
        if self._imports:
            synchronize()
            for imported in self._imports:
                imported.release()
            self._imports.clear()


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
