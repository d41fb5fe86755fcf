"""The runtime half of jitspv's Triton backend: the active driver Triton launches through.

Devices: one, index 0, the Vulkan device jitspv chose (`JITSPV_DEVICE`); torch's device is the
CPU, whose tensors are host arrays (copied to the device and back around each launch, as
`jitspv.jit` does with them). Launches go through jitspv's CompiledKernel and Vulkan stream.
Imported by every `import triton`: module level imports Triton's DriverBase only.
"""
from __future__ import annotations

import functools
import os
import re
import time

from triton.backends.compiler import GPUTarget
from triton.backends.driver import DriverBase

try:   # once, not per launch
    from triton.backends.driver import decompose_descriptor
except ImportError:   # Triton before 3.9: its descriptor-to-pointer argument order is not ours
    decompose_descriptor = None

from jitspv.triton_backend import BACKEND_NAME, chosen, target_arch

# Vulkan reports neither a register file size nor a kernel's register use; Triton programs (the
# fused-softmax tutorial) divide one by the other to size a persistent grid. These nominal values
# say "no register limit below the workgroup size" and are documented in the README.
NOMINAL_REGISTERS_PER_PROCESSOR = 65536
NOMINAL_REGISTERS_PER_THREAD = 32

_CPP_TYPES = {"i1": "int8_t", "i8": "int8_t", "i16": "int16_t", "i32": "int32_t", "i64": "int64_t",
              "u1": "uint8_t", "u8": "uint8_t", "u16": "uint16_t", "u32": "uint32_t", "u64": "uint64_t",
              "fp16": "double", "bf16": "double", "fp32": "double", "fp64": "double"}


def _device():
    from jitspv.vk.device import get_device
    return get_device()


class _Binary:
    """What `load_binary` hands Triton as module and function: the SPIR-V, named."""

    def __init__(self, name: str, spirv: bytes):
        self.name = name
        self.spirv = spirv


class JitspvUtils:
    @functools.cache
    def get_device_properties(self, device=None) -> dict:
        props = _device().properties
        return {
            "max_shared_mem": props.max_compute_shared_memory_size,
            "multiprocessor_count": props.processor_count,
            "max_num_regs": NOMINAL_REGISTERS_PER_PROCESSOR,
            "warpSize": 32,
            "max_threads_per_block": props.max_compute_workgroup_invocations,
            # Unknown to Vulkan: 0 (triton.testing's peak-bandwidth helpers then report 0).
            "sm_clock_rate": 0, "mem_clock_rate": 0, "mem_bus_width": 0,
        }

    def load_binary(self, name, kernel, shared, device):
        """(module, function, n_regs, n_spills, n_max_threads), as Triton's loader expects."""
        binary = _Binary(name, kernel)
        n_max_threads = _device().properties.max_compute_workgroup_invocations
        return binary, binary, NOMINAL_REGISTERS_PER_THREAD, 0, n_max_threads

    def unload_module(self, module):
        pass   # the pipeline goes with the launcher that holds it


def _descriptor_rank(ty: str) -> tuple[str, int]:
    """(element type, tensor rank) of a Triton host descriptor type, `tensordesc<fp32[16, 32]>`
    (im2col ones add `,input_rank=4`)."""
    found = re.match(r"tensordesc(?:_im2col)?<(\w+)\[([^\]]*)\](?:,input_rank=(\d+))?", ty)
    if found is None:
        raise NotImplementedError(f"jitspv's Triton backend does not know the tensor descriptor type {ty}")
    return found[1], int(found[3] or found[2].count(",") + 1)


def _flatten_parameter(name: str, ty, out: list) -> None:
    """Appends (name, type) for each value parameter `name` is in the TTIR function: a tuple's
    elements in order, a host tensor descriptor as Triton's descriptor-to-pointer rewrite passes it
    (triton.backends.driver.decompose_descriptor: base, shape, strides, padding is NaN, round to
    tf32, then shape and strides again)."""
    if isinstance(ty, tuple):
        for i, element in enumerate(ty):
            _flatten_parameter(f"{name}.{i}", element, out)
    elif ty.startswith("tensordesc"):
        dtype, rank = _descriptor_rank(ty)
        dims = range(rank)
        out.append((name, "*" + dtype))
        out.extend([(f"{name}.shape.{d}", "i64") for d in dims] + [(f"{name}.stride.{d}", "i64") for d in dims])
        out.extend([(f"{name}.padding", "i1"), (f"{name}.roundF32ToTF32", "i1")])
        out.extend([(f"{name}.shape.{d}.again", "i32") for d in dims] + [(f"{name}.stride.{d}.again", "i64") for d in dims])
    else:
        out.append((name, ty))


