"""The compiler half of jitspv's Triton backend: options and stages (TTIR -> SPIR-V).

Imported by every `import triton`: module level imports Triton's backend base classes and
jitspv's option definitions only; the frontend, lowering and device load inside the stages.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib

from triton.backends.compiler import BaseBackend, GPUTarget

from jitspv.frontend.options import IGNORED_OPTIONS, TtirOptions
from jitspv.triton_backend import BACKEND_NAME, target_arch


def _options_hash(options) -> str:
    fields = sorted(dataclasses.asdict(options).items())
    return hashlib.sha256(repr(fields).encode()).hexdigest()


# Triton rejects a launch keyword that is not a field of the options (`_pack_args`), and programs
# pass other backends' options (tutorial 03: `matrix_instr_nonkdim`, `waves_per_eu`, `kpack` when
# the backend is not "cuda"): every ignored launch option is a field, kept and meaningless here.
# `warp_size` is what Triton's loader multiplies num_warps by (a Triton warp is 32 lanes).
JitspvOptions = dataclasses.make_dataclass(
    "JitspvOptions",
    [("warp_size", int, 32)] + [(name, object, None) for name in sorted(
        IGNORED_OPTIONS - {f.name for f in dataclasses.fields(TtirOptions)})],
    bases=(TtirOptions,), frozen=True, namespace={"hash": _options_hash, "__module__": __name__})


class JitspvBackend(BaseBackend):
    """Triton's compile driver runs its stages: "ttir" (Triton's frontend output plus the TTIR
    passes jitspv.jit runs) and "spv" (jitspv's lowering; its description travels in the metadata,
    which with the binary is all that Triton's cache keeps)."""

    @staticmethod
    def supports_target(target: GPUTarget):
        return target.backend == BACKEND_NAME

    def __init__(self, target: GPUTarget) -> None:
        super().__init__(target)
        self.binary_ext = "spv"

    @functools.lru_cache()
    def hash(self) -> str:
        from jitspv.frontend.jit import jitspv_fingerprint
        return f"{jitspv_fingerprint()}-{self.target.arch}"

    def parse_options(self, opts: dict):
        fields = JitspvOptions.__dataclass_fields__
        return JitspvOptions(**{k: v for k, v in opts.items() if k in fields and v is not None})

    def pack_metadata(self, metadata):
        return ()

    def get_codegen_implementation(self, options):
        from jitspv.frontend.triton_bridge import codegen_fns
        return codegen_fns()

    def get_module_map(self):
        from jitspv.frontend.triton_bridge import module_map
        return module_map()

    def load_dialects(self, context):
        pass   # TTIR only: Triton's own dialects are loaded already

    def add_stages(self, stages, options, language=None):
        # Triton 3.9 passes its Language enum; only Triton's own language has a TTIR stage here.
        if language is not None and getattr(language, "name", "TRITON") != "TRITON":
            raise NotImplementedError(f"jitspv compiles triton.language kernels, not {language.name.lower()}")
        stages["ttir"] = lambda src, metadata: self._make_ttir(src)
        stages["spv"] = lambda src, metadata: self._make_spv(src, metadata, options)
        # After the binary, like CUDA's ptx/cubin pair the other way round: Triton keeps each
        # stage's output in its cache and `.asm`, and finds the binary by its extension.
        stages["spvasm"] = lambda src, metadata: self._make_spvasm(src)

    @staticmethod
    def _make_ttir(module):
        from jitspv.frontend.triton_bridge import run_ttir_passes
        run_ttir_passes(module, module.context)
        return module

    def _make_spv(self, module, metadata, options) -> bytes:
        from jitspv.frontend import runtime as rt
        from jitspv.frontend.jit import lower_ttir
        target = rt.current_target()
        if target_arch(target) != self.target.arch:
            raise ValueError(f"jitspv compiles for the Vulkan device of this process ({target_arch(target)}), "
                             f"not for target {self.target.arch}")
        lowered = lower_ttir(module.str(), target, options)
        metadata["name"] = module.get_entry_func_name()
        metadata["shared"] = lowered.shared_bytes
        metadata["jitspv_kernel"] = lowered.to_json()
        return lowered.spirv

    @staticmethod
    def _make_spvasm(spirv: bytes) -> str:
        """`.asm["spvasm"]`: spirv-dis's text, or why there is none (the tool is optional)."""
        from jitspv.lower.spirv import SpirvToolMissing, disassemble
        try:
            return disassemble(spirv)
        except SpirvToolMissing as e:
            return f"; no disassembly: {e}\n"
