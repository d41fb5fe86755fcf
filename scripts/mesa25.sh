#!/usr/bin/env bash
# Mesa 25's lavapipe as a second driver, for Debian 12 machines whose own lavapipe is Mesa 22.3.
# Usage: scripts/mesa25.sh [COMMAND...]
# Downloads Debian bookworm-backports' mesa-vulkan-drivers (Mesa 25.0.7) once and unpacks it into
# .mesa25/ (a later run only checks it is there); then runs COMMAND with the Vulkan loader pointed
# at that lavapipe alone (VK_DRIVER_FILES), e.g. `bash scripts/mesa25.sh .venv/bin/python -m jitspv
# info`. Without COMMAND it prints the environment to set by hand.
# Nothing is installed: apt runs with a private configuration (its sources, lists and cache under
# .mesa25/apt), and the package is only unpacked (dpkg-deb -x). Backports builds this Mesa against
# Debian 12's LLVM 15, and the libdrm symbols lavapipe uses are in Debian 12's libdrm, so it needs
# no other package; the check below says so if a library is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$PWD/.mesa25
# .mesa25/version is written last: without it, the download or unpacking did not complete.
if [ ! -f "$dir/version" ]; then
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" != bookworm ]; then
    echo "mesa25: the packages come from Debian 12 (bookworm) backports; this is ${PRETTY_NAME:-unknown}" >&2
    exit 1
  fi
  echo "mesa25: downloading mesa-vulkan-drivers from bookworm-backports into .mesa25/"
  rm -rf "$dir"
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial"
  echo "deb http://deb.debian.org/debian bookworm-backports main" > "$dir/apt/sources.list"
  apt=(-q -o "Dir::Etc::SourceList=$dir/apt/sources.list" -o Dir::Etc::SourceParts=-
       -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache"
       -o "APT::Sandbox::User=$(id -un)")
  apt-get "${apt[@]}" --error-on=any update >/dev/null
  (cd "$dir/apt" && apt-get "${apt[@]}" download mesa-vulkan-drivers/bookworm-backports >/dev/null)
  deb=$(echo "$dir"/apt/mesa-vulkan-drivers_*.deb)
  version=$(dpkg-deb -f "$deb" Version)
  if [ "${version%%.*}" -lt 25 ]; then
    echo "mesa25: bookworm-backports has mesa-vulkan-drivers $version, not Mesa 25 or later" >&2
    exit 1
  fi
  dpkg-deb -x "$deb" "$dir/root"
  rm -rf "$dir/apt"
  missing=$(ldd "$(find "$dir/root" -name libvulkan_lvp.so)" | grep 'not found' || true)
  if [ -n "$missing" ]; then
    echo "mesa25: Mesa 25's lavapipe needs libraries this system lacks:" >&2
    echo "$missing" >&2
    exit 1
  fi
  echo "$version" > "$dir/version"
fi
# The loader finds the driver through its manifest: the package's names the library alone (to be
# found in the system's directories), this one the unpacked file (written each time: the
# repository may have moved).
lib=$(find "$dir/root" -name libvulkan_lvp.so)
api=$(sed -n 's/.*"api_version": *"\([0-9.]*\)".*/\1/p' "$dir/root/usr/share/vulkan/icd.d/lvp_icd.json")
icd=$dir/lvp_icd.json
printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "%s"}}\n' "$lib" "$api" > "$icd"
# JITSPV_TEST_MESA_VERSION: tests/test_vk_runtime.py checks that the tests ran on this driver.
export VK_DRIVER_FILES=$icd JITSPV_DEVICE=llvmpipe JITSPV_TEST_MESA_VERSION=$(cat "$dir/version")
if [ $# -eq 0 ]; then
  echo "VK_DRIVER_FILES=$VK_DRIVER_FILES JITSPV_DEVICE=$JITSPV_DEVICE JITSPV_TEST_MESA_VERSION=$JITSPV_TEST_MESA_VERSION"
  exit 0
fi
exec "$@"
