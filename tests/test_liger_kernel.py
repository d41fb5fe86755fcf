"""Liger-Kernel (0.8.5, a library of Triton kernels for LLM training) as published: its ops run on
jitspv as Triton's backend with torch CPU tensors, forward and backward, matching torch."""
import json

import pytest

from liger_cases import CASES
from test_triton_backend import run_program

IDS = [f"{case.__name__}-{dtype}" for case, dtype in CASES]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = run_program("import liger_cases\nliger_cases.run_all()\n", tmp_path_factory.mktemp("liger"))
    line = next(line for line in out.splitlines() if line.startswith("LIGER "))
    return json.loads(line[len("LIGER "):])


@pytest.mark.parametrize("case", IDS)
def test_liger_op_matches_torch(results, case):
    got = results[case]
    assert not isinstance(got, str), got
    error, allowed = got
    assert error <= allowed, f"{case}: max error {error} above {allowed}"
