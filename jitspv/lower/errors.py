"""Compile errors raised by the lowering: Triton's own CompilationError, so code that catches
Triton's errors keeps working, with the kernel's file:line and source text."""
from __future__ import annotations

import linecache

from triton.compiler.errors import CompilationError
from triton.runtime.errors import OutOfResources as TritonOutOfResources

from jitspv.errors import OutOfResources as JitspvOutOfResources


class LoweringError(CompilationError):
    def __init__(self, message: str, loc=None):
        where = " <source unavailable>"
        if loc is not None and getattr(loc, "file", None):
            text = linecache.getline(loc.file, loc.line).rstrip()
            where = f"{loc.file}:{loc.line}:{loc.col}:\n{text}\n{' ' * max(0, loc.col - 1)}^"
        super().__init__(where, None, message)
        self.loc = loc

    def __reduce__(self):
        return type(self), (self.error_message, self.loc)


class OutOfResources(JitspvOutOfResources, TritonOutOfResources):
    """A kernel needs more of a device resource than the target has: jitspv's error (jitspv.autotune
    skips such configs) and Triton's (code written for Triton catches it), with jitspv's message.
    `needs`: (who, amount) pairs that make up `required`, named in the message."""

    __str__ = Exception.__str__

    def __init__(self, required: int, limit: int, name: str, needs=()):
        super().__init__(required, limit, name)
        self.needs = tuple(needs)
        if self.needs:
            Exception.__init__(self, f"{self.args[0]} ({', '.join(f'{who}: {n}' for who, n in self.needs)})")

    def __reduce__(self):
        return type(self), (self.required, self.limit, self.name, self.needs)
