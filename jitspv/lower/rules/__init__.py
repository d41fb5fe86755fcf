"""Lowering rules, one small function per TTIR op, registered in jitspv.lower.registry.LOWERINGS.
Importing this package registers them all."""
from jitspv.lower.rules import arith, mathfn, tensor, memory, reduce, scan, control, dot, assert_, print_  # noqa: F401
