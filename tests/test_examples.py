"""Every examples/*.py runs its correctness check (`--check`: compare with numpy, print the error,
no benchmark) in a fresh process on lavapipe with the validation layer on."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# Runs the example as __main__ with --check, then fails if the validation layer said anything.
_RUNNER = """
import runpy, sys
path = sys.argv[1]
sys.argv = [path, "--check"]
runpy.run_path(path, run_name="__main__")
from jitspv.vk import device
device.synchronize()
messages = device.validation_messages(clear=True)
if messages:
    sys.exit("Vulkan validation reported:\\n" + "\\n".join(messages))
"""


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_check(path):
    env = dict(os.environ)   # conftest has set lavapipe, the validation layer and spirv-val
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "error" in proc.stdout.lower(), "the example should print its error against numpy:\n" + out
