"""Vector add through the runtime: correctness over odd sizes, offsets, batching, error recovery."""
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import jitspv
from jitspv.errors import InvalidSpirv, OutOfResources
from jitspv.lower.spirv.samples import VECTOR_ADD_F32_PUSH_CONSTANT_SIZE, vector_add_f32
from jitspv.vk import Pipeline, get_device, stream

LOCAL = 128


@pytest.fixture(scope="module")
def vadd():
    return Pipeline(get_device(), vector_add_f32(LOCAL), VECTOR_ADD_F32_PUSH_CONSTANT_SIZE)


def launch_add(pipeline, a_ptr, b_ptr, out_ptr, n):
    pipeline.launch(((n + LOCAL - 1) // LOCAL, 1, 1), struct.pack("<QQQI", a_ptr, b_ptr, out_ptr, n))


@pytest.mark.parametrize("n", [1, 7, 127, 128, 129, 4097, 1_000_003])
def test_vector_add(vadd, n):
    rng = np.random.default_rng(n)
    a = rng.standard_normal(n, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    A, B = jitspv.asarray(a), jitspv.asarray(b)
    out = jitspv.full(n + 5, np.nan, dtype=np.float32)  # the tail past n must stay untouched
    launch_add(vadd, A.data_ptr(), B.data_ptr(), out.data_ptr(), n)
    got = out.numpy()
    np.testing.assert_array_equal(got[:n], a + b)
    assert np.isnan(got[n:]).all()


def test_vector_add_offset_pointers(vadd):
    rng = np.random.default_rng(1)
    n, off_a, off_b, off_o = 1001, 13, 3, 77
    a = rng.standard_normal(2000, dtype=np.float32)
    b = rng.standard_normal(2000, dtype=np.float32)
    A, B = jitspv.asarray(a), jitspv.asarray(b)
    out = jitspv.full(2000, np.nan)
    launch_add(vadd, A[off_a:].data_ptr(), B.data_ptr() + 4 * off_b, out[off_o:].data_ptr(), n)
    got = out.numpy()
    np.testing.assert_array_equal(got[off_o:off_o + n], a[off_a:off_a + n] + b[off_b:off_b + n])
    assert np.isnan(got[:off_o]).all() and np.isnan(got[off_o + n:]).all()


def test_many_launches_then_one_read(vadd):
    # More launches than the batch limit and the ring: exercises submit-at-limit and ring wraparound.
    n = 333
    rng = np.random.default_rng(2)
    ones = jitspv.asarray(np.ones(n, np.float32))
    acc = jitspv.asarray(rng.standard_normal(n, dtype=np.float32))
    start = acc.numpy()
    count = stream.BATCH_LIMIT * (stream.RING_SIZE + 1) + 17
    serial = get_device().stream.submitted_serial
    for _ in range(count):  # acc += 1, each launch depending on the previous one
        launch_add(vadd, acc.data_ptr(), ones.data_ptr(), acc.data_ptr(), n)
    assert get_device().stream.submitted_serial - serial >= stream.RING_SIZE + 1
    np.testing.assert_allclose(acc.numpy(), start + count, rtol=1e-6)


def test_large_grid_split_into_dispatch_base(vadd, monkeypatch):
    # Pretend the device allows only 5 workgroups per dimension: WorkgroupId must stay global.
    n = 23 * LOCAL + 9
    a = np.arange(n, dtype=np.float32)
    A = jitspv.asarray(a)
    out = jitspv.full(n, np.nan)
    monkeypatch.setattr(vadd, "_max_groups", (5, 5, 5))
    launch_add(vadd, A.data_ptr(), A.data_ptr(), out.data_ptr(), n)
    np.testing.assert_array_equal(out.numpy(), 2 * a)


def test_oversized_push_constants_raise_out_of_resources(vadd):
    limit = get_device().properties.max_push_constants_size
    with pytest.raises(OutOfResources) as info:
        Pipeline(get_device(), vector_add_f32(LOCAL), limit + 4)
    assert info.value.required == limit + 4 and info.value.limit == limit and "push constants" in str(info.value)
    # The runtime stays usable.
    test_vector_add(vadd, 129)


def test_bad_spirv_is_rejected_and_runtime_survives(vadd):
    good = vector_add_f32(LOCAL)
    with pytest.raises(InvalidSpirv):
        Pipeline(get_device(), b"\x01\x02\x03", 28)  # not even words
    words = bytearray(good)
    words[20:24] = struct.pack("<I", 0xFFFF)  # first instruction: unknown opcode
    with pytest.raises(InvalidSpirv, match="spirv-val"):
        Pipeline(get_device(), bytes(words), 28)
    test_vector_add(vadd, 7)


_DRIVER_REJECTION = """
import struct, sys
import numpy as np
import jitspv
from jitspv.errors import InvalidSpirv
from jitspv.lower.spirv.samples import vector_add_f32
from jitspv.vk import Pipeline, get_device
words = bytearray(vector_add_f32(128))
words[20:24] = struct.pack("<I", 0xFFFF)
try:
    Pipeline(get_device(), bytes(words), 28)
except InvalidSpirv as e:
    print("REJECTED:", e)
a = np.random.default_rng(0).standard_normal(300, dtype=np.float32)
A, out = jitspv.asarray(a), jitspv.full(300, np.nan)
Pipeline(get_device(), vector_add_f32(128), 28).launch((3, 1, 1), struct.pack("<QQQI", A.data_ptr(), A.data_ptr(), out.data_ptr(), 300))
print("USABLE:", bool((out.numpy() == 2 * a).all()))
"""


def test_bad_spirv_without_spirv_val_is_a_driver_error():
    # In a child process without the validation layer: the layer itself aborts on this module
    # (std::bad_alloc), while lavapipe rejects it with VK_ERROR_UNKNOWN, which must surface clearly.
    env = dict(os.environ, JITSPV_VALIDATION="0", JITSPV_SPIRV_VAL="0")
    proc = subprocess.run([sys.executable, "-c", _DRIVER_REJECTION], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "REJECTED: the driver rejected the SPIR-V module: vkCreateComputePipelines failed with" in proc.stdout
    assert "USABLE: True" in proc.stdout


def test_pipeline_cache_saved_and_reloaded(vadd):
    device = get_device()
    cache = device.pipeline_cache
    cache.dirty = True
    cache.save()
    assert os.path.getsize(cache.path) > 40
    assert cache._load()  # a valid file is accepted
    with open(cache.path, "r+b") as f:  # truncate: must be ignored, not crash
        f.truncate(50)
    assert cache._load() == b""
