#!/usr/bin/env bash
# Runs the test suite on lavapipe with the Vulkan validation layer on (tests/conftest.py sets that up).
# With no arguments: the whole suite at lavapipe's default subgroup size (8), then the tests whose
# kernels depend on the subgroup size (reductions, scans, dots, shape ops) at 4 and 16
# (LP_NATIVE_VECTOR_WIDTH=128 and 512). With arguments: pytest with those arguments, once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -gt 0 ]; then
    exec .venv/bin/python -m pytest -q "$@"
fi
.venv/bin/python -m pytest -q
SUBGROUP_TESTS=(tests/test_lower_reduce.py tests/test_lower_scan.py tests/test_lower_shape.py
                tests/test_lower_dot.py
                tests/test_vk_runtime.py::test_lavapipe_subgroup_size_follows_lp_native_vector_width)
for width in 128 512; do
    echo "== subgroup size $((width / 32)) (LP_NATIVE_VECTOR_WIDTH=$width)"
    LP_NATIVE_VECTOR_WIDTH=$width .venv/bin/python -m pytest -q "${SUBGROUP_TESTS[@]}"
done
