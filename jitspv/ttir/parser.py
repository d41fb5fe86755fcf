"""TTIR text (as Triton's ``module.str()`` / ``str_nodebug()`` print it) -> jitspv.ttir.ir.

Triton's Python binding prints only the custom assembly form (MLIR's generic-form printer is
not exposed in 3.6 or 3.9), so this parses the custom formats of the ops TTIR contains, plus
the generic form (``"tt.reduce"(...) <{...}> ({...}) : (...) -> ...``), which Triton uses for
some ops and which jitspv's printer writes. Each custom format lives in one function found by
op name in ``CUSTOM``; an op not there and not in generic form raises ``TtirParseError``.
"""

from __future__ import annotations

import re

from jitspv.ttir import ir


class TtirParseError(ValueError):
    """`loc`: the kernel source location of the op being parsed, where the TTIR gives one."""

    def __init__(self, message: str, text: str, pos: int, loc: ir.Location | None = None):
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        src = text.splitlines()[line - 1] if text.splitlines() else ""
        self.line, self.col, self.loc, self.message = line, col, loc, message
        super().__init__(f"TTIR line {line}, column {col}: {message}\n  {src}\n  {' ' * (col - 1)}^")


# Integer values of the enums that custom formats print as keywords (arith's CmpIPredicate /
# CmpFPredicate are i64; Triton's are i32 and the same in 3.6 and 3.9).
CMPI = ["eq", "ne", "slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"]
CMPF = ["false", "oeq", "ogt", "oge", "olt", "ole", "one", "ord", "ueq", "ugt", "uge", "ult", "ule", "une", "uno",
        "true"]
TT_ENUMS = {
    "cache": {"none": 1, "ca": 2, "cg": 3, "wb": 4, "cs": 5, "wt": 6, "cv": 7},
    "evict": {"evict_normal": 1, "evict_first": 2, "evict_last": 3},
    "sem": {"relaxed": 1, "acquire": 2, "release": 3, "acq_rel": 4},
    "scope": {"gpu": 1, "cta": 2, "sys": 3},
    "atomic_rmw_op": {"and": 1, "or": 2, "xor": 3, "add": 4, "fadd": 5, "max": 6, "min": 7, "umax": 8, "umin": 9,
                      "exch": 10},
    "inputPrecision": {"tf32": 0, "tf32x3": 1, "ieee": 2, "bf16x3": 3, "bf16x6": 4},
    "rounding": {"rtz": 0, "rtne": 1},
    "axis": {"x": 0, "y": 1, "z": 2},
    "propagateNan": {"none": 0, "all": 0xFFFF},
}
# Keyword spelled in custom form -> attribute name (tt.load/tt.store in 3.6).
KEYWORD_ATTRS = {"cacheModifier": "cache", "evictionPolicy": "evict", "inputPrecision": "inputPrecision",
                 "maxNumImpreciseAcc": "maxNumImpreciseAcc", "rounding": "rounding"}
I32, I64 = ir.IntType(32), ir.IntType(64)

FLOAT_TYPES = {"f16", "bf16", "f32", "f64", "tf32", "f8E4M3FN", "f8E5M2", "f8E4M3FNUZ", "f8E5M2FNUZ", "f8E4M3B11FNUZ",
               "f8E4M3", "f8E8M0FNU", "f4E2M1FN", "f6E2M3FN", "f6E3M2FN"}

_IDENT = re.compile(r"[A-Za-z_][\w$.]*")
_VALUE = re.compile(r"%[\w$.\-]+")
_NUMBER = re.compile(r"-?0x[0-9a-fA-F]+|-?\d+(\.\d*)?([eE][+-]?\d+)?|[+-]?(inf|nan)")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_WS = re.compile(r"(?:\s+|//[^\n]*)+")
_MORE_USES = re.compile(r"\s*,\s*%")


