"""Launch and compile options: what Triton's frontend reads, and what is accepted and ignored.

Free of heavy imports (no Triton, numpy or Vulkan): the Triton backend (jitspv/triton_backend)
builds its options class from these while `import triton` is still running.
"""
from __future__ import annotations

import dataclasses
import os


def _default_dot_input_precision() -> str:
    # Same rule as Triton's backends: TRITON_F32_DEFAULT overrides, otherwise tf32.
    return os.environ.get("TRITON_F32_DEFAULT") or "tf32"


class NumWarpsNotPowerOfTwo(ValueError, AssertionError):
    """num_warps is not a power of 2: an AssertionError too, as Triton's CUDA and AMD backends
    raise it (code that catches theirs keeps working)."""


@dataclasses.dataclass(frozen=True)
class TtirOptions:
    """Everything Triton's frontend reads from its options object, with jitspv's defaults.

    Field names are Triton's (``semantic.py`` reads them as ``builder.options.<name>``), so an
    instance is handed to ``ast_to_ttir`` as it is.
    """

    num_warps: int = 4
    num_stages: int = 3
    num_ctas: int = 1
    debug: bool = False
    enable_fp_fusion: bool = True
    sanitize_overflow: bool = True
    # fp8e4b15 (Triton's own, lowered by a backend hook jitspv has not) and the FNUZ types are refused
    # by Triton's frontend, naming the type.
    supported_fp8_dtypes: tuple[str, ...] = ("fp8e5", "fp8e4nv")
    deprecated_fp8_dot_operand_dtypes: tuple[str, ...] = ()
    default_dot_input_precision: str = dataclasses.field(default_factory=_default_dot_input_precision)
    # Triton's list (3.9): every fp32 dot is computed in full fp32, at least as accurate as each asks.
    allowed_dot_input_precisions: tuple[str, ...] = ("tf32", "tf32x3", "ieee", "bf16x3", "bf16x6")
    max_num_imprecise_acc_default: int = 0
    # Only used by Triton in warning texts and by Gluon; names the target in those.
    arch: str = "spirv"
    backend_name: str = "jitspv"
    # jitspv's bounds debug mode (JITSPV_DEBUG=bounds, or the launch option); Triton does not read it.
    bounds_check: bool = False

    def __hash__(self):
        # Part of the key of every launch (jit.py): hashed once, the instance being frozen.
        found = self.__dict__.get("_hash")
        if found is None:
            found = hash(tuple(getattr(self, f.name) for f in dataclasses.fields(self)))
            object.__setattr__(self, "_hash", found)
        return found

    def __post_init__(self):
        if self.num_warps <= 0 or self.num_warps & (self.num_warps - 1):
            raise NumWarpsNotPowerOfTwo(f"num_warps must be a power of 2, got {self.num_warps}")
        if self.default_dot_input_precision not in self.allowed_dot_input_precisions:
            raise ValueError(f"default dot input precision {self.default_dot_input_precision!r} "
                             f"is not one of {self.allowed_dot_input_precisions}")


# Launch options Triton's `run` accepts. Those in TtirOptions reach the frontend and are part of
# the key; the others mean nothing on Vulkan and are accepted and ignored, as Triton's
# backends ignore options of other backends.
IGNORED_OPTIONS = frozenset({
    "maxnreg", "cluster_dims", "ptx_version", "launch_cooperative_grid", "launch_pdl", "extern_libs",
    "ir_override", "instrumentation_mode", "fpsan_homomorphic_casts", "waves_per_eu", "matrix_instr_nonkdim",
    "kpack", "schedule_hint", "arch", "backend_name", "enable_reflect_ftz", "num_buffers_warp_spec",
    "num_consumer_groups", "reg_dec_producer", "reg_inc_consumer",
})
