#!/usr/bin/env bash
# Runs the test suite on lavapipe with the Vulkan validation layer on (tests/conftest.py sets that up).
# With no arguments: the whole suite at lavapipe's default subgroup size (8), then the tests whose
# kernels depend on the subgroup size (reductions, scans, dots, shape ops) at 4 and 16
# (LP_NATIVE_VECTOR_WIDTH=128 and 512), then, where the system's lavapipe is older than Mesa 25
# (Debian 12), the suite but its slow_compile tests on Mesa 25's lavapipe (scripts/mesa25.sh).
# With arguments: pytest with those arguments, once.
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
# A second driver: Mesa 25's lavapipe has no loop limit, fp32 atomic min/max and Vulkan 1.4. Its
# compiler takes minutes for the largest kernels (slow_compile in pyproject.toml), left out here.
system=$(JITSPV_DEVICE=llvmpipe .venv/bin/python -c \
         "from jitspv.vk import get_device; print(get_device().properties.driver_info)")
major=$(echo "$system" | sed -n 's/^Mesa \([0-9]*\)\..*/\1/p')
. /etc/os-release
if [ "${major:-0}" -ge 25 ]; then
    echo "== no Mesa 25 run: the system's lavapipe is $system already"
elif [ "${VERSION_CODENAME:-}" != bookworm ]; then
    echo "== no Mesa 25 run: the system's lavapipe is $system, and scripts/mesa25.sh takes Mesa 25 from Debian 12's backports (this is ${PRETTY_NAME:-unknown})"
else
    echo "== lavapipe of Mesa 25 (scripts/mesa25.sh; the system's is $system), slow_compile tests left out"
    bash scripts/mesa25.sh .venv/bin/python -m pytest -q -m "not slow_compile"
fi
