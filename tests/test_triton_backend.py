"""jitspv as a Triton backend: unmodified `@triton.jit` programs with torch CPU tensors.

Each program runs in a fresh subprocess with TRITON_SPIRV_BACKEND=1 (Triton picks its driver once
per process), on lavapipe with the validation layer and spirv-val on as everywhere in the tests
(the environment conftest.py set is inherited); the program ends by failing on any validation
message. jitspv's entry point is declared by a dist-info made from pyproject.toml and put first
on the subprocess's path, so the test sees this tree's registration, not an installed one's.
"""
import importlib
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]

_EPILOGUE = """
from jitspv.vk import device as _device
if _device._device is not None:
    _device.synchronize()
    _messages = _device.validation_messages(clear=True)
    assert not _messages, "Vulkan validation reported:\\n" + "\\n".join(_messages)
print("program finished")
"""


# Always-active backends registered before and after jitspv's (tests/fake_triton_backends).
FAKE_BACKENDS = ({"fake": "fake_triton_backends.before"}, {"fake_after": "fake_triton_backends.after"})


def _registration(directory: Path, fakes: bool) -> Path:
    """A directory holding jitspv's dist-info with pyproject's `triton.backends` entry points
    (in the order listed, which is the order Triton imports them), with or without the fakes."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    backends = dict(project["entry-points"]["triton.backends"])
    if fakes:
        backends = {**FAKE_BACKENDS[0], **backends, **FAKE_BACKENDS[1]}
    info = directory / f"jitspv-{project['version']}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: jitspv\nVersion: {project['version']}\n")
    (info / "entry_points.txt").write_text(
        "[triton.backends]\n" + "".join(f"{name} = {module}\n" for name, module in backends.items()))
    return directory


def run_program(source: str, tmp_path: Path, chosen: dict | None = None, fakes: bool = False,
                cache: Path | None = None) -> str:
    """Runs `source` (plus the validation check) in a subprocess; returns its stdout."""
    env = dict(os.environ)
    for name in ("TRITON_SPIRV_BACKEND", "TRITON_DEFAULT_BACKEND"):
        env.pop(name, None)
    env.update({"TRITON_SPIRV_BACKEND": "1"} if chosen is None else chosen)
    registration = _registration(tmp_path / "registration", fakes)
    # The registration first: the checkout's own metadata (jitspv.egg-info, left by an editable
    # install) must not answer for the jitspv distribution.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(registration), str(ROOT), str(ROOT / "tests"),
                                                      env.get("PYTHONPATH")]))
    env["TRITON_CACHE_DIR"] = str(cache or tmp_path / "triton-cache")
    program = tmp_path / "program.py"   # Triton reads a jit function's source from its file
    program.write_text(textwrap.dedent(source) + _EPILOGUE)
    done = subprocess.run([sys.executable, str(program)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"program failed:\n{done.stdout}\n{done.stderr}"
    assert "program finished" in done.stdout
    return done.stdout


VECTOR_ADD = """
import torch
import triton
import triton.language as tl

DEVICE = triton.runtime.driver.active.get_active_torch_device()


@triton.jit
def add_kernel(x_ptr,  # *Pointer* to first input vector.
               y_ptr,  # *Pointer* to second input vector.
               output_ptr,  # *Pointer* to output vector.
               n_elements,  # Size of the vector.
               BLOCK_SIZE: tl.constexpr,  # Number of elements each program should process.
               ):
    pid = tl.program_id(axis=0)
    block_start = pid * BLOCK_SIZE
    offsets = block_start + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    output = x + y
    tl.store(output_ptr + offsets, output, mask=mask)


def add(x: torch.Tensor, y: torch.Tensor):
    output = torch.empty_like(x)
    assert x.device == DEVICE and y.device == DEVICE and output.device == DEVICE
    n_elements = output.numel()
    grid = lambda meta: (triton.cdiv(n_elements, meta['BLOCK_SIZE']), )
    add_kernel[grid](x, y, output, n_elements, BLOCK_SIZE=1024)
    return output


torch.manual_seed(0)
size = 98432
x = torch.rand(size, device=DEVICE)
y = torch.rand(size, device=DEVICE)
output_torch = x + y
output_triton = add(x, y)
print(f'The maximum difference between torch and triton is '
      f'{torch.max(torch.abs(output_torch - output_triton))}')
"""


def test_vector_add_tutorial_as_written_and_what_triton_code_asks_of_the_driver(tmp_path):
    out = run_program(VECTOR_ADD + """
import math
from triton.backends import backends
driver = triton.runtime.driver.active
assert type(driver).__name__ == "JitspvDriver" and not backends["nvidia"].driver.is_active()
assert DEVICE == torch.device("cpu") and str(DEVICE) == "cpu"
target = driver.get_current_target()
assert target.backend == "jitspv" and target.arch.startswith("spirv-") and target.warp_size == 32
assert torch.equal(output_triton, output_torch)

# fresh odd-sized inputs, output poisoned, a view into the middle of a buffer, bf16 (raw storage)
for dtype in (torch.float32, torch.bfloat16, torch.int16):
    n = int(torch.randint(1, 5000, ()))
    a = (torch.randn(n + 7) * 100).to(dtype)[7:]
    b = (torch.randn(n) * 100).to(dtype)
    out = torch.full((n + 3,), -1).to(dtype)
    add_kernel[(triton.cdiv(n, 256),)](a, b, out[:n], n, BLOCK_SIZE=256)
    assert torch.equal(out[:n], a + b) and torch.equal(out[n:], torch.full((3,), -1).to(dtype)), dtype

# jitspv arrays are device memory: passed as they are
import jitspv
import numpy as np
xa, ya, za = jitspv.asarray(x.numpy()), jitspv.asarray(y.numpy()), jitspv.full(size, np.nan, np.float32)
add_kernel[(triton.cdiv(size, 1024),)](xa, ya, za, size, BLOCK_SIZE=1024)
assert np.array_equal(za.numpy(), output_torch.numpy())

# warmup, then the compiled kernel: handles, metadata, asm, launching it directly
compiled = add_kernel.warmup(x, y, output_triton, size, BLOCK_SIZE=1024, grid=(1,))
compiled._init_handles()
assert compiled.n_regs > 0 and compiled.n_spills == 0 and compiled.metadata.shared >= 0
assert compiled.metadata.num_warps == 4 and "tt.func" in compiled.asm["ttir"]
assert compiled.asm["spv"][:4] == bytes.fromhex("03022307")
from jitspv.lower.spirv import disassemble
assert "OpEntryPoint GLCompute" in compiled.asm["spvasm"] and compiled.asm["spvasm"] == disassemble(compiled.asm["spv"])
z = torch.full_like(x, math.nan)
compiled[(triton.cdiv(size, 1024), 1, 1)](x, y, z, size, 1024)
assert torch.equal(z, output_torch)