def _unescape(s: str) -> str:
    return re.sub(r"\\([0-9A-Fa-f]{2}|.)",
                  lambda m: chr(int(m.group(1), 16)) if len(m.group(1)) == 2 else m.group(1), s)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.scopes: list[dict[str, ir.Value]] = []
        self.labels: list[dict[str, ir.Block]] = []   # per region: ^bbN -> its block (used before defined)
        self.loc_aliases: dict[str, object] = {}
        self.attr_aliases: dict[str, str] = {}   # "#name" -> the attribute's text, aliases in it expanded
        self.pending_locs: list[tuple[object, object]] = []  # (owner, raw location) resolved at the end

    # --------------------------------------------------------------------- lexing helpers
    def error(self, message: str, pos: int | None = None, loc: ir.Location | None = None):
        raise TtirParseError(message, self.text, self.pos if pos is None else pos, loc)

    def op_location(self, pos: int) -> ir.Location | None:
        """The kernel source location of the op whose text starts at `pos`: the ``loc(...)`` ending
        its line, its aliases read from the whole text (they follow the module)."""
        end = self.text.find("\n", pos)
        at = self.text.rfind(" loc(", pos, len(self.text) if end < 0 else end)
        if at < 0:
            return None
        probe = _Parser(self.text)
        try:
            probe.pos = at
            raw = probe.location_raw()
            for m in re.finditer(r"^(#\w+)\s*=\s*(?=loc\()", self.text, re.M):
                probe.pos = m.end()
                probe.loc_aliases[m.group(1)] = probe.location_raw()
            return probe.resolve(raw)
        except TtirParseError:
            return None

    def ws(self):
        m = _WS.match(self.text, self.pos)
        if m:
            self.pos = m.end()

    def peek(self, s: str) -> bool:
        self.ws()
        return self.text.startswith(s, self.pos)

    def accept(self, s: str) -> bool:
        if self.peek(s):
            if s[-1].isalnum() and self.pos + len(s) < len(self.text) and \
                    (self.text[self.pos + len(s)].isalnum() or self.text[self.pos + len(s)] in "_."):
                return False
            self.pos += len(s)
            return True
        return False

    def expect(self, s: str):
        if not self.accept(s):
            self.error(f"expected '{s}', found {self.text[self.pos:self.pos + 20]!r}")

    def match(self, pattern: re.Pattern):
        self.ws()
        m = pattern.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return m

    def ident(self) -> str:
        m = self.match(_IDENT)
        if not m:
            self.error(f"expected a keyword, found {self.text[self.pos:self.pos + 20]!r}")
        return m.group(0)

    def string(self) -> str:
        m = self.match(_STRING)
        if not m:
            self.error("expected a string")
        return _unescape(m.group(1))

    def integer(self) -> int:
        m = self.match(re.compile(r"-?\d+"))
        if not m:
            self.error("expected an integer")
        return int(m.group(0))

    def comma_list(self, item, close: str, open_: str | None = None) -> list:
        if open_:
            self.expect(open_)
        out = []
        if self.accept(close):
            return out
        while True:
            out.append(item())
            if self.accept(close):
                return out
            self.expect(",")

    # --------------------------------------------------------------------------- types
    def type(self) -> ir.Type:
        self.ws()
        start = self.pos
        if self.accept("!tt.ptr"):
            self.expect("<")
            pointee = self.type()
            space = self.integer() if self.accept(",") else 1
            self.expect(">")
            return ir.PointerType(pointee, space)
        if self.accept("!tt.tensordesc"):
            self.expect("<")
            block = self.type()
            self.expect(">")
            return ir.TensorDescType(block)
        if self.accept("tensor"):
            self.expect("<")
            dims = []
            while True:
                m = self.match(re.compile(r"(\d+)x"))
                if not m:
                    break
                dims.append(int(m.group(1)))
            element = self.type()
            if self.peek(","):
                self.error("tensor encodings do not occur in TTIR")
            self.expect(">")
            return ir.TensorType(tuple(dims), element)
        if self.peek("("):
            inputs = self.comma_list(self.type, ")", "(")
            self.expect("->")
            results = self.comma_list(self.type, ")", "(") if self.peek("(") else [self.type()]
            return ir.FunctionType(tuple(inputs), tuple(results))
        m = self.match(re.compile(r"i(\d+)\b"))
        if m:
            return ir.IntType(int(m.group(1)))
        m = self.match(_IDENT)
        if m and m.group(0) in FLOAT_TYPES:
            return ir.FloatType(m.group(0))
        if m and m.group(0) == "index":
            return ir.IndexType()
        self.error(f"unknown type {self.text[start:start + 30]!r}", start)

    def types(self) -> list[ir.Type]:
        out = [self.type()]
        while self.accept(","):
            out.append(self.type())
        return out

    def paren_types(self) -> list[ir.Type]:
        return self.comma_list(self.type, ")", "(") if self.peek("(") else [self.type()]

    # ---------------------------------------------------------------------- attributes
    def attribute(self, type_hint: ir.Type | None = None):
        self.ws()
        start = self.pos
        if self.accept("dense"):
            self.expect("<")
            body_start = self.pos
            values = self.dense_values()
            text = self.text[body_start:self.pos].strip()
            self.expect(">")
            self.expect(":")
            ty = self.type()
            if isinstance(ty.element_type, ir.FloatType):
                values = _dense_floats(values, ty.element_type)
            return ir.DenseAttr(ty, values, text)
        if self.accept("array"):
            self.expect("<")
            element = self.type()
            values = []
            if self.accept(":"):
                values = [self.integer()]
                while self.accept(","):
                    values.append(self.integer())
            self.expect(">")
            return ir.DenseArrayAttr(element, tuple(values))
        if self.peek("["):
            return ir.ArrayAttr(tuple(self.comma_list(self.attribute, "]", "[")))
        if self.peek("{"):
            return ir.DictAttr(tuple(self.attr_dict()))
        if self.peek('"'):
            return ir.StrAttr(self.string())
        if self.peek("@"):
            return ir.SymbolRefAttr(self.symbol())
        if self.peek("#"):
            text = self.balanced_token()
            return ir.OpaqueAttr(self.attr_aliases.get(text, text))
        if self.accept("true"):
            return ir.BoolAttr(True)
        if self.accept("false"):
            return ir.BoolAttr(False)
        if self.accept("unit"):
            return ir.UnitAttr()
        m = self.match(_NUMBER)
        if m:
            text = m.group(0)
            ty = self.type() if self.accept(":") else (type_hint or I64)
            return self.number_attr(text, ty)
        if self.peek("!") or self.peek("tensor") or self.peek("(") or re.match(r"[if]\d", self.text[self.pos:]):
            return ir.TypeAttr(self.type())
        self.error(f"unknown attribute syntax {self.text[start:start + 30]!r}", start)

    @staticmethod
    def number_attr(text: str, ty: ir.Type):
        if isinstance(ty, ir.FloatType):
            return ir.FloatAttr(_float_value(text, ty), ty, text)
        return ir.IntAttr(int(text, 0), ty)

    def dense_values(self):
        if self.peek("["):
            return self.comma_list(self.dense_values, "]", "[")
        if self.accept("true"):
            return True
        if self.accept("false"):
            return False
        if self.peek('"'):
            return self.string()
        m = self.match(_NUMBER)
        if not m:
            self.error("expected a dense element")
        text = m.group(0)
        if re.fullmatch(r"-?0x[0-9a-fA-F]+", text):
            return _HexBits(int(text, 16))
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)

    def balanced_token(self) -> str:
        """``#dialect.name<...>`` or ``#dialect<...>`` kept as text."""
        start = self.pos
        m = self.match(re.compile(r"#[\w.]+"))
        if not m:
            self.error("expected a dialect attribute")
        if self.text.startswith("<", self.pos):
            depth = 0
            while self.pos < len(self.text):
                c = self.text[self.pos]
                depth += c == "<"
                depth -= c == ">"
                self.pos += 1
                if depth == 0:
                    break
        return self.text[start:self.pos]

    def attr_dict(self) -> list[tuple[str, object]]:
        def entry():
            self.ws()
            name = self.string() if self.peek('"') else self.ident()
            return (name, self.attribute()) if self.accept("=") else (name, ir.UnitAttr())
        return self.comma_list(entry, "}", "{")

    def symbol(self) -> str:
        self.expect("@")
        if self.peek('"'):
            return self.string()
        return self.ident()

    # ------------------------------------------------------------------------ locations
    def location_raw(self):
        """Parses ``loc(...)`` into a nested tuple resolved once all #loc aliases are known."""
        self.expect("loc")
        self.expect("(")
        raw = self.loc_body()
        self.expect(")")
        return raw

    def loc_body(self):
        self.ws()
        if self.peek("#"):
            return ("alias", self.match(re.compile(r"#[\w]+")).group(0))
        if self.accept("unknown"):
            return None
        if self.accept("callsite"):
            self.expect("(")
            callee = self.loc_body()
            self.expect("at")
            caller = self.loc_body()
            self.expect(")")
            return ("callsite", callee, caller)
        if self.accept("fused"):
            if self.peek("<"):
                self.balanced_token_plain()
            parts = self.comma_list(self.loc_body, "]", "[")
            return ("fused", parts)
        if self.peek('"'):
            s = self.string()
            if self.accept("("):
                child = self.loc_body()
                self.expect(")")
                return ("name", s, child)
            if self.accept(":"):
                line = self.integer()
                self.expect(":")
                col = self.integer()
                if self.accept("to"):
                    self.error("location ranges are not used by TTIR")
                return ("file", s, line, col)
            return ("name", s, None)
        self.error("unknown location syntax")

    def balanced_token_plain(self):
        depth = 0
        while self.pos < len(self.text):
            c = self.text[self.pos]
            depth += c == "<"
            depth -= c == ">"
            self.pos += 1
            if depth == 0:
                return

    def maybe_loc(self, owner):
        if self.peek("loc("):
            self.pending_locs.append((owner, self.location_raw()))

    def resolve(self, raw, seen=()):
        if raw is None:
            return None
        kind = raw[0]
        if kind == "alias":
            if raw[1] in seen or raw[1] not in self.loc_aliases:
                raise TtirParseError(f"undefined location alias {raw[1]}", self.text, len(self.text))
            return self.resolve(self.loc_aliases[raw[1]], seen + (raw[1],))
        if kind == "file":
            return ir.Location(raw[1], raw[2], raw[3])
        if kind == "name":
            inner = self.resolve(raw[2], seen)
            return ir.Location(inner.file, inner.line, inner.col, raw[1]) if inner else None
        if kind == "callsite":
            return self.resolve(raw[1], seen) or self.resolve(raw[2], seen)
        for part in raw[1]:
            loc = self.resolve(part, seen)
            if loc:
                return loc
        return None

    # ------------------------------------------------------------------- values, scopes
    def use(self) -> ir.Value:
        self.ws()
        start = self.pos
        m = self.match(_VALUE)
        if not m:
            self.error("expected an SSA value")
        name = m.group(0)
        index = 0
        if self.text.startswith("#", self.pos):
            self.pos += 1
            index = self.integer()
        for scope in reversed(self.scopes):
            if name in scope:
                v = scope[name]
                if isinstance(v, list):
                    if index >= len(v):
                        self.error(f"{name} has {len(v)} results", start)
                    return v[index]
                return v
        self.error(f"use of undefined value {name}", start)

    def uses(self) -> list[ir.Value]:
        """``%a, %b, ...``; stops before a comma that is followed by something else."""
        out = [self.use()]
        while _MORE_USES.match(self.text, self.pos):
            self.expect(",")
            out.append(self.use())
        return out

    def define(self, name: str, value):
        self.scopes[-1][name] = value

    # ------------------------------------------------------------------------ structure
    def module(self) -> ir.Module:
        self.aliases()
        self.ws()
        self.scopes.append({})
        self.expect("module")
        attrs = dict(self.attr_dict()) if self.accept("attributes") else {}
        body = ir.Block()
        self.expect("{")
        while not self.accept("}"):
            body.append(self.operation())
        module = ir.Module(body, attrs)
        self.maybe_loc(module)
        self.aliases()
        self.ws()
        if self.pos != len(self.text):
            self.error("unexpected text after the module")
        for owner, raw in self.pending_locs:
            loc = self.resolve(raw)
            if isinstance(owner, tuple):
                owner[0].argument_locations[owner[1]] = loc
            else:
                owner.location = loc
        return module

    def aliases(self):
        """``#name = loc(...)`` (locations) and ``#name = #dialect.attr<...>`` (attributes, such as
        the loop annotation of ``tl.range(..., disable_licm=True)``: a use reads as their text)."""
        while True:
            self.ws()
            m = re.compile(r"(#\w+)\s*=\s*").match(self.text, self.pos)
            if not m:
                return
            self.pos = m.end()
            if self.peek("loc("):
                self.loc_aliases[m.group(1)] = self.location_raw()
            else:
                text = re.sub(r"#\w+(?![\w.<])", lambda a: self.attr_aliases.get(a.group(0), a.group(0)),
                              self.balanced_token())
                self.attr_aliases[m.group(1)] = text

    def region(self, entry_args=None) -> ir.Region:
        """``{ ops }`` or ``{ ^bb0(%a: T): ops ^bb1: ... }``; ``entry_args`` are (name, type)
        pairs of an entry block whose header the custom form leaves out."""
        self.expect("{")
        self.scopes.append({})
        self.labels.append({})
        region = ir.Region()
        block = None
        if entry_args is not None and not self.peek("^"):
            block = region.append(ir.Block())
            for name, ty in entry_args:
                self.define(name, block.add_argument(ty, name[1:]))
        while not self.accept("}"):
            if self.peek("^"):
                block = region.append(self.block_header())
                continue
            if block is None:
                block = region.append(ir.Block())
            block.append(self.operation())
        undefined = [name for name, b in self.labels[-1].items() if b.parent is None]
        if undefined:
            self.error(f"branch to undefined block {undefined[0]}")
        self.labels.pop()
        self.scopes.pop()
        return region

    def block_ref(self) -> ir.Block:
        """``^bbN``: the block of that label in the current region, created at its first mention."""
        self.ws()
        m = self.match(re.compile(r"\^[\w]+"))
        if not m:
            self.error("expected a block label")
        return self.labels[-1].setdefault(m.group(0), ir.Block())

    def successor(self) -> tuple[ir.Block, list[ir.Value]]:
        """``^bbN`` or ``^bbN(%a, %b : T1, T2)``: a branch target and the values it passes."""
        block = self.block_ref()
        args = []
        if self.accept("("):
            args = self.uses()
            self.expect(":")
            self.types()
            self.expect(")")
        return block, args

    def block_header(self) -> ir.Block:
        block = self.block_ref()
        if block.parent is not None:
            self.error("block label defined twice")
        if self.accept("("):
            if not self.accept(")"):
                while True:
                    name = self.match(_VALUE).group(0)
                    self.expect(":")
                    v = block.add_argument(self.type(), name[1:])
                    self.define(name, v)
                    self.maybe_loc((block, v.index))
                    if self.accept(")"):
                        break
                    self.expect(",")
        self.expect(":")
        return block

    def operation(self) -> ir.Operation:
        self.ws()
        start = self.pos
        results: list[tuple[str, int]] = []
        if self.peek("%"):
            while True:
                name = self.match(_VALUE).group(0)
                count = 1
                if self.text.startswith(":", self.pos) and self.text[self.pos + 1:self.pos + 2].isdigit():
                    self.pos += 1
                    count = self.integer()
                results.append((name, count))
                if not self.accept(","):
                    break
            self.expect("=")
        self.ws()
        if self.peek('"'):
            op = self.generic_op()
        else:
            name_pos = self.pos
            name = self.ident()
            parse = CUSTOM.get(name)
            if parse is None:
                self.error(f"jitspv does not support the operation '{name}' yet", name_pos,
                           self.op_location(name_pos))
            op = parse(self, name)
        n_expected = sum(c for _, c in results)
        if n_expected != len(op.results):
            self.error(f"{op.name} has {len(op.results)} results but {n_expected} are named", start)
        i = 0
        for name, count in results:
            vals = op.results[i:i + count]
            for k, v in enumerate(vals):
                v.name = name[1:] if count == 1 else f"{name[1:]}#{k}"
            self.define(name, vals[0] if count == 1 else vals)
            i += count
        self.maybe_loc(op)
        return op

    def generic_op(self) -> ir.Operation:
        name = self.string()
        operands = self.comma_list(self.use, ")", "(")
        successors = self.comma_list(self.block_ref, "]", "[") if self.peek("[") else []
        attrs = {}
        if self.accept("<"):
            attrs.update(self.attr_dict())
            self.expect(">")
        regions = []
        if self.accept("("):
            while True:
                regions.append(self.region())
                if self.accept(")"):
                    break
                self.expect(",")
        if self.peek("{"):
            attrs.update(self.attr_dict())
        self.expect(":")
        fty = self.type()
        if not isinstance(fty, ir.FunctionType) or len(fty.inputs) != len(operands):
            self.error(f"{name}: type must be a function type with {len(operands)} inputs")
        cls = ir.Function if name == "tt.func" else ir.Operation
        return cls(name, operands, fty.results, attrs, regions, successors)

    def opt_attr_dict(self) -> dict:
        return dict(self.attr_dict()) if self.peek("{") else {}


