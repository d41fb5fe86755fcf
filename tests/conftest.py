"""Every test runs on lavapipe with the Vulkan validation layer on and spirv-val on each module.

The environment is set here, before anything imports jitspv (the device reads it once, lazily).
The autouse fixture fails a test after which the validation layer reported anything; a test that
provokes messages on purpose drains them itself with `validation_messages(clear=True)`.
"""
import os
import tempfile

os.environ["JITSPV_VALIDATION"] = os.environ.get("JITSPV_VALIDATION") or "1"
os.environ["JITSPV_SPIRV_VAL"] = "1"
os.environ.setdefault("JITSPV_DEVICE", "llvmpipe")
os.environ["JITSPV_CACHE_DIR"] = tempfile.mkdtemp(prefix="jitspv-test-cache-")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_validation_messages():
    yield
    from jitspv.vk import device
    if device._device is None and device._instance is None:
        return  # this test never touched Vulkan
    device.synchronize()
    messages = device.validation_messages(clear=True)
    if messages:
        pytest.fail("Vulkan validation reported:\n" + "\n".join(messages), pytrace=False)