# launch hooks see each launch with its metadata
seen = []
triton.knobs.runtime.launch_enter_hook = lambda metadata: seen.append(("enter", metadata.get()["name"]))
triton.knobs.runtime.launch_exit_hook = lambda metadata: seen.append(("exit", metadata.get()["name"]))
add(x, y)
triton.knobs.runtime.launch_enter_hook = triton.knobs.runtime.launch_exit_hook = None
assert seen == [("enter", "add_kernel"), ("exit", "add_kernel")], seen

# triton.testing.do_bench times on Vulkan timestamps through the driver's device interface
ms = triton.testing.do_bench(lambda: add(x, y), warmup=5, rep=20)
assert isinstance(ms, float) and 0 < ms < 1000, ms
lo, mid, hi = triton.testing.do_bench(lambda: add(x, y), warmup=1, rep=10, quantiles=[0.2, 0.5, 0.8])
assert 0 < lo <= mid <= hi
""", tmp_path)
    assert "The maximum difference between torch and triton is 0.0" in out


def test_benchmarks_time_host_work_and_accept_cpu_streams(tmp_path):
    # Tutorial 02's benchmark sets a stream of torch's device module (torch.cpu has Stream, not
    # set_stream); tutorials time torch's own (host) ops next to the kernels with do_bench.
    run_program(VECTOR_ADD + """
import time
getattr(torch, DEVICE.type).set_stream(getattr(torch, DEVICE.type).Stream())
assert torch.equal(add(x, y), output_torch)
# host work of at least 20 ms (no device work between the events: their timestamps are ~0 apart)
ms = triton.testing.do_bench(lambda: time.sleep(0.02), warmup=1, rep=1, return_mode="min")
assert 20 <= ms < 1000, ms
# do_bench's cache flush has finished when it returns: a launch with host tensors after it waits
# for the device, and its host time must not include the flush
from triton import runtime
from jitspv.vk.device import get_device
runtime.driver.active.clear_cache(runtime.driver.active.get_empty_cache_for_benchmark())
assert get_device().stream.idle()
""", tmp_path)


def test_unsupported_arguments_get_a_clear_error_and_the_process_stays_usable(tmp_path):
    run_program(VECTOR_ADD + """
import pytest
a = torch.rand(10)
meta = torch.rand(10, device="meta")
with pytest.raises(TypeError, match="device meta"):
    add_kernel[(1,)](a, meta, torch.empty(10), 10, BLOCK_SIZE=16)
with pytest.raises(AssertionError, match="power of 2"):   # Triton's CUDA backend asserts it
    add_kernel[(1,)](a, a, torch.empty(10), 10, BLOCK_SIZE=16, num_warps=3)
with pytest.raises(AssertionError, match="power of 2"):
    add_kernel.warmup(a, a, torch.empty(10), 10, BLOCK_SIZE=16, num_warps=6, grid=(1,))
assert torch.equal(add(x, y), output_torch)
""", tmp_path)


_HAS_DECOMPOSE = hasattr(importlib.import_module("triton.backends.driver"), "decompose_descriptor")


@pytest.mark.skipif(_HAS_DECOMPOSE, reason="Triton 3.9 and newer pass host descriptors (test below)")
def test_host_tensor_descriptors_refused_before_triton_39(tmp_path):
    run_program("""
import pytest
import torch
import triton
import triton.language as tl
from triton.tools.tensor_descriptor import TensorDescriptor


@triton.jit
def copy(in_desc, out_desc):
    out_desc.store([0, 0], in_desc.load([0, 0]))


x, out = torch.randn(16, 16), torch.zeros(16, 16)
with pytest.raises(TypeError, match="host TensorDescriptor arguments need Triton 3.9"):
    copy[(1,)](TensorDescriptor.from_tensor(x, [16, 16]), TensorDescriptor.from_tensor(out, [16, 16]))
""", tmp_path)


@pytest.mark.skipif(not _HAS_DECOMPOSE, reason="Triton before 3.9 has no decompose_descriptor (refused, test above)")
def test_host_tensor_descriptors_and_tuple_arguments(tmp_path):
    run_program("""
import torch
import triton
import triton.language as tl
from triton.tools.tensor_descriptor import TensorDescriptor


@triton.jit
def scale_shift(in_desc, out_desc, coeffs, M, N, BM: tl.constexpr, BN: tl.constexpr):
    pm = tl.program_id(0)
    pn = tl.program_id(1)
    # Indexing, not nested unpacking: Triton 3.6's cache key cannot hash `(a, (b, c)), d = ...`.
    scale, shift, FLIP = coeffs[0][0], coeffs[0][1][0], coeffs[1]
    x = in_desc.load([pm * BM, pn * BN])
    y = x * scale + shift
    if FLIP:
        y = -y
    out_desc.store([pm * BM, pn * BN], y)


@triton.jit
def padding_probe(in_desc, out_ptr, BM: tl.constexpr, BN: tl.constexpr):
    # one block reaching past the tensor: the out-of-bounds elements are the descriptor's padding
    x = in_desc.load([0, 0])
    offs = tl.arange(0, BM)[:, None] * BN + tl.arange(0, BN)[None, :]
    tl.store(out_ptr + offs, x)


for M, N, flip in ((37, 24, False), (5, 100, True)):
    x = torch.randn(M, N)
    out = torch.full((M, N), float("nan"))
    in_desc = TensorDescriptor.from_tensor(x, [16, 16])
    out_desc = TensorDescriptor.from_tensor(out, [16, 16])
    scale, shift = float(torch.randn(())), int(torch.randint(-9, 9, ()))
    grid = (triton.cdiv(M, 16), triton.cdiv(N, 16))
    scale_shift[grid](in_desc, out_desc, ((scale, (shift, 7)), flip), M, N, BM=16, BN=16)
    want = x * torch.tensor(scale, dtype=torch.float32) + shift
    torch.testing.assert_close(out, -want if flip else want, rtol=1e-6, atol=1e-6)

# a view's strides: every other column of a wider tensor (strides in elements, 16-byte aligned)
wide = torch.randn(20, 64)
view = wide[:, ::1][:, 8:40]
out = torch.full((20, 32), float("nan"))
scale_shift[(2, 2)](TensorDescriptor.from_tensor(view, [16, 16]), TensorDescriptor.from_tensor(out, [16, 16]),
                    ((1.0, (0, 0)), False), 20, 32, BM=16, BN=16)
assert torch.equal(out, view)

# padding is a launch value: zero, then NaN, through the same compiled kernel
x = torch.randn(3, 4)
for padding in ("zero", "nan"):
    got = torch.full((8, 8), 5.0)
    padding_probe[(1,)](TensorDescriptor(x, x.shape, x.stride(), [8, 8], padding=padding), got, BM=8, BN=8)
    assert torch.equal(got[:3, :4], x)
    rest = torch.cat([got[:3, 4:].flatten(), got[3:].flatten()])
    assert (rest.isnan().all() if padding == "nan" else (rest == 0).all()), (padding, got)
assert len(padding_probe.device_caches[0][0]) == 1
""", tmp_path)


SOFTMAX = """
import torch
import triton
import triton.language as tl
from triton.runtime import driver

DEVICE = triton.runtime.driver.active.get_active_torch_device()