class _HexBits(int):
    """A dense element written as a hex bit pattern; its meaning depends on the element type."""


def _dense_floats(values, ty: ir.FloatType):
    """Dense elements of a float tensor as floats: hex forms are bit patterns (0xFF800000 is -inf)."""
    if isinstance(values, list):
        return [_dense_floats(v, ty) for v in values]
    if isinstance(values, _HexBits):
        return _float_value(hex(values), ty)
    return float(values)


def _float_value(text: str, ty: ir.FloatType) -> float:
    import struct
    if text.lower().lstrip("-").startswith("0x"):
        bits = int(text, 16)
        if ty.name == "f32":
            return struct.unpack("<f", struct.pack("<I", bits))[0]
        if ty.name == "f64":
            return struct.unpack("<d", struct.pack("<Q", bits))[0]
        if ty.name == "f16":
            return struct.unpack("<e", struct.pack("<H", bits))[0]
        if ty.name == "bf16":
            return struct.unpack("<f", struct.pack("<I", bits << 16))[0]
        return float("nan")
    return float(text)


# --------------------------------------------------------------------- custom formats
def _enum(p: _Parser, attr: str) -> ir.EnumAttr:
    p.ws()
    pos = p.pos
    word = p.ident()
    table = TT_ENUMS[attr]
    if word not in table:
        p.error(f"unknown {attr} '{word}'", pos)
    return ir.EnumAttr(word, table[word], I32)