def _flatten_arguments(signature: tuple, args) -> list:
    """The launch values in `_flatten_parameter`'s order."""
    flat = []

    def visit(ty, value):
        if isinstance(ty, tuple):
            for element_ty, element in zip(ty, value, strict=True):
                visit(element_ty, element)
        elif ty.startswith("tensordesc"):
            if decompose_descriptor is None:
                import triton
                raise TypeError(f"host TensorDescriptor arguments need Triton 3.9 or newer with jitspv's backend "
                                f"(this is Triton {triton.__version__}); pass the tensor and its strides instead")
            flat.extend(decompose_descriptor(value))
        else:
            flat.append(value)
    for ty, value in zip(signature, args, strict=True):
        visit(ty, value)
    return flat


class JitspvLauncher:
    """Called by Triton for every launch, with every parameter's value in order (constexprs too)."""

    def __init__(self, src, metadata):
        flat = []
        for name, ty in src.signature.items():
            _flatten_parameter(name, ty, flat)
        types = [ty for _, ty in flat]
        self.names = tuple(name for name, _ in flat)
        self.signature = dict(flat)   # flat parameter name -> Triton type, for jitspv's CompiledKernel
        self.kept = tuple(i for i, ty in enumerate(types) if ty != "constexpr")
        self.arrays = tuple(i for i in self.kept if types[i].startswith("*"))
        # Tuples and tensor descriptors are flattened at each launch, as Triton's own launchers do;
        # None when every parameter is one value already (no per-launch cost then).
        nested = len(flat) != len(src.signature)
        self._nested_signature = tuple(src.signature.values()) if nested else None
        self.metadata = metadata
        self.kernel = None   # jitspv's CompiledKernel, made at the first launch
        # Bound once here (Triton is initialized by now), not looked up on every launch.
        from triton.runtime.jit import TensorWrapper
        from jitspv.frontend.binding import array_address
        from jitspv.frontend.host_arrays import HostTransfers
        from jitspv.frontend.jit import grid3
        self._wrapper, self._array_address, self._transfers, self._grid3 = (
            TensorWrapper, array_address, HostTransfers, grid3)

    def _load(self, binary: _Binary):
        from jitspv.frontend import runtime as rt
        from jitspv.frontend.compiled import CompiledKernel
        from jitspv.lower.kernel import LoweredKernel
        lowered = LoweredKernel.from_json(self.metadata.jitspv_kernel, binary.spirv)
        self.kernel = CompiledKernel(binary.name, lowered, "", self.kept, rt.make_pipeline(lowered),
                                     key=self.metadata.hash, timings={}, from_disk=False, signature=self.signature)
        return self.kernel

    def __call__(self, gridX, gridY, gridZ, stream, function, packed_metadata, launch_metadata,
                 enter_hook, exit_hook, *args):
        kernel = self.kernel or self._load(function)
        if self._nested_signature is not None:
            args = _flatten_arguments(self._nested_signature, args)
        values = list(args)
        transfers = self._transfers(args)
        for i in self.arrays:
            v = args[i]
            values[i] = self._array_address(self.names[i], v.base if isinstance(v, self._wrapper) else v, transfers)[0]
        for i in self.kept:
            if type(values[i]) is bool:
                values[i] = int(values[i])
        if transfers.active and kernel.table_params:
            transfers.translate_pointer_tables(kernel.table_params, values, self.names, kernel.name)
        grid = self._grid3((gridX, gridY, gridZ), kernel)
        if enter_hook is not None:
            enter_hook(launch_metadata)
        if grid[0] and grid[1] and grid[2]:
            kernel.launch(grid, values)
        if transfers.active:
            transfers.download()
        if exit_hook is not None:
            exit_hook(launch_metadata)