@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols, BLOCK_SIZE: tl.constexpr,
                   num_stages: tl.constexpr):
    # starting row of the program
    row_start = tl.program_id(0)
    row_step = tl.num_programs(0)
    for row_idx in tl.range(row_start, n_rows, row_step, num_stages=num_stages):
        # The stride represents how much we need to increase the pointer to advance 1 row
        row_start_ptr = input_ptr + row_idx * input_row_stride
        # The block size is the next power of two greater than n_cols, so we can fit each
        # row in a single block
        col_offsets = tl.arange(0, BLOCK_SIZE)
        input_ptrs = row_start_ptr + col_offsets
        # Load the row into SRAM, using a mask since BLOCK_SIZE may be > than n_cols
        mask = col_offsets < n_cols
        row = tl.load(input_ptrs, mask=mask, other=-float('inf'))
        # Subtract maximum for numerical stability
        row_minus_max = row - tl.max(row, axis=0)
        # Note that exponentiation in Triton is fast but approximate (i.e., think __expf in CUDA)
        numerator = tl.exp(row_minus_max)
        denominator = tl.sum(numerator, axis=0)
        softmax_output = numerator / denominator
        # Write back output to DRAM
        output_row_start_ptr = output_ptr + row_idx * output_row_stride
        output_ptrs = output_row_start_ptr + col_offsets
        tl.store(output_ptrs, softmax_output, mask=mask)


properties = driver.active.utils.get_device_properties(DEVICE.index)
NUM_SM = properties["multiprocessor_count"]
NUM_REGS = properties["max_num_regs"]
SIZE_SMEM = properties["max_shared_mem"]
WARP_SIZE = properties["warpSize"]
target = triton.runtime.driver.active.get_current_target()
kernels = {}


def softmax(x):
    n_rows, n_cols = x.shape

    # The block size of each loop iteration is the smallest power of two greater than the number of columns in `x`
    BLOCK_SIZE = triton.next_power_of_2(n_cols)

    # Another trick we can use is to ask the compiler to use more threads per row by
    # increasing the number of warps (`num_warps`) over which each row is distributed.
    # You will see in the next tutorial how to auto-tune this value in a more natural
    # way so you don't have to come up with manual heuristics yourself.
    num_warps = 8

    # Number of software pipelining stages.
    num_stages = 4 if SIZE_SMEM > 200000 else 2

    # Allocate output
    y = torch.empty_like(x)

    # pre-compile kernel to get register usage and compute thread occupancy.
    kernel = softmax_kernel.warmup(y, x, x.stride(0), y.stride(0), n_rows, n_cols, BLOCK_SIZE=BLOCK_SIZE,
                                   num_stages=num_stages, num_warps=num_warps, grid=(1, ))
    kernel._init_handles()
    n_regs = kernel.n_regs
    size_smem = kernel.metadata.shared
    occupancy = NUM_REGS // (n_regs * WARP_SIZE * num_warps)
    occupancy = min(occupancy, SIZE_SMEM // size_smem)
    num_programs = NUM_SM * occupancy

    num_programs = min(num_programs, n_rows)

    # Create a number of persistent programs.
    kernel[(num_programs, 1, 1)](y, x, x.stride(0), y.stride(0), n_rows, n_cols, BLOCK_SIZE, num_stages)
    return y


torch.manual_seed(0)
x = torch.randn(263, 781, device=DEVICE)
y_triton = softmax(x)
y_torch = torch.softmax(x, axis=1)
assert torch.allclose(y_triton, y_torch, rtol=1e-5, atol=1e-7), (y_triton - y_torch).abs().max()
"""


def test_fused_softmax_tutorial_with_device_properties_and_n_regs(tmp_path):
    run_program(SOFTMAX + """
assert properties == driver.active.utils.get_device_properties(0)
assert SIZE_SMEM >= 16384 and NUM_SM >= 1 and WARP_SIZE == 32
""", tmp_path)


MATMUL = """
import torch
import triton
import triton.language as tl

DEVICE = triton.runtime.driver.active.get_active_torch_device()


def is_cuda():
    return triton.runtime.driver.active.get_current_target().backend == "cuda"


def get_hip_autotune_config():
    # tutorial 03's configs for backends other than CUDA, shrunk for a CPU device
    sizes = [
        {'BLOCK_SIZE_M': 32, 'BLOCK_SIZE_N': 32, 'BLOCK_SIZE_K': 16, 'GROUP_SIZE_M': 4, 'num_warps': 2},
        {'BLOCK_SIZE_M': 16, 'BLOCK_SIZE_N': 32, 'BLOCK_SIZE_K': 32, 'GROUP_SIZE_M': 1, 'num_warps': 1},
    ]
    return [triton.Config(s | {'matrix_instr_nonkdim': 16, 'waves_per_eu': 2, 'kpack': 1}, num_warps=s['num_warps'],
                          num_stages=2) for s in sizes]


def get_autotune_config():
    assert not is_cuda()
    return get_hip_autotune_config()


@triton.autotune(
    configs=get_autotune_config(),
    key=['M', 'N', 'K'],
)
@triton.jit
def matmul_kernel(
        # Pointers to matrices
        a_ptr, b_ptr, c_ptr,
        # Matrix dimensions
        M, N, K,
        # The stride variables represent how much to increase the ptr by when moving by 1
        # element in a particular dimension. E.g. `stride_am` is how much to increase `a_ptr`
        # by to get the element one row down (A has M rows).
        stride_am, stride_ak,  #
        stride_bk, stride_bn,  #
        stride_cm, stride_cn,
        # Meta-parameters
        BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr, BLOCK_SIZE_K: tl.constexpr,  #
        GROUP_SIZE_M: tl.constexpr,  #
        ACTIVATION: tl.constexpr  #
):
    pid = tl.program_id(axis=0)
    num_pid_m = tl.cdiv(M, BLOCK_SIZE_M)
    num_pid_n = tl.cdiv(N, BLOCK_SIZE_N)
    num_pid_in_group = GROUP_SIZE_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_SIZE_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_SIZE_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m

    offs_am = (pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)) % M
    offs_bn = (pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)) % N
    offs_k = tl.arange(0, BLOCK_SIZE_K)
    a_ptrs = a_ptr + (offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak)
    b_ptrs = b_ptr + (offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn)

    accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_SIZE_K)):
        a = tl.load(a_ptrs, mask=offs_k[None, :] < K - k * BLOCK_SIZE_K, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < K - k * BLOCK_SIZE_K, other=0.0)
        accumulator = tl.dot(a, b, accumulator)
        a_ptrs += BLOCK_SIZE_K * stride_ak
        b_ptrs += BLOCK_SIZE_K * stride_bk
    if ACTIVATION == "leaky_relu":
        accumulator = leaky_relu(accumulator)
    c = accumulator.to(tl.float16)

    offs_cm = pid_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
    offs_cn = pid_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    c_ptrs = c_ptr + stride_cm * offs_cm[:, None] + stride_cn * offs_cn[None, :]
    c_mask = (offs_cm[:, None] < M) & (offs_cn[None, :] < N)
    tl.store(c_ptrs, c, mask=c_mask)