def _same_type(p, name):
    """``op %a, %b [fastmath<...>] [{attrs}] : T`` -- operands and result share T."""
    operands = p.uses()
    attrs = {}
    if p.accept("fastmath"):
        attrs["fastmath"] = ir.OpaqueAttr("#arith.fastmath" + p.balanced_token_from_here())
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    return ir.Operation(name, operands, [p.type()], attrs)


def _balanced_from_here(self) -> str:
    start = self.pos
    self.balanced_token_plain()
    return self.text[start:self.pos]


_Parser.balanced_token_from_here = _balanced_from_here


def _cmp(p, name):
    p.ws()
    pos = p.pos
    pred = p.ident()
    table = CMPI if name == "arith.cmpi" else CMPF
    if pred not in table:
        p.error(f"unknown predicate '{pred}'", pos)
    p.expect(",")
    operands = p.uses()
    attrs = {"predicate": ir.EnumAttr(pred, table.index(pred), I64)}
    if p.accept("fastmath"):
        attrs["fastmath"] = ir.OpaqueAttr("#arith.fastmath" + p.balanced_token_from_here())
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    ty = p.type()
    return ir.Operation(name, operands, [ir.with_element(ty, ir.I1)], attrs)


def _cast(p, name):
    """``op %a [{attrs}] : T1 to T2``."""
    operands = p.uses()
    attrs = p.opt_attr_dict()
    p.expect(":")
    p.type()
    p.expect("to")
    return ir.Operation(name, operands, [p.type()], attrs)


