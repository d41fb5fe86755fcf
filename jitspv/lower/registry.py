"""The table of lowering rules: `LOWERINGS["arith.addf"] = rule(ctx, op)`.

One small function per TTIR op; an op missing from the table is refused in one place
(`LoweringContext.lower_op`) with its name and the kernel's source line.
"""
LOWERINGS = {}


def register(*names):
    def deco(fn):
        for n in names:
            assert n not in LOWERINGS, f"two lowerings for {n}"
            LOWERINGS[n] = fn
        return fn
    return deco