@triton.jit
def leaky_relu(x):
    return tl.where(x >= 0, x, 0.01 * x)


def matmul(a, b, activation=""):
    assert a.shape[1] == b.shape[0], "Incompatible dimensions"
    assert a.is_contiguous(), "Matrix A must be contiguous"
    M, K = a.shape
    K, N = b.shape
    c = torch.empty((M, N), device=a.device, dtype=torch.float16)
    grid = lambda META: (triton.cdiv(M, META['BLOCK_SIZE_M']) * triton.cdiv(N, META['BLOCK_SIZE_N']), )
    matmul_kernel[grid](
        a, b, c,  #
        M, N, K,  #
        a.stride(0), a.stride(1),  #
        b.stride(0), b.stride(1),  #
        c.stride(0), c.stride(1),  #
        ACTIVATION=activation  #
    )
    return c


torch.manual_seed(0)
a = torch.randn((77, 53), device=DEVICE, dtype=torch.float16)
b = torch.randn((53, 45), device=DEVICE, dtype=torch.float16)
triton_output = matmul(a, b, "leaky_relu")
torch_output = torch.nn.functional.leaky_relu(torch.matmul(a.float(), b.float()), 0.01).half()
assert torch.allclose(triton_output.float(), torch_output.float(), atol=2e-2, rtol=1e-2), \\
    (triton_output.float() - torch_output.float()).abs().max()
assert matmul_kernel.best_config.kwargs["matrix_instr_nonkdim"] == 16
"""


def test_autotuned_matmul_with_other_backends_options(tmp_path):
    run_program(MATMUL, tmp_path)


LAYER_NORM = """
import torch
import triton
import triton.language as tl

DEVICE = triton.runtime.driver.active.get_active_torch_device()


@triton.jit
def _layer_norm_fwd_fused(
    X,  # pointer to the input
    Y,  # pointer to the output
    W,  # pointer to the weights
    B,  # pointer to the biases
    Mean,  # pointer to the mean
    Rstd,  # pointer to the 1/std
    stride,  # how much to increase the pointer when moving by 1 row
    N,  # number of columns in X
    eps,  # epsilon to avoid division by zero
    BLOCK_SIZE: tl.constexpr,
):
    # Map the program id to the row of X and Y it should compute.
    row = tl.program_id(0)
    Y += row * stride
    X += row * stride
    # Compute mean
    mean = 0
    _mean = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        a = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        _mean += a
    mean = tl.sum(_mean, axis=0) / N
    # Compute variance
    _var = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        x = tl.load(X + cols, mask=cols < N, other=0.).to(tl.float32)
        x = tl.where(cols < N, x - mean, 0.)
        _var += x * x
    var = tl.sum(_var, axis=0) / N
    rstd = 1 / tl.sqrt(var + eps)
    # Write mean / rstd
    tl.store(Mean + row, mean)
    tl.store(Rstd + row, rstd)
    # Normalize and apply linear transformation
    for off in range(0, N, BLOCK_SIZE):
        cols = off + tl.arange(0, BLOCK_SIZE)
        mask = cols < N
        w = tl.load(W + cols, mask=mask)
        b = tl.load(B + cols, mask=mask)
        x = tl.load(X + cols, mask=mask, other=0.).to(tl.float32)
        x_hat = (x - mean) * rstd
        y = x_hat * w + b
        # Write output
        tl.store(Y + cols, y, mask=mask)


@triton.jit
def _layer_norm_bwd_dx_fused(DX,  # pointer to the input gradient
                             DY,  # pointer to the output gradient
                             DW,  # pointer to the partial sum of weights gradient
                             DB,  # pointer to the partial sum of biases gradient
                             X,  # pointer to the input
                             W,  # pointer to the weights
                             Mean,  # pointer to the mean
                             Rstd,  # pointer to the 1/std
                             Lock,  # pointer to the lock
                             stride,  # how much to increase the pointer when moving by 1 row
                             N,  # number of columns in X
                             GROUP_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr):
    # Map the program id to the elements of X, DX, and DY it should compute.
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE_N)
    mask = cols < N
    X += row * stride
    DY += row * stride
    DX += row * stride
    # Offset locks and weights/biases gradient pointer for parallel reduction
    lock_id = row % GROUP_SIZE_M
    Lock += lock_id
    Count = Lock + GROUP_SIZE_M
    DW = DW + lock_id * N + cols
    DB = DB + lock_id * N + cols
    # Load data to SRAM
    x = tl.load(X + cols, mask=mask, other=0).to(tl.float32)
    dy = tl.load(DY + cols, mask=mask, other=0).to(tl.float32)
    w = tl.load(W + cols, mask=mask).to(tl.float32)
    mean = tl.load(Mean + row)
    rstd = tl.load(Rstd + row)
    # Compute dx
    xhat = (x - mean) * rstd
    wdy = w * dy
    xhat = tl.where(mask, xhat, 0.)
    wdy = tl.where(mask, wdy, 0.)
    c1 = tl.sum(xhat * wdy, axis=0) / N
    c2 = tl.sum(wdy, axis=0) / N
    dx = (wdy - (xhat * c1 + c2)) * rstd
    # Write dx
    tl.store(DX + cols, dx, mask=mask)
    # Accumulate partial sums for dw/db
    partial_dw = (dy * xhat).to(w.dtype)
    partial_db = (dy).to(w.dtype)
    while tl.atomic_cas(Lock, 0, 1) == 1:
        pass
    count = tl.load(Count)
    # First store doesn't accumulate
    if count == 0:
        tl.atomic_xchg(Count, 1)
    else:
        partial_dw += tl.load(DW, mask=mask)
        partial_db += tl.load(DB, mask=mask)
    tl.store(DW, partial_dw, mask=mask)
    tl.store(DB, partial_db, mask=mask)

    # need a barrier to ensure all threads finished before
    # releasing the lock
    tl.debug_barrier()

    # Release the lock
    tl.atomic_xchg(Lock, 0)


@triton.jit
def _layer_norm_bwd_dwdb(DW,  # pointer to the partial sum of weights gradient
                         DB,  # pointer to the partial sum of biases gradient
                         FINAL_DW,  # pointer to the weights gradient
                         FINAL_DB,  # pointer to the biases gradient
                         M,  # GROUP_SIZE_M
                         N,  # number of columns
                         BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr):
    # Map the program id to the elements of DW and DB it should compute.
    pid = tl.program_id(0)
    cols = pid * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    dw = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    db = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    # Iterate through the rows of DW and DB to sum the partial sums.
    for i in range(0, M, BLOCK_SIZE_M):
        rows = i + tl.arange(0, BLOCK_SIZE_M)
        mask = (rows[:, None] < M) & (cols[None, :] < N)
        offs = rows[:, None] * N + cols[None, :]
        dw += tl.load(DW + offs, mask=mask, other=0.)
        db += tl.load(DB + offs, mask=mask, other=0.)
    # Write the final sum to the output.
    sum_dw = tl.sum(dw, axis=0)
    sum_db = tl.sum(db, axis=0)
    tl.store(FINAL_DW + cols, sum_dw, mask=cols < N)
    tl.store(FINAL_DB + cols, sum_db, mask=cols < N)