def _arrow(p, name):
    """``op %a[, %b] [rounding = m] [keywords] [{attrs}] : T1 -> T2`` (tt shape/cast ops)."""
    operands = p.uses()
    attrs = {}
    p.accept(",")   # tt.fp_to_fp %x, rounding = rtne
    while not p.peek(":") and not p.peek("{"):
        pos = p.pos
        word = p.ident()
        if word == "rounding":
            p.expect("=")
            attrs["rounding"] = _enum(p, "rounding")
        elif word in ("allow_reorder", "efficient_layout"):
            attrs[word] = ir.UnitAttr()
        else:
            p.error(f"unknown keyword '{word}' in {name}", pos)
        p.accept(",")
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    p.type()
    p.expect("->")
    result = p.type()
    return ir.Operation(name, operands, [result] * (2 if name == "tt.split" else 1), attrs)


def _unsplat(p, name):
    """``tt.unsplat %a [{attrs}] : tensor<1x..xT>`` (result type T implied; older Triton may
    spell it ``-> T``)."""
    operands = p.uses()
    attrs = p.opt_attr_dict()
    p.expect(":")
    result = p.type().element_type
    if p.accept("->"):
        result = p.type()
    return ir.Operation(name, operands, [result], attrs)


def _poison(p, name):
    """``ub.poison [{attrs}] : T``: a value of type T that may be anything."""
    attrs = p.opt_attr_dict()
    p.expect(":")
    return ir.Operation(name, [], [p.type()], attrs)


def _select(p, name):
    operands = p.uses()
    attrs = p.opt_attr_dict()
    p.expect(":")
    return ir.Operation(name, operands, [p.types()[-1]], attrs)


def _constant(p, name):
    p.ws()
    if p.peek("true") or p.peek("false"):
        value = p.attribute()
        return ir.Operation(name, [], [ir.I1], {"value": value})
    if p.peek("dense"):
        value = p.attribute()
        return ir.Operation(name, [], [value.type], {"value": value})
    value = p.attribute()
    return ir.Operation(name, [], [value.type], {"value": value})


def _addptr(p, name):
    operands = p.uses()
    attrs = p.opt_attr_dict()
    p.expect(":")
    return ir.Operation(name, operands, [p.types()[0]], attrs)