@functools.cache
def _device_interface():
    """What triton.testing asks of `torch.cuda`: synchronize and timing events (Vulkan timestamps)."""
    from jitspv.vk import Event, get_device, synchronize

    class TimingEvent(Event):
        """A Vulkan timestamp and the host's clock: torch's device here is the CPU, so the torch
        ops that programs time next to kernels run on the host, where device timestamps do not see
        them (and launches with host tensors wait for their results). Between two events with no
        device work recorded in between the time is the host's; otherwise the longer of the two:
        device time for queued kernels, wall time for what the host waited for."""

        def __init__(self, enable_timing=True, blocking=False, interprocess=False):
            super().__init__(get_device())
            self.host_seconds = self.position = None

        def record(self, stream=None):
            super().record()
            self.host_seconds = time.perf_counter()
            queue = self.device.stream
            self.position = (queue.pending_serial, queue.count)   # this timestamp's place in the queue

        def elapsed_time(self, end):
            host_ms = (end.host_seconds - self.host_seconds) * 1e3
            if end.position == (self.position[0], self.position[1] + 1):   # nothing recorded between
                return host_ms
            return max(super().elapsed_time(end), host_ms)

    class DeviceInterface:
        Event = TimingEvent

        @staticmethod
        def synchronize(device=None):
            synchronize()

        @staticmethod
        def current_device():
            return 0

        @staticmethod
        def device_count():
            return 1

        @staticmethod
        def is_available():
            return True

    return DeviceInterface()


def _set_cpu_stream(stream):
    """torch.cpu's missing set_stream: CPU work has one order, as torch.cpu.stream(s) has."""


class JitspvDriver(DriverBase):

    def __init__(self):
        self.utils = JitspvUtils()
        self.launcher_cls = JitspvLauncher

    @staticmethod
    def is_active():
        return chosen()

    def get_current_device(self):
        return 0

    def set_current_device(self, device):
        if device not in (0, None):
            raise ValueError(f"jitspv's Triton backend has one device, 0; got {device!r}")

    def get_current_stream(self, device=None):
        return 0

    def get_current_target(self):
        from jitspv.frontend import runtime as rt
        return GPUTarget(BACKEND_NAME, target_arch(rt.current_target()), 32)

    def get_active_torch_device(self):
        import torch
        if not hasattr(torch.cpu, "set_stream"):
            # CUDA programs (tutorial 02) call getattr(torch, DEVICE.type).set_stream(Stream()); torch's
            # CPU streams are placeholders (torch.cpu.Stream, current_stream, stream()) without it.
            torch.cpu.set_stream = _set_cpu_stream
        return torch.device("cpu")   # no index: torch.device("cpu") != torch.device("cpu", 0)

    def get_device_interface(self):
        return _device_interface()

    def map_python_to_cpp_type(self, ty: str) -> str:
        return "uint64_t" if ty.startswith("*") else _CPP_TYPES[ty]

    def get_benchmarker(self):
        from triton.testing import do_bench
        return do_bench

    def get_empty_cache_for_benchmark(self):
        from jitspv.testing import flush_buffer
        return flush_buffer(_device())

    def clear_cache(self, cache):
        # Waited for: do_bench times the launch after this by the longer of device and host time,
        # and a launch with host tensors waits for the device, so its host time would include the
        # fill (29 ms of a 0.4 ms add on lavapipe).
        cache.fill_(0)
        _device().synchronize()


def _make_other_drivers_inactive():
    """With TRITON_SPIRV_BACKEND=1 (or TRITON_DEFAULT_BACKEND=jitspv where Triton ignores that
    variable) every other Triton driver reports itself inactive: Triton
    refuses two active drivers (3.6 has no TRITON_DEFAULT_BACKEND), and on a CUDA machine the
    NVIDIA one is active too. Drivers defined before this module (walked) and after it (hooked)."""
    def inactive():
        return False

    def silence(cls):
        if cls is not JitspvDriver:
            cls.is_active = staticmethod(inactive)

    pending = list(DriverBase.__subclasses__())
    while pending:
        cls = pending.pop()
        silence(cls)
        pending.extend(cls.__subclasses__())
    DriverBase.__init_subclass__ = classmethod(lambda cls, **kwargs: silence(cls))


def _triton_honours_default_backend() -> bool:
    """Whether this Triton picks its driver by TRITON_DEFAULT_BACKEND (3.9 does, 3.6 does not). Read
    from the source of triton.runtime.driver, which is still being imported while this module is."""
    import importlib.util
    spec = importlib.util.find_spec("triton.runtime.driver")
    try:
        with open(spec.origin, encoding="utf-8") as f:
            return "TRITON_DEFAULT_BACKEND" in f.read()
    except (OSError, TypeError, AttributeError):
        return False


if chosen() and (os.environ.get("TRITON_DEFAULT_BACKEND") != BACKEND_NAME or not _triton_honours_default_backend()):
    _make_other_drivers_inactive()