class LayerNorm(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, normalized_shape, weight, bias, eps):
        # allocate output
        y = torch.empty_like(x)
        # reshape input data into 2D tensor
        x_arg = x.reshape(-1, x.shape[-1])
        M, N = x_arg.shape
        mean = torch.empty((M, ), dtype=torch.float32, device=x.device)
        rstd = torch.empty((M, ), dtype=torch.float32, device=x.device)
        # Less than 64KB per feature: enqueue fused kernel
        MAX_FUSED_SIZE = 65536 // x.element_size()
        BLOCK_SIZE = min(MAX_FUSED_SIZE, triton.next_power_of_2(N))
        if N > BLOCK_SIZE:
            raise RuntimeError("This layer norm doesn't support feature dim >= 64KB.")
        # heuristics for number of warps
        num_warps = min(max(BLOCK_SIZE // 256, 1), 8)
        # enqueue kernel
        _layer_norm_fwd_fused[(M, )](  #
            x_arg, y, weight, bias, mean, rstd,  #
            x_arg.stride(0), N, eps,  #
            BLOCK_SIZE=BLOCK_SIZE, num_warps=num_warps, num_ctas=1)
        ctx.save_for_backward(x, weight, bias, mean, rstd)
        ctx.BLOCK_SIZE = BLOCK_SIZE
        ctx.num_warps = num_warps
        ctx.eps = eps
        return y

    @staticmethod
    def backward(ctx, dy):
        x, w, b, m, v = ctx.saved_tensors
        # heuristics for amount of parallel reduction stream for DW/DB
        N = w.shape[0]
        GROUP_SIZE_M = 64
        if N <= 8192: GROUP_SIZE_M = 96
        if N <= 4096: GROUP_SIZE_M = 128
        if N <= 1024: GROUP_SIZE_M = 256
        # allocate output
        locks = torch.zeros(2 * GROUP_SIZE_M, dtype=torch.int32, device=w.device)
        _dw = torch.zeros((GROUP_SIZE_M, N), dtype=x.dtype, device=w.device)
        _db = torch.zeros((GROUP_SIZE_M, N), dtype=x.dtype, device=w.device)
        dw = torch.empty((N, ), dtype=w.dtype, device=w.device)
        db = torch.empty((N, ), dtype=w.dtype, device=w.device)
        dx = torch.empty_like(dy)
        # enqueue kernel using forward pass heuristics
        # also compute partial sums for DW and DB
        x_arg = x.reshape(-1, x.shape[-1])
        M, N = x_arg.shape
        _layer_norm_bwd_dx_fused[(M, )](  #
            dx, dy, _dw, _db, x, w, m, v, locks,  #
            x_arg.stride(0), N,  #
            BLOCK_SIZE_N=ctx.BLOCK_SIZE,  #
            GROUP_SIZE_M=GROUP_SIZE_M,  #
            num_warps=ctx.num_warps)
        grid = lambda meta: (triton.cdiv(N, meta['BLOCK_SIZE_N']), )
        # accumulate partial sums in separate kernel
        _layer_norm_bwd_dwdb[grid](
            _dw, _db, dw, db, min(GROUP_SIZE_M, M), N,  #
            BLOCK_SIZE_M=32,  #
            BLOCK_SIZE_N=128, num_ctas=1)
        return dx, None, dw, db, None


layer_norm = LayerNorm.apply


def test_layer_norm(M, N, dtype, eps=1e-5, device=DEVICE):
    # create data
    w_shape = (N, )
    weight = torch.rand(w_shape, dtype=dtype, device=device, requires_grad=True)
    bias = torch.rand(w_shape, dtype=dtype, device=device, requires_grad=True)
    x = -2.3 + 0.5 * torch.randn((M, N), dtype=dtype, device=device)
    dy = .1 * torch.randn_like(x)
    x.requires_grad_(True)
    # forward pass
    y_tri = layer_norm(x, w_shape, weight, bias, eps)
    y_ref = torch.nn.functional.layer_norm(x, w_shape, weight, bias, eps).to(dtype)
    # backward pass (triton)
    y_tri.backward(dy, retain_graph=True)
    dx_tri, dw_tri, db_tri = [_.grad.clone() for _ in [x, weight, bias]]
    x.grad, weight.grad, bias.grad = None, None, None
    # backward pass (torch)
    y_ref.backward(dy, retain_graph=True)
    dx_ref, dw_ref, db_ref = [_.grad.clone() for _ in [x, weight, bias]]
    # compare
    assert torch.allclose(y_tri, y_ref, atol=1e-2, rtol=0)
    assert torch.allclose(dx_tri, dx_ref, atol=1e-2, rtol=0)
    assert torch.allclose(db_tri, db_ref, atol=1e-2, rtol=0)
    assert torch.allclose(dw_tri, dw_ref, atol=1e-2, rtol=0)


test_layer_norm(151, 293, torch.float32)
"""


def test_layer_norm_forward_and_backward_under_torch_autograd(tmp_path):
    run_program(LAYER_NORM, tmp_path)


_COUNT_COMPILES = """
from jitspv.triton_backend.compiler import JitspvBackend
compiles = []
_add_stages = JitspvBackend.add_stages
JitspvBackend.add_stages = lambda self, *a, **k: (compiles.append(1), _add_stages(self, *a, **k))[1]
"""


def test_seeded_dropout_tutorial_kernel(tmp_path):
    # Tutorial 04's kernels: a mask tensor of int32, then tl.rand's Philox stream from a seed.
    run_program("""
import torch
import triton
import triton.language as tl

DEVICE = triton.runtime.driver.active.get_current_target().backend   # "jitspv": tutorial 04 writes this


@triton.jit
def _dropout(x_ptr, x_keep_ptr, output_ptr, n_elements, p, BLOCK_SIZE: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    x_keep = tl.load(x_keep_ptr + offsets, mask=mask)
    tl.store(output_ptr + offsets, tl.where(x_keep, x / (1 - p), 0.0), mask=mask)


@triton.jit
def _seeded_dropout(x_ptr, output_ptr, n_elements, p, seed, BLOCK_SIZE: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    random = tl.rand(seed, offsets)
    tl.store(output_ptr + offsets, tl.where(random > p, x / (1 - p), 0.0), mask=mask)


def seeded_dropout(x, p, seed):
    output = torch.full_like(x, float("nan"))
    _seeded_dropout[(triton.cdiv(x.numel(), 1024),)](x, output, x.numel(), p, seed, BLOCK_SIZE=1024)
    return output


assert DEVICE == "jitspv"
n = 10007
x = torch.randn(n) + 10   # never 0: a kept element is never 0
p = 0.3
keep = (torch.rand(n) > p).to(torch.int32)
out = torch.full_like(x, float("nan"))
_dropout[(triton.cdiv(n, 1024),)](x, keep, out, n, p, BLOCK_SIZE=1024)
torch.testing.assert_close(out, torch.where(keep.bool(), x / (1 - p), 0.0))

a, b, c = seeded_dropout(x, p, 123), seeded_dropout(x, p, 123), seeded_dropout(x, p, 512)
assert torch.equal(a, b) and not torch.equal(a, c)
for o in (a, c):
    kept = o != 0
    torch.testing.assert_close(o[kept], x[kept] / (1 - p))
    assert abs(kept.float().mean().item() - (1 - p)) < 0.03, kept.float().mean()
assert 0.5 < (a != 0).eq(c != 0).float().mean().item() < 0.66   # independent masks agree on p²+(1-p)² = 58%
""", tmp_path)


def test_a_second_process_hits_tritons_cache(tmp_path):
    cache = tmp_path / "shared-triton-cache"
    first = run_program(_COUNT_COMPILES + VECTOR_ADD + "assert torch.equal(output_triton, output_torch)\n"
                        "print('compiled', len(compiles))\n", tmp_path, cache=cache)
    assert "compiled 1" in first
    second = run_program(_COUNT_COMPILES + VECTOR_ADD + "assert torch.equal(output_triton, output_torch)\n"
                         "print('compiled', len(compiles))\n"
                         "cached = add_kernel.warmup(x, y, output_triton, size, BLOCK_SIZE=1024, grid=(1,))\n"
                         "assert 'OpEntryPoint GLCompute' in cached.asm['spvasm']\n", tmp_path, cache=cache)
    assert "compiled 0" in second


def test_default_backend_variable_chooses_jitspv(tmp_path):
    run_program(VECTOR_ADD + "assert torch.equal(output_triton, output_torch)\n", tmp_path,
                chosen={"TRITON_DEFAULT_BACKEND": "jitspv"})


def test_other_active_drivers_step_aside_when_jitspv_is_chosen(tmp_path):
    # An always-active backend registered before and after jitspv (as NVIDIA's is on a CUDA
    # machine): without jitspv making it inactive Triton would refuse two active drivers.
    run_program(VECTOR_ADD + """
from triton.backends import backends
assert type(triton.runtime.driver.active).__name__ == "JitspvDriver"
assert not backends["fake"].driver.is_active() and not backends["fake_after"].driver.is_active()
assert torch.equal(output_triton, output_torch)
""", tmp_path, fakes=True)


def test_import_triton_unaffected_when_jitspv_is_not_chosen(tmp_path):
    run_program("""
import sys
import triton
from triton.backends import backends
assert "jitspv" in backends and not backends["jitspv"].driver.is_active()
assert backends["fake"].driver.is_active() and backends["fake_after"].driver.is_active()
assert backends["nvidia"].driver.is_active.__module__.startswith("triton.backends.nvidia")
heavy = [m for m in ("torch", "numpy", "jitspv.vk", "jitspv.frontend.jit", "cffi") if m in sys.modules]
assert not heavy, heavy
""", tmp_path, chosen={}, fakes=True)


def test_backend_hash_and_options():
    from triton.backends.compiler import GPUTarget
    import jitspv.frontend.jit as jit
    from jitspv.triton_backend.compiler import JitspvBackend

    a = JitspvBackend(GPUTarget("jitspv", "spirv-aaaa", 32))
    b = JitspvBackend(GPUTarget("jitspv", "spirv-bbbb", 32))
    assert jit.jitspv_fingerprint() in a.hash() and a.hash() != b.hash()
    options = a.parse_options({"num_warps": 2, "matrix_instr_nonkdim": 16, "waves_per_eu": 2, "kpack": 2,
                               "instrumentation_mode": "", "fpsan_homomorphic_casts": False, "BLOCK": 64,
                               "debug": None})
    assert options.num_warps == 2 and options.kpack == 2 and options.warp_size == 32 and not options.debug
    assert "BLOCK" not in options.__dict__
    assert options.hash() != a.parse_options({"num_warps": 4}).hash()
    assert not JitspvBackend.supports_target(GPUTarget("cuda", 90, 32))


def test_spvasm_says_why_without_spirv_dis(monkeypatch):
    from jitspv.triton_backend.compiler import JitspvBackend
    from jitspv.lower.spirv import tools
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(tools, "_CMEEL_BIN", "/nonexistent")   # nor the ones PyPI's cmeel installed
    text = JitspvBackend._make_spvasm(bytes.fromhex("03022307"))
    assert text.startswith("; no disassembly: spirv-dis not found on PATH") and "spirv-tools" in text


def test_multiprocessor_count_is_what_vulkan_reports(monkeypatch):
    # Tutorials size persistent grids with get_device_properties()["multiprocessor_count"].
    import os
    from jitspv.triton_backend.driver import JitspvUtils
    from jitspv.vk import get_device
    from jitspv.vk._vkffi import ffi
    from jitspv.vk.binding import lib
    from jitspv.vk.device import _processor_count

    gpu, cpu = lib().VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, lib().VK_PHYSICAL_DEVICE_TYPE_CPU
    nv = ffi.new("VkPhysicalDeviceShaderSMBuiltinsPropertiesNV*", {"shaderSMCount": 132, "shaderWarpsPerSM": 64})
    assert _processor_count({"VK_NV_shader_sm_builtins": nv}, gpu) == (132, "VK_NV_shader_sm_builtins")
    amd = ffi.new("VkPhysicalDeviceShaderCorePropertiesAMD*",
                  {"shaderEngineCount": 4, "shaderArraysPerEngineCount": 2, "computeUnitsPerShaderArray": 10})
    assert _processor_count({"VK_AMD_shader_core_properties": amd}, gpu) == (80, "VK_AMD_shader_core_properties")
    active = ffi.new("VkPhysicalDeviceShaderCoreProperties2AMD*", {"activeComputeUnitCount": 76})
    assert _processor_count({"VK_AMD_shader_core_properties": amd, "VK_AMD_shader_core_properties2": active},
                            gpu) == (76, "VK_AMD_shader_core_properties2")
    assert _processor_count({}, gpu) == (1, "unknown")
    monkeypatch.setenv("LP_NUM_THREADS", "3")
    assert _processor_count({}, cpu) == (3, "LP_NUM_THREADS")
    monkeypatch.delenv("LP_NUM_THREADS")
    assert _processor_count({}, cpu) == (len(os.sched_getaffinity(0)), "CPU count")

    # The device the tests run on: lavapipe counts its threads; NVIDIA reports its SMs (the H200: 132)
    props = get_device().properties
    if props.device_type == "CPU":
        expected = int(os.environ["LP_NUM_THREADS"]) if os.environ.get("LP_NUM_THREADS", "").isdigit() \
            else len(os.sched_getaffinity(0))
        assert props.processor_count == expected
    elif props.vendor_id == 0x10DE:
        expected = props.processor_count
        assert props.processor_count_source == "VK_NV_shader_sm_builtins" and expected > 1
    else:
        expected = props.processor_count
    assert JitspvUtils().get_device_properties(0)["multiprocessor_count"] == expected


@pytest.mark.parametrize("placement", ["default", "copied"])
def test_pointer_tables_holding_host_addresses(tmp_path, placement):
    # Tutorial 08 (grouped GEMM) puts torch tensors' data_ptr()s in an int64 tensor and the kernel
    # loads them as pointers: host addresses, which the device reads translated (the tensors they
    # point into copied or imported like arguments, and written back).
    limits = {"JITSPV_DEVICE_LIMITS": "no-host-import"} if placement == "copied" else {}
    run_program("""
import numpy as np
import pytest
import torch
import triton
import triton.language as tl
import jitspv


@triton.jit
def gather_rows(ptrs, sizes, out, BLOCK: tl.constexpr):
    g = tl.program_id(0)
    n = tl.load(sizes + g)
    src = tl.load(ptrs + g).to(tl.pointer_type(tl.float32))
    offs = tl.arange(0, BLOCK)
    tl.store(out + g * BLOCK + offs, tl.load(src + offs, mask=offs < n, other=-1.0))


@triton.jit
def scatter_rows(ptrs, sizes, src, BLOCK: tl.constexpr):
    g = tl.program_id(0)
    n = tl.load(sizes + g)
    dst = tl.load(ptrs + g).to(tl.pointer_type(tl.float32))
    offs = tl.arange(0, BLOCK)
    tl.store(dst + offs, tl.load(src + g * BLOCK + offs), mask=offs < n)


@triton.jit
def rewrite_table(ptrs, out):
    p = tl.load(ptrs)
    tl.store(out, tl.load(p.to(tl.pointer_type(tl.float32))))
    tl.store(ptrs, p + 4)   # next time, the next element


rows = [torch.randn(int(n)) for n in torch.randint(1, 64, (3,))]
sizes = torch.tensor([len(r) for r in rows], dtype=torch.int32)
out = torch.full((3, 64), float("nan"))
want = torch.full((3, 64), -1.0)
for g, r in enumerate(rows):
    want[g, :len(r)] = r

# device arrays' addresses in a host table: used as they are
device_rows = [jitspv.asarray(r.numpy()) for r in rows]
gather_rows[(3,)](torch.tensor([r.data_ptr() for r in device_rows]), sizes, out, BLOCK=64)
assert torch.equal(out, want)
compiled = gather_rows.warmup(torch.zeros(3, dtype=torch.int64), sizes, out, BLOCK=64, grid=(3,))
compiled._init_handles()

# host tensors' addresses (tensors that are no arguments), read and written, twice (the second
# launch finds the tensors without a scan), the tables themselves never written
for launch in range(2):
    out.fill_(float("nan"))
    table = torch.tensor([r.data_ptr() for r in rows])
    sent = table.clone()
    gather_rows[(3,)](table, sizes, out, BLOCK=64)
    assert torch.equal(out, want) and torch.equal(table, sent)
    targets = [torch.full((len(r) + 5,), float("nan")) for r in rows]
    src = torch.randn(3, 64)
    scatter_rows[(3,)](torch.tensor([t.data_ptr() for t in targets]), sizes, src, BLOCK=64)
    for g, (t, r) in enumerate(zip(targets, rows)):
        assert torch.equal(t[:len(r)], src[g, :len(r)]) and t[len(r):].isnan().all()
# an address into the middle of a tensor, and one into another argument of the same launch (each
# program copies its own row of out onto itself)
middle = torch.randn(70)
gather_rows[(1,)](torch.tensor([middle.data_ptr() + 4 * 6]), torch.tensor([64], dtype=torch.int32), out, BLOCK=64)
assert torch.equal(out[0], middle[6:70])
fill = torch.randn(3, 64)
out.copy_(fill)
gather_rows[(3,)](torch.tensor([out.data_ptr() + 4 * 64 * g for g in range(3)]), sizes, out, BLOCK=64)
for g, r in enumerate(rows):
    assert torch.equal(out[g, :len(r)], fill[g, :len(r)]) and (out[g, len(r):] == -1).all()

# an address no host tensor holds (a numpy array's: numpy arrays cannot be found): a clear error,
# nothing launched
out.fill_(float("nan"))
lost = np.ones(64, np.float32)
with pytest.raises(ValueError, match=r"argument 'ptrs' holds pointers .* element 1 is 0x[0-9a-f]+, which lies in no "
                                     r"device memory of jitspv nor in any argument or live torch CPU tensor"):
    gather_rows[(3,)](torch.tensor([rows[0].data_ptr(), lost.ctypes.data, 0]), sizes, out, BLOCK=64)
assert out.isnan().all()
# a kernel writing into such a table: its writes cannot reach the host table, so an error after the launch
table = torch.tensor([rows[0].data_ptr()])
sent = table.clone()
with pytest.raises(ValueError, match=r"the kernel wrote into argument 'ptrs', a pointer table of host addresses"):
    rewrite_table[(1,)](table, out)
assert torch.equal(table, sent) and out[0, 0] == rows[0][0]
gather_rows[(3,)](torch.tensor([r.data_ptr() for r in device_rows]), sizes, out, BLOCK=64)
assert torch.equal(out, want)
""", tmp_path, chosen={"TRITON_SPIRV_BACKEND": "1", **limits})


def test_grouped_gemm_with_pointer_tables_in_tensors(tmp_path):
    # Tutorial 08's shape: one persistent launch over a group of GEMMs whose operands' data_ptr()s
    # are in int64 torch tensors, autotuned over the number of programs.
    out = run_program("""
import torch
import triton
import triton.language as tl

DEVICE = triton.runtime.driver.active.get_active_torch_device()


@triton.autotune(configs=[triton.Config({"BLOCK_SIZE_M": 32, "BLOCK_SIZE_N": 32, "BLOCK_SIZE_K": 32, "NUM_SM": n})
                          for n in (3, 8)], key=["group_size"])
@triton.jit
def grouped_matmul_kernel(group_a_ptrs, group_b_ptrs, group_c_ptrs, group_gemm_sizes, g_lds, group_size,
                          NUM_SM: tl.constexpr, BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr,
                          BLOCK_SIZE_K: tl.constexpr):
    tile_idx = tl.program_id(0)
    last_problem_end = 0
    for g in range(group_size):
        gm = tl.load(group_gemm_sizes + g * 3)
        gn = tl.load(group_gemm_sizes + g * 3 + 1)
        gk = tl.load(group_gemm_sizes + g * 3 + 2)
        num_m_tiles = tl.cdiv(gm, BLOCK_SIZE_M)
        num_n_tiles = tl.cdiv(gn, BLOCK_SIZE_N)
        num_tiles = num_m_tiles * num_n_tiles
        while tile_idx >= last_problem_end and tile_idx < last_problem_end + num_tiles:
            lda = tl.load(g_lds + g * 3)
            ldb = tl.load(g_lds + g * 3 + 1)
            ldc = tl.load(g_lds + g * 3 + 2)
            a_ptr = tl.load(group_a_ptrs + g).to(tl.pointer_type(tl.float16))
            b_ptr = tl.load(group_b_ptrs + g).to(tl.pointer_type(tl.float16))
            c_ptr = tl.load(group_c_ptrs + g).to(tl.pointer_type(tl.float16))
            tile_in_gemm = tile_idx - last_problem_end
            offs_am = (tile_in_gemm // num_n_tiles) * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
            offs_bn = (tile_in_gemm % num_n_tiles) * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
            offs_k = tl.arange(0, BLOCK_SIZE_K)
            a_ptrs = a_ptr + offs_am[:, None] * lda + offs_k[None, :]
            b_ptrs = b_ptr + offs_k[:, None] * ldb + offs_bn[None, :]
            accumulator = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
            for kk in range(0, tl.cdiv(gk, BLOCK_SIZE_K)):
                tl.multiple_of(a_ptrs, [16, 16])
                tl.multiple_of(b_ptrs, [16, 16])
                accumulator += tl.dot(tl.load(a_ptrs), tl.load(b_ptrs))
                a_ptrs += BLOCK_SIZE_K
                b_ptrs += BLOCK_SIZE_K * ldb
            c_ptrs = c_ptr + ldc * offs_am[:, None] + offs_bn[None, :]
            tl.store(c_ptrs, accumulator.to(tl.float16))
            tile_idx += NUM_SM
        last_problem_end = last_problem_end + num_tiles


def group_gemm_fn(group_A, group_B):
    a_addrs, b_addrs, c_addrs, g_sizes, g_lds, group_C = [], [], [], [], [], []
    for A, B in zip(group_A, group_B):
        M, K = A.shape
        N = B.shape[1]
        C = torch.full((M, N), float("nan"), device=DEVICE, dtype=A.dtype)
        group_C.append(C)
        a_addrs.append(A.data_ptr())
        b_addrs.append(B.data_ptr())
        c_addrs.append(C.data_ptr())
        g_sizes += [M, N, K]
        g_lds += [A.stride(0), B.stride(0), C.stride(0)]
    d_a_ptrs, d_b_ptrs, d_c_ptrs = (torch.tensor(x, device=DEVICE) for x in (a_addrs, b_addrs, c_addrs))
    d_g_sizes = torch.tensor(g_sizes, dtype=torch.int32, device=DEVICE)
    d_g_lds = torch.tensor(g_lds, dtype=torch.int32, device=DEVICE)
    grid = lambda META: (META["NUM_SM"], )
    grouped_matmul_kernel[grid](d_a_ptrs, d_b_ptrs, d_c_ptrs, d_g_sizes, d_g_lds, len(group_A))
    return group_C


group_m, group_n, group_k = [64, 96, 32, 128], [32, 64, 96, 64], [64, 32, 128, 96]
group_A = [torch.randn((m, k), device=DEVICE, dtype=torch.float16) for m, k in zip(group_m, group_k)]
group_B = [torch.randn((k, n), device=DEVICE, dtype=torch.float16) for k, n in zip(group_k, group_n)]
for _ in range(2):
    for A, B, C in zip(group_A, group_B, group_gemm_fn(group_A, group_B)):
        torch.testing.assert_close(C.float(), A.float() @ B.float(), atol=5e-2, rtol=1e-2)
print("NUM_SM", grouped_matmul_kernel.best_config.kwargs["NUM_SM"])
""", tmp_path)
    assert "NUM_SM" in out


@pytest.mark.slow_compile   # 18 s on lavapipe of Mesa 25 (cold)
def test_attention_forward(tmp_path):
    # Tutorial 06's forward kernel (examples/06_fused_attention.py's source, which bench/attention.py
    # also runs on Triton-CUDA) under @triton.jit, launched with torch CPU tensors; against torch's
    # scaled_dot_product_attention, causal and not.
    run_program(f"""
import sys
import torch
import triton

sys.path.insert(0, {str(ROOT / "bench")!r})
from attention import _triton_kernel

attn_fwd = _triton_kernel()
DEVICE = triton.runtime.driver.active.get_active_torch_device()
for causal, (Z, H, N_CTX, HEAD_DIM), (BLOCK_M, BLOCK_N, warps) in [(True, (1, 2, 128, 32), (64, 32, 4)),
                                                                    (False, (2, 1, 96, 16), (32, 16, 4))]:
    q, k, v = (torch.randn((Z, H, N_CTX, HEAD_DIM), device=DEVICE, dtype=torch.float16) for _ in range(3))
    o = torch.full_like(q, float("nan"))
    m = torch.full((Z * H, N_CTX), float("nan"), device=DEVICE)
    sm_scale = 0.5
    strides = [s for x in (q, k, v, o) for s in x.stride()]
    attn_fwd[(N_CTX // BLOCK_M, Z * H, 1)](q, k, v, sm_scale, m, o, *strides, Z, H, N_CTX=N_CTX, HEAD_DIM=HEAD_DIM,
                                          BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, STAGE=3 if causal else 1, num_warps=warps)
    want = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=causal,
                                                            scale=sm_scale)
    torch.testing.assert_close(o.float(), want, atol=1e-2, rtol=1e-2)
    s = (q.float() @ k.float().transpose(-1, -2)) * sm_scale
    if causal:
        s = s.masked_fill(~torch.ones(N_CTX, N_CTX, dtype=torch.bool).tril(), float("-inf"))
    torch.testing.assert_close(m, (torch.logsumexp(s, -1) / torch.log(torch.tensor(2.0))).reshape(Z * H, N_CTX),
                               atol=1e-3, rtol=1e-3)
""", tmp_path)


def test_pointer_table_analysis():
    from jitspv.lower.stored_args import pointer_table_arguments
    from jitspv.ttir.parser import parse
    module = parse("""
module {
  tt.func public @k(%ptrs: !tt.ptr<i64>, %sizes: !tt.ptr<i32>, %out: !tt.ptr<f32>, %base: i64) {
    %n = tt.load %sizes : !tt.ptr<i32>
    %p = tt.load %ptrs : !tt.ptr<i64>
    %q = arith.addi %p, %base : i64
    %src = tt.int_to_ptr %q : i64 -> !tt.ptr<f32>
    %x = tt.load %src : !tt.ptr<f32>
    %o = tt.addptr %out, %n : !tt.ptr<f32>, i32
    tt.store %o, %x : !tt.ptr<f32>
    tt.return
  }
}
""")
    assert pointer_table_arguments(module.functions[0]) == [0]
    # Integers made pointers, selected and stored back as integers: nothing is dereferenced.
    module = parse("""
module {
  tt.func public @k(%c: !tt.ptr<i1>, %a: !tt.ptr<i64>, %b: !tt.ptr<i64>, %out: !tt.ptr<i64>) {
    %d = tt.load %c : !tt.ptr<i1>
    %x = tt.load %a : !tt.ptr<i64>
    %y = tt.load %b : !tt.ptr<i64>
    %px = tt.int_to_ptr %x : i64 -> !tt.ptr<i32>
    %py = tt.int_to_ptr %y : i64 -> !tt.ptr<i32>
    %p = arith.select %d, %px, %py : !tt.ptr<i32>
    %v = tt.ptr_to_int %p : !tt.ptr<i32> -> i64
    tt.store %out, %v : !tt.ptr<i64>
    tt.return
  }
}
""")
    assert pointer_table_arguments(module.functions[0]) == []