def _loaded_type(ptr_type: ir.Type) -> ir.Type:
    if isinstance(ptr_type, ir.PointerType):
        return ptr_type.pointee  # scalar pointer or block pointer !tt.ptr<tensor<...>>
    return ir.with_element(ptr_type, ptr_type.element_type.pointee)


def _memory_keywords(p, attrs):
    """3.6 prints ``cacheModifier = cg evictionPolicy = evict_last`` before the attr-dict."""
    while p.peek("cacheModifier") or p.peek("evictionPolicy"):
        word = p.ident()
        p.expect("=")
        attr = KEYWORD_ATTRS[word]
        attrs[attr] = _enum(p, attr)


def _load(p, name):
    operands = p.uses()
    attrs = {}
    _memory_keywords(p, attrs)
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    ptr_type = p.type()
    return ir.Operation(name, operands, [_loaded_type(ptr_type)], attrs)


def _store(p, name):
    operands = p.uses()
    attrs = {}
    _memory_keywords(p, attrs)
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    p.type()
    return ir.Operation(name, operands, [], attrs)


def _make_range(p, name):
    attrs = p.opt_attr_dict()
    p.expect(":")
    return ir.Operation(name, [], [p.type()], attrs)


def _program_id(p, name):
    attrs = {"axis": _enum(p, "axis")}
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    return ir.Operation(name, [], [p.type()], attrs)


def _dot(p, name):
    operands = p.uses()
    attrs = {}
    while p.accept(","):
        word = p.ident()
        p.expect("=")
        attrs[word] = _enum(p, word) if word == "inputPrecision" else ir.IntAttr(p.integer(), I32)
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    p.type()
    p.expect("*")
    p.type()
    p.expect("->")
    return ir.Operation(name, operands, [p.type()], attrs)


def _dot_scaled(p, name):
    """``tt.dot_scaled %a [scale %as], %b [scale %bs], %c lhs = F rhs = F [{attrs}] : Ta[, Tas] *
    Tb[, Tbs] -> T``; operands a, b, c, then the scales present (operandSegmentSizes, as MLIR's)."""
    a = p.use()
    a_scale = p.use() if p.accept("scale") else None
    p.expect(",")
    b = p.use()
    b_scale = p.use() if p.accept("scale") else None
    p.expect(",")
    c = p.use()
    attrs = {}
    for side, key in (("lhs", "a_elem_type"), ("rhs", "b_elem_type")):
        p.expect(side)
        p.expect("=")
        attrs[key] = ir.StrAttr(p.ident())
    attrs.update(p.opt_attr_dict())
    p.expect(":")   # the operand types (a, its scale, b, its scale): only the result's is kept
    for i, scale in enumerate((a_scale, b_scale)):
        if i:
            p.expect("*")
        p.type()
        if scale is not None:
            p.expect(",")
            p.type()
    p.expect("->")
    present = (1, 1, 1, int(a_scale is not None), int(b_scale is not None))
    attrs["operandSegmentSizes"] = ir.DenseArrayAttr(I32, present)
    return ir.Operation(name, [a, b, c] + [s for s in (a_scale, b_scale) if s is not None], [p.type()], attrs)


def _atomic(p, name):
    attrs = {}
    if name == "tt.atomic_rmw":
        attrs["atomic_rmw_op"] = _enum(p, "atomic_rmw_op")
        p.expect(",")
    attrs["sem"] = _enum(p, "sem")
    p.expect(",")
    attrs["scope"] = _enum(p, "scope")
    p.expect(",")
    operands = p.uses()
    if name == "tt.atomic_poll" and p.accept("timeout"):
        operands.append(p.use())
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    if name == "tt.atomic_store":   # `: pointer type`, no result
        p.type()
        return ir.Operation(name, operands, [], attrs)
    if name == "tt.atomic_poll":    # `: pointer type, expected type -> result type`
        p.types()
        p.expect("->")
        return ir.Operation(name, operands, [p.type()], attrs)
    return ir.Operation(name, operands, list(p.type().results), attrs)


def _call(p, name):
    callee = p.symbol()
    operands = p.comma_list(p.use, ")", "(")
    attrs = {"callee": ir.SymbolRefAttr(callee)}
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    return ir.Operation(name, operands, list(p.type().results), attrs)


def _terminator(p, name):
    """``tt.return``, ``scf.yield``, ``tt.reduce.return``...: ``op [%a, %b : T1, T2]``."""
    operands = []
    if p.peek("%"):
        operands = p.uses()
        p.expect(":")
        p.types()
    return ir.Operation(name, operands, [], p.opt_attr_dict())


def _condition(p, name):
    p.expect("(")
    operands = [p.use()]
    p.expect(")")
    if p.peek("%"):
        operands += p.uses()
        p.expect(":")
        p.types()
    return ir.Operation(name, operands, [], p.opt_attr_dict())


def _iter_args(p):
    pairs = []
    if not p.peek("("):
        return pairs

    def item():
        name = p.match(_VALUE).group(0)
        p.expect("=")
        pairs.append((name, p.use()))
    p.comma_list(item, ")", "(")
    return pairs


def _with_implicit_yield(region: ir.Region) -> ir.Region:
    """The custom forms of scf.for/scf.if leave out a ``scf.yield`` without operands."""
    for block in region.blocks:
        if not block.operations or block.operations[-1].name != "scf.yield":
            block.append(ir.Operation("scf.yield"))
    return region


