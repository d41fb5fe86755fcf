"""SPIR-V emission: the module builder, generated grammar tables, SPIRV-Tools wrappers, samples.

See jitspv/lower/spirv/builder.py for the builder's API.
"""
from jitspv.lower.spirv.builder import Function, Module, TypeInfo, string_words
from jitspv.lower.spirv.grammar import (
    GLSL, AddressingModel, BuiltIn, Capability, Decoration, ExecutionMode, ExecutionModel,
    FPFastMathMode, FunctionControl, GroupOperation, LoopControl, MemoryAccess, MemoryModel,
    MemorySemantics, Op, Scope, SelectionControl, StorageClass,
)
from jitspv.lower.spirv.tools import SpirvToolError, SpirvToolMissing, disassemble, to_glsl, validate

__all__ = [
    "Function", "Module", "TypeInfo", "string_words",
    "GLSL", "AddressingModel", "BuiltIn", "Capability", "Decoration", "ExecutionMode", "ExecutionModel",
    "FPFastMathMode", "FunctionControl", "GroupOperation", "LoopControl", "MemoryAccess", "MemoryModel",
    "MemorySemantics", "Op", "Scope", "SelectionControl", "StorageClass",
    "SpirvToolError", "SpirvToolMissing", "disassemble", "to_glsl", "validate",
]
