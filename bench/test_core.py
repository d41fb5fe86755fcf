"""Triton's own language tests (test_core.py) on jitspv, as a new user would run them: Triton's
file unchanged, `@triton.jit` compiled by jitspv's Triton backend (TRITON_SPIRV_BACKEND=1), torch
CPU tensors, device "cpu", lavapipe (JITSPV_DEVICE as usual), every module through spirv-val.

    python bench/test_core.py PATH/TO/test_core.py [--every K] [pytest args...]

Triton's file is not part of jitspv (fetch it from triton-lang/triton,
python/test/unit/language/test_core.py, the version matching the installed Triton). `--every K`
runs every K-th collected item (a sample: the whole file is hours on lavapipe). Prints pytest's
summary and the failures grouped by their first error line, most frequent first. Not part of
the test suite.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_triton_backend import _registration  # noqa: E402  (jitspv's backend entry point)

CONFTEST = '''
import os
import pytest

@pytest.fixture
def device():
    return "cpu"

@pytest.fixture
def fresh_knobs():
    from triton import knobs
    from triton._internal_testing import _fresh_knobs_impl
    fresh, reset = _fresh_knobs_impl(skipped_attr={"build", "nvidia", "amd"})
    yield fresh()
    reset()

@pytest.fixture
def with_allocator():   # as Triton's python/test/conftest.py
    import triton
    from triton.runtime._allocation import NullAllocator
    from triton._internal_testing import default_alloc_fn
    triton.set_allocator(default_alloc_fn)
    try:
        yield
    finally:
        triton.set_allocator(NullAllocator())

def pytest_collection_modifyitems(config, items):
    every = int(os.environ.get("JITSPV_TEST_CORE_EVERY", "1"))
    items[:] = items[::every]
'''


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("test_core")
    ap.add_argument("--every", type=int, default=1)
    args, pytest_args = ap.parse_known_args()
    with tempfile.TemporaryDirectory(prefix="jitspv-test-core-") as tmp:
        tmp = Path(tmp)
        shutil.copy(args.test_core, tmp / "test_core.py")
        (tmp / "conftest.py").write_text(CONFTEST)
        env = dict(os.environ, COLUMNS="400", TRITON_SPIRV_BACKEND="1", JITSPV_SPIRV_VAL="1", JITSPV_TEST_CORE_EVERY=str(args.every),
                   TRITON_CACHE_DIR=str(tmp / "triton-cache"), JITSPV_CACHE_DIR=str(tmp / "jitspv-cache"))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_registration(tmp / "registration", False)), str(ROOT),
                                                          env.get("PYTHONPATH")]))
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", "--tb=line",
               "test_core.py", *pytest_args]
        done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
    out = done.stdout + done.stderr
    print("\n".join(line for line in out.splitlines()
                    if re.match(r"^(FAILED|ERROR|=+ .* =+$|\d+ (passed|failed|tests? collected)|.* in [\d.]+s$)", line)))
    causes = collections.Counter()
    for line in out.splitlines():
        m = re.match(r"^(?:FAILED|ERROR) \S+ - (.*)$", line)
        if m:
            causes[re.sub(r"\d+", "N", m.group(1))[:160]] += 1
    print("\nfailures by first error line:")
    for cause, n in causes.most_common():
        print(f"{n:5d}  {cause}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