def _for(p, name):
    iv = p.match(_VALUE).group(0)
    p.expect("=")
    lb = p.use()
    p.expect("to")
    ub = p.use()
    p.expect("step")
    step = p.use()
    pairs, types = [], []
    if p.accept("iter_args"):
        pairs = _iter_args(p)
        p.expect("->")
        types = p.paren_types()
    iv_type = p.type() if p.accept(":") else ir.IndexType()
    body = _with_implicit_yield(p.region([(iv, iv_type)] + [(n, t) for (n, _), t in zip(pairs, types)]))
    return ir.Operation(name, [lb, ub, step] + [v for _, v in pairs], types, p.opt_attr_dict(), [body])


def _if(p, name):
    cond = p.use()
    types = p.paren_types() if p.accept("->") else []
    then = _with_implicit_yield(p.region())
    other = _with_implicit_yield(p.region()) if p.accept("else") else ir.Region()
    return ir.Operation(name, [cond], types, p.opt_attr_dict(), [then, other])


def _while(p, name):
    pairs = _iter_args(p)
    p.expect(":")
    fty = p.type()
    before = p.region([(n, t) for (n, _), t in zip(pairs, fty.inputs)])
    p.expect("do")
    after = p.region()
    attrs = p.attr_dict() if p.accept("attributes") else p.opt_attr_dict()   # MLIR prints `attributes {...}` here
    return ir.Operation(name, [v for _, v in pairs], list(fty.results), dict(attrs), [before, after])


def _branch(p, name):
    """``cf.br ^bb1(%a : T)`` / ``cf.cond_br %c, ^bb1, ^bb2(%a : T)``: operands are the condition
    (cond_br) then each successor's values, split by operandSegmentSizes as in MLIR."""
    operands = []
    if name == "cf.cond_br":
        operands.append(p.use())
        p.expect(",")
    targets = [p.successor()]
    if name == "cf.cond_br":
        p.expect(",")
        targets.append(p.successor())
    attrs = p.opt_attr_dict()
    if name == "cf.cond_br":
        attrs["operandSegmentSizes"] = ir.DenseArrayAttr(I32, (1,) + tuple(len(a) for _, a in targets))
    for _, args in targets:
        operands += args
    return ir.Operation(name, operands, [], attrs, successors=[b for b, _ in targets])


def _gather(p, name):
    """``tt.gather %src[%idx] {axis = 0 : i32} : (T1, T2) -> T3``."""
    operands = [p.use()]
    p.expect("[")
    operands.append(p.use())
    p.expect("]")
    attrs = p.opt_attr_dict()
    p.expect(":")
    return ir.Operation(name, operands, list(p.type().results), attrs)


def _barrier(p, name):
    return ir.Operation(name, [], [], p.opt_attr_dict())


# Bits of Triton 3.9's ttg.barrier address-space set (3.6 prints gpu.barrier instead).
TTG_ADDR_SPACES = {"none": 0, "local": 1, "global_read": 2, "global_write": 4, "tensor_read": 8, "tensor_write": 16,
                   "all": 31}


def _ttg_barrier(p, name):
    """``ttg.barrier local|global_read``: an i32 bit set, kept as EnumAttr with the spelled name."""
    words = [p.ident()]
    while p.accept("|"):
        words.append(p.ident())
    unknown = [w for w in words if w not in TTG_ADDR_SPACES]
    if unknown:
        p.error(f"unknown address space {unknown[0]!r} in ttg.barrier")
    bits = 0
    for w in words:
        bits |= TTG_ADDR_SPACES[w]
    attrs = {"addrSpace": ir.EnumAttr("|".join(words), bits, I32)}
    attrs.update(p.opt_attr_dict())
    return ir.Operation(name, [], [], attrs)


def _assert(p, name):
    operands = [p.use()]
    p.expect(",")
    attrs = {"message": ir.StrAttr(p.string())}
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    p.type()
    return ir.Operation(name, operands, [], attrs)


def _assume(p, name):
    """``llvm.intr.assume %cond : i1`` (tl.assume)."""
    operands = [p.use()]
    attrs = p.opt_attr_dict()
    p.expect(":")
    p.type()
    return ir.Operation(name, operands, [], attrs)


def _clampf(p, name):
    """``tt.clampf %x, %lo, %hi, propagateNan = none|all [{attrs}] : T``."""
    operands = p.uses()
    p.expect(",")
    p.expect("propagateNan")
    p.expect("=")
    attrs = {"propagateNan": _enum(p, "propagateNan")}
    attrs.update(p.opt_attr_dict())
    p.expect(":")
    return ir.Operation(name, operands, [p.type()], attrs)

def _typed_uses(p):
    """``%a, %b : T1, T2``: the values (their types are the values' own)."""
    operands = p.uses()
    p.expect(":")
    p.type()
    for _ in operands[1:]:
        p.expect(",")
        p.type()
    return operands


def _print(p, name):
    """``tt.print "prefix" {attrs} [: %a, %b ... : T1, T2 ...]``."""
    attrs = {"prefix": ir.StrAttr(p.string())}
    attrs.update(p.opt_attr_dict())
    operands = _typed_uses(p) if p.accept(":") else []
    return ir.Operation(name, operands, [], attrs)


