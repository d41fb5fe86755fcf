"""Regenerates jitspv/vk/_vkffi.py, the out-of-line ABI-mode cffi module, from jitspv/vk/_cdef.py.

Run from the repository root: `python tools/gen_vk_ffi.py`. The generated module is committed so
that `import jitspv.vk` loads prebuilt type tables instead of parsing C (about 70 ms saved).
"""
import importlib.util
import os
import sys

import cffi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "jitspv", "vk")


def load_cdef() -> str:
    # Load the cdef file directly: importing jitspv.vk would need the module we are about to write.
    spec = importlib.util.spec_from_file_location("_cdef", os.path.join(OUT_DIR, "_cdef.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CDEF


def generate(target_dir: str) -> str:
    """Writes _vkffi.py into target_dir and returns its path."""
    ffibuilder = cffi.FFI()
    ffibuilder.cdef(load_cdef())
    ffibuilder.set_source("jitspv.vk._vkffi", None)
    path = os.path.join(target_dir, "_vkffi.py")
    ffibuilder.emit_python_code(path)
    return path


if __name__ == "__main__":
    print(generate(sys.argv[1] if len(sys.argv) > 1 else OUT_DIR))
