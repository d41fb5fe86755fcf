"""Facts about TTIR ops that the analyses and rules read, in one table: `has(op_name, FACT)`.

SAME_ENCODING  tensor operands and results share one encoding (assign.py propagates it through)
REMATERIALIZE  cheap and pure, single result: recomputed in the wanted encoding rather than moved
               through workgroup memory (LoweringContext.tensor)
PURE           no side effects and no regions: may be computed again for the next loop iteration
               (prefetch.py, the software pipelining of dot K loops)
BF16_EXACT     a bf16 (or fp8) result is already such a value (selection, sign, exact casts): not rounded
               again (rules/common.elementwise)
READS          reads global memory through its first operand (a pointer or tensor of pointers); a
               pointer it returns came from memory (stored_args.py; bounds checks, encoding anchors)
WRITES         writes global memory through its first operand (stored_args.py; bounds checks, anchors)

Every arith.* op has SAME_ENCODING and PURE, every math.* op SAME_ENCODING; the table adds the rest.
A missing entry is never wrong, only slower (a conversion through workgroup memory, no prefetch).
"""
from __future__ import annotations

SAME_ENCODING, REMATERIALIZE, PURE, BF16_EXACT = "same_encoding", "rematerialize", "pure", "bf16_exact"
READS, WRITES = "reads", "writes"

_DIALECT = {"arith": {SAME_ENCODING, PURE}, "math": {SAME_ENCODING}}

_S, _R, _P, _B, _RD, _WR = SAME_ENCODING, REMATERIALIZE, PURE, BF16_EXACT, READS, WRITES
_FACTS = {
    "arith.constant": {_R, _B},
    "arith.addi": {_R}, "arith.subi": {_R}, "arith.muli": {_R},
    "arith.andi": {_R}, "arith.ori": {_R}, "arith.xori": {_R},
    "arith.cmpi": {_R}, "arith.select": {_R, _B},
    "arith.extsi": {_R}, "arith.extui": {_R}, "arith.trunci": {_R},
    "arith.minsi": {_R}, "arith.maxsi": {_R},
    "arith.negf": {_B}, "arith.truncf": {_B}, "arith.bitcast": {_B},
    "arith.maxnumf": {_B}, "arith.minnumf": {_B}, "arith.maximumf": {_B}, "arith.minimumf": {_B},
    "math.absf": {_B}, "math.copysign": {_B}, "math.floor": {_B}, "math.ceil": {_B},
    "math.trunc": {_B}, "math.round": {_B}, "math.roundeven": {_B},
    "tt.splat": {_S, _R, _P},
    "tt.broadcast": {_R, _P},
    "tt.expand_dims": {_R, _P},
    "tt.make_range": {_R, _P},
    "tt.addptr": {_S, _R, _P},
    "tt.get_program_id": {_P}, "tt.get_num_programs": {_P},
    "tt.int_to_ptr": {_S, _P}, "tt.ptr_to_int": {_S, _P},
    "tt.bitcast": {_S, _P, _B},
    "tt.fp_to_fp": {_S, _B},
    "tt.clampf": {_S, _B},
    "tt.precise_sqrt": {_S}, "tt.precise_divf": {_S}, "tt.mulhiui": {_S}, "tt.extern_elementwise": {_S},
    "tt.load": {_S, _RD}, "tt.store": {_S, _WR}, "tt.atomic_rmw": {_S, _RD, _WR}, "tt.atomic_cas": {_S, _RD, _WR},
    "tt.atomic_load": {_S, _RD}, "tt.atomic_store": {_S, _WR}, "tt.atomic_poll": {_S, _RD},
    "tt.scan": {_S}, "tt.map_elementwise": {_S},
}


def has(op_name, fact):
    return fact in _FACTS.get(op_name, ()) or fact in _DIALECT.get(op_name.partition(".")[0], ())


def accesses_memory(op_name):
    """Reads or writes global memory through its first operand."""
    return has(op_name, READS) or has(op_name, WRITES)


def named_ops():
    """Every op the table names (tests check each has a lowering rule)."""
    return set(_FACTS)
