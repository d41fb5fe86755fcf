"""Binding freshness, device choice, timing and the `info` command."""
import json
import math
import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

import jitspv
import jitspv.testing
from jitspv.errors import DeviceNotSupported, VulkanError
from jitspv.lower.spirv.samples import vector_add_f32
from jitspv.vk import Event, Pipeline, get_device
from jitspv.vk.binding import check
from jitspv.vk.device import Instance

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_generated_ffi_module_matches_cdef(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import gen_vk_ffi
    finally:
        sys.path.pop(0)
    fresh = gen_vk_ffi.generate(str(tmp_path))
    with open(fresh) as a, open(os.path.join(ROOT, "jitspv", "vk", "_vkffi.py")) as b:
        assert a.read() == b.read(), "jitspv/vk/_vkffi.py is stale: run python tools/gen_vk_ffi.py"


def test_vulkan_errors_name_call_and_result():
    with pytest.raises(VulkanError, match=r"vkAllocateMemory failed with VK_ERROR_OUT_OF_DEVICE_MEMORY \(-2\)"):
        check("vkAllocateMemory", -2)
    assert check("vkWaitForFences", 2) == 2  # VK_TIMEOUT is a status, not an error


def test_device_choice_by_name_index_and_errors(monkeypatch):
    device = get_device()
    assert device.features.buffer_device_address and device.properties.max_push_constants_size >= 128
    instance = device.instance
    # The chosen device's name, in other case, chooses it (whatever device runs the tests).
    monkeypatch.setenv("JITSPV_DEVICE", device.name.swapcase())
    assert instance.choose().name == device.name
    monkeypatch.setenv("JITSPV_DEVICE", str(device.physical.index))
    assert instance.choose() is device.physical
    monkeypatch.setenv("JITSPV_DEVICE", "no-such-gpu")
    with pytest.raises(DeviceNotSupported, match=f"matches no device; devices: .*{device.physical.index}: "
                                                 f"{re.escape(device.name)}"):
        instance.choose()
    monkeypatch.setenv("JITSPV_DEVICE", "99")
    with pytest.raises(DeviceNotSupported, match="no device with that index"):
        instance.choose()
    assert isinstance(instance, Instance)


def test_events_measure_device_time():
    n = 1 << 20
    a = jitspv.asarray(np.random.default_rng(0).standard_normal(n, dtype=np.float32))
    out = jitspv.empty(n)
    p = Pipeline(get_device(), vector_add_f32(128), 28)
    args = struct.pack("<QQQI", a.data_ptr(), a.data_ptr(), out.data_ptr(), n)
    start, mid, end = (Event(get_device()) for _ in range(3))
    start.record()
    p.launch((n // 128,), args)
    mid.record()
    for _ in range(4):
        p.launch((n // 128,), args)
    end.record()
    one, four = start.elapsed_time(mid), mid.elapsed_time(end)
    assert 0 < one and 0 < four and math.isfinite(four)


def test_do_bench_returns_positive_finite_milliseconds():
    n = 4097
    a = jitspv.asarray(np.random.default_rng(1).standard_normal(n, dtype=np.float32))
    out = jitspv.empty(n)
    p = Pipeline(get_device(), vector_add_f32(128), 28)
    args = struct.pack("<QQQI", a.data_ptr(), a.data_ptr(), out.data_ptr(), n)

    def fn():
        p.launch(((n + 127) // 128,), args)

    mean = jitspv.testing.do_bench(fn, warmup=1, rep=5)
    q = jitspv.testing.do_bench(fn, warmup=1, rep=5, quantiles=[0.2, 0.5, 0.8])
    assert math.isfinite(mean) and mean > 0
    assert len(q) == 3 and all(math.isfinite(x) and x > 0 for x in q) and q[0] <= q[1] <= q[2]
    everything = jitspv.testing.do_bench(fn, warmup=1, rep=5, return_mode="all")
    assert len(everything) >= 1 and min(everything) > 0
    np.testing.assert_array_equal(out.numpy(), 2 * a.numpy())


def test_info_command():
    proc = subprocess.run([sys.executable, "-m", "jitspv", "info"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    device = get_device()
    for needle in (device.name, "Chosen device", "push constants",
                   f"{device.properties.max_push_constants_size} bytes", "subgroup size", "shared memory",
                   "cooperative matrix KHR", "fp16"):
        assert needle in proc.stdout, needle
    assert "Validation" not in proc.stdout + proc.stderr


def test_completion_callbacks_all_run_before_an_error_is_raised():
    import jitspv
    device = get_device()
    stream = device.stream
    x = jitspv.zeros(64)           # recorded work, so callbacks wait for its completion
    ran = []

    def failing():
        raise AssertionError("reported by a completion check")
    stream.defer(failing)
    stream.defer(lambda: ran.append(True))
    with pytest.raises(AssertionError, match="completion check"):
        device.synchronize()
    assert ran == [True]
    assert (x.numpy() == 0).all()  # the stream stays usable


def test_lavapipe_subgroup_size_follows_lp_native_vector_width():
    """scripts/test.sh runs reductions, scans, dots and shape ops again at LP_NATIVE_VECTOR_WIDTH=128
    and 512: this proves those runs had the subgroup size they were meant to have (4 and 16)."""
    from jitspv.frontend.runtime import current_target
    props = get_device().properties
    if props.driver_name != "llvmpipe":
        pytest.skip("not lavapipe")
    width = int(os.environ.get("LP_NATIVE_VECTOR_WIDTH", "256"))
    assert props.subgroup_size == width // 32 == current_target().subgroup_size


def test_lavapipe_is_the_mesa_version_asked_for():
    """scripts/test.sh runs the suite again on Mesa 25's lavapipe, unpacked by scripts/mesa25.sh,
    which sets JITSPV_TEST_MESA_VERSION to the package's version: this proves that run used that
    driver and not the system's."""
    want = os.environ.get("JITSPV_TEST_MESA_VERSION")
    if not want:
        pytest.skip("no Mesa version asked for (JITSPV_TEST_MESA_VERSION)")
    props = get_device().properties
    assert (props.driver_name, props.driver_info.split(" ")[:2]) == ("llvmpipe", ["Mesa", want])


_STATISTICS_CHILD = r'''
import json, sys, numpy as np, jitspv, triton.language as tl
from pathlib import Path
from jitspv.vk import get_device

@jitspv.jit
def twice(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=offs < n) * 2, mask=offs < n)

x = np.random.rand(1000).astype(np.float32)
out = np.full_like(x, np.nan)
twice[(4,)](x, out, 1000, BLOCK=256)
assert np.array_equal(out, x * 2)
device = get_device()
dumped = [json.loads(p.read_text()) for p in Path(sys.argv[1]).glob("twice-*.json")]
texts = [p.name for p in Path(sys.argv[1]).glob("twice-*.driver-*.txt")]
print(json.dumps({"has": "VK_KHR_pipeline_executable_properties" in device.extensions,
                  "enabled": device.features.pipeline_statistics,
                  "statistics": dumped[0]["driver_statistics"], "texts": texts}))
'''


@pytest.mark.parametrize("requested", ["1", ""])
def test_pipeline_statistics_are_the_drivers_where_requested(tmp_path, requested):
    """JITSPV_PIPELINE_STATS=1 enables VK_KHR_pipeline_executable_properties where the device has
    it: every pipeline then keeps the driver's statistics (JITSPV_DUMP writes them, and the driver's
    text forms of the shader); unset, or on a device without it (lavapipe), there are none and
    the extension stays off."""
    child = tmp_path / "child.py"
    child.write_text(_STATISTICS_CHILD)
    env = dict(os.environ, JITSPV_PIPELINE_STATS=requested, JITSPV_DUMP=str(tmp_path / "dump"),
               JITSPV_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, str(child), str(tmp_path / "dump")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.splitlines()[-1])
    assert got["enabled"] == (got["has"] and requested == "1")
    if got["enabled"]:
        assert got["statistics"] and all(isinstance(v, (int, float, bool)) for v in got["statistics"].values())
    else:
        assert got["statistics"] == {} and got["texts"] == []