def _inline_asm(p, name):
    """``tt.elementwise_inline_asm "asm" {attrs} [%a, %b : T1, T2] -> R1[, R2 ...]``."""
    attrs = {"asm_string": ir.StrAttr(p.string())}
    attrs.update(p.opt_attr_dict())
    operands = _typed_uses(p) if p.peek("%") else []
    p.expect("->")
    results = [p.type()]
    while p.accept(","):
        results.append(p.type())
    return ir.Operation(name, operands, results, attrs)


def _extern(p, name):
    operands = p.uses()
    attrs = p.opt_attr_dict()
    p.expect(":")
    return ir.Operation(name, operands, list(p.type().results), attrs)


def _func(p, name):
    attrs = {}
    if p.peek("public") or p.peek("private") or p.peek("nested"):
        attrs["sym_visibility"] = ir.StrAttr(p.ident())
    attrs["sym_name"] = ir.StrAttr(p.symbol())
    args, arg_attrs, arg_locs = [], [], []

    def arg():
        name_ = p.match(_VALUE)
        if not name_:
            p.error("expected an argument")
        p.expect(":")
        ty = p.type()
        arg_attrs.append(ir.DictAttr(tuple(p.attr_dict())) if p.peek("{") else ir.DictAttr(()))
        arg_locs.append(p.location_raw() if p.peek("loc(") else None)
        args.append((name_.group(0), ty))
    p.comma_list(arg, ")", "(")
    results = p.paren_types() if p.accept("->") else []
    attrs["function_type"] = ir.TypeAttr(ir.FunctionType(tuple(t for _, t in args), tuple(results)))
    if any(a.items for a in arg_attrs):
        attrs["arg_attrs"] = ir.ArrayAttr(tuple(arg_attrs))
    if p.accept("attributes"):
        attrs.update(p.attr_dict())
    body = p.region(args)
    for i, raw in enumerate(arg_locs):
        if raw is not None:
            p.pending_locs.append(((body.entry, i), raw))
    return ir.Function(name, [], [], attrs, [body])


_SAME_TYPE = """arith.addi arith.subi arith.muli arith.divsi arith.divui arith.remsi arith.remui arith.ceildivsi
arith.floordivsi arith.andi arith.ori arith.xori arith.shli arith.shrsi arith.shrui arith.maxsi arith.minsi arith.maxui
arith.minui arith.addf arith.subf arith.mulf arith.divf arith.remf arith.negf arith.maxnumf arith.minnumf
arith.maximumf arith.minimumf math.absf math.absi math.exp math.exp2 math.log math.log2 math.sqrt math.rsqrt
math.sin math.cos math.tan math.tanh math.erf math.floor math.ceil math.trunc math.round math.roundeven math.fma
math.ctlz math.cttz math.ctpop math.copysign math.powf math.log1p math.expm1 math.cbrt math.atan math.atan2
math.asin math.acos math.sinh math.cosh math.asinh math.acosh math.atanh
tt.mulhiui tt.precise_sqrt tt.precise_divf""".split()
_CASTS = """arith.extsi arith.extui arith.trunci arith.sitofp arith.uitofp arith.fptosi arith.fptoui arith.extf
arith.truncf arith.bitcast arith.index_cast arith.index_castui""".split()
_ARROWS = """tt.splat tt.broadcast tt.expand_dims tt.reshape tt.trans tt.bitcast tt.int_to_ptr tt.ptr_to_int
tt.fp_to_fp tt.join tt.split tt.cat tt.histogram""".split()

CUSTOM = {
    **{n: _same_type for n in _SAME_TYPE}, **{n: _cast for n in _CASTS}, **{n: _arrow for n in _ARROWS},
    "arith.cmpi": _cmp, "arith.cmpf": _cmp, "arith.select": _select, "arith.constant": _constant,
    "tt.addptr": _addptr, "tt.load": _load, "tt.store": _store, "tt.make_range": _make_range,
    "tt.get_program_id": _program_id, "tt.get_num_programs": _program_id, "tt.dot": _dot,
    "tt.atomic_rmw": _atomic, "tt.atomic_cas": _atomic, "tt.atomic_load": _atomic, "tt.atomic_store": _atomic,
    "tt.atomic_poll": _atomic, "tt.call": _call, "tt.func": _func,
    "tt.return": _terminator, "scf.yield": _terminator, "tt.reduce.return": _terminator,
    "tt.scan.return": _terminator, "tt.map_elementwise.return": _terminator, "scf.condition": _condition,
    "scf.for": _for, "scf.if": _if,
    "scf.while": _while, "gpu.barrier": _barrier, "cf.br": _branch, "cf.cond_br": _branch,
    "tt.grid_dependency_wait": _barrier, "tt.grid_dependency_launch_dependents": _barrier, "ttg.barrier": _ttg_barrier, "tt.assert": _assert,
    "llvm.intr.assume": _assume,    "tt.extern_elementwise": _extern, "tt.elementwise_inline_asm": _inline_asm,
    "tt.clampf": _clampf, "tt.gather": _gather, "tt.unsplat": _unsplat, "ub.poison": _poison,
    "tt.dot_scaled": _dot_scaled,
    "tt.print": _print,
}


def parse(text: str) -> ir.Module:
    """Parse TTIR text (with or without locations) into a Module."""
    return _Parser(text).module()
