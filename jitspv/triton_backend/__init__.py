"""jitspv as a Triton backend: unmodified `@triton.jit` programs and torch CPU tensors run on Vulkan.

Registered in the `triton.backends` entry-point group (pyproject.toml), so Triton imports this
package's `compiler` and `driver` modules on every `import triton`, chosen or not. Both therefore
import nothing heavy at module level (no Vulkan, numpy or torch; Triton is still initializing) and
the driver reports itself inactive unless the user chose jitspv with `TRITON_SPIRV_BACKEND=1`
or `TRITON_DEFAULT_BACKEND=jitspv` (any Triton: where Triton ignores that variable, 3.6, the
other drivers step aside as for the first).

The stages are jitspv's own: Triton's frontend makes TTIR, jitspv's TTIR passes and lowering
(the ones `jitspv.jit` uses) make SPIR-V, and the launcher packs arguments and launches through
jitspv's CompiledKernel and Vulkan runtime.
"""
from __future__ import annotations

import os

BACKEND_NAME = "jitspv"


def chosen() -> bool:
    """True when the user asked Triton to run on jitspv."""
    flag = os.environ.get("TRITON_SPIRV_BACKEND", "").strip().lower()
    return flag not in ("", "0", "false", "no") or os.environ.get("TRITON_DEFAULT_BACKEND") == BACKEND_NAME


def target_arch(target) -> str:
    """Triton's `GPUTarget.arch` for a jitspv Target: a digest of every device fact that changes
    generated code, so Triton's cache never serves SPIR-V made for another device."""
    import hashlib
    return "spirv-" + hashlib.sha256(target.key().encode()).hexdigest()[:16]


# Importing this package before Triton (`from jitspv.triton_backend.compiler import ...` first)
# would otherwise let Triton's backend discovery, run inside that import, find our half-made
# module without its backend class. Triton first, here at the end: the names above exist by then.
import triton  # noqa: E402,F401
