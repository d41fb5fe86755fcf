"""tl.device_print: lines printed at the next synchronization, formatted as Triton's printf prints them.
Expected lines are built here from C-style format strings, independently of the host decoder."""
import math

import numpy as np
import pytest
import triton.language as tl

import jitspv
from jitspv.lower.kernel import PRINT_CAPACITY

rng = np.random.default_rng()


def _printed(capsys):
    jitspv.synchronize()
    return capsys.readouterr().out.splitlines()


def _width(n):
    return math.ceil(math.log10(n))


@jitspv.jit
def print_two(x_ptr, f_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=-7)
    f = tl.load(f_ptr + offs, mask=offs < n, other=0.5)
    tl.device_print("vals", x, f)


@pytest.mark.parametrize("n, block, warps", [(37, 16, 4), (301, 128, 1), (1000, 256, 8)])
def test_tensor_print_two_operands(capsys, n, block, warps):
    x = rng.integers(-2**31, 2**31, n).astype(np.int32)
    f = rng.standard_normal(n).astype(np.float32)
    grid = jitspv.cdiv(n, block)
    print_two[(grid,)](x, f, n, BLOCK=block, num_warps=warps)
    lines = _printed(capsys)
    expected = []
    for operand, (data, pad, fmt) in enumerate([(x, -7, "%i"), (f, 0.5, "%f")]):
        for p in range(grid):
            for i in range(block):
                k = p * block + i
                v = data[k] if k < n else pad
                expected.append("pid (%u, 0, 0) idx (%*u) vals: (operand %u) " % (p, _width(block), i, operand)
                                + fmt % (float(v) if fmt == "%f" else int(v)))
    assert lines == expected


@jitspv.jit
def print_2d(x_ptr, ROWS: tl.constexpr, COLS: tl.constexpr):
    r = tl.arange(0, ROWS)[:, None]
    c = tl.arange(0, COLS)[None, :]
    base = (tl.program_id(1) * tl.num_programs(0) + tl.program_id(0)) * ROWS * COLS
    tl.device_print("", tl.load(x_ptr + base + r * COLS + c))


@pytest.mark.parametrize("rows, cols, warps", [(4, 16, 1), (16, 2, 4)])
def test_2d_print_multiple_programs(capsys, rows, cols, warps):
    gx, gy = 3, 2
    x = rng.integers(0, 2**32, gx * gy * rows * cols, dtype=np.uint64).astype(np.uint32).view(np.int32)
    print_2d[(gx, gy)](x, ROWS=rows, COLS=cols, num_warps=warps)
    # Triton turns an empty prefix into ": ".
    expected = ["pid (%u, %u, 0) idx (%*u, %*u): %i" % (px, py, _width(rows), i, _width(cols), j,
                                                    x[((py * gx + px) * rows + i) * cols + j])
                for px in range(gx) for py in range(gy) for i in range(rows) for j in range(cols)]
    assert _printed(capsys) == expected


@jitspv.jit
def print_hex(a_ptr, b_ptr, c_ptr, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    tl.device_print("a", tl.load(a_ptr + offs), hex=True)
    tl.device_print("b", tl.load(b_ptr + offs), hex=True)
    tl.device_print("c", tl.load(c_ptr + offs))
    tl.device_print("d", tl.load(b_ptr + offs))


def test_hex_and_widths(capsys):
    block = 8
    a = rng.integers(-2**63, 2**63 - 1, block, dtype=np.int64)
    b = rng.standard_normal(block).astype(np.float32)
    c = rng.integers(-128, 128, block).astype(np.int8)
    c[0] = -128
    print_hex[(1,)](a, b, c, BLOCK=block, num_warps=1)
    expected = (["pid (0, 0, 0) idx (%u) a: 0x%016x" % (i, int(a.view(np.uint64)[i])) for i in range(block)]
                + ["pid (0, 0, 0) idx (%u) b: 0x%08x" % (i, int(b.view(np.uint32)[i])) for i in range(block)]
                + ["pid (0, 0, 0) idx (%u) c: %i" % (i, c[i]) for i in range(block)]
                + ["pid (0, 0, 0) idx (%u) d: %f" % (i, b[i]) for i in range(block)])
    assert _printed(capsys) == expected


@jitspv.jit
def print_scalars(x_ptr, n, s):
    tl.device_print("n =", n)   # Triton makes the prefix " n =: "
    tl.device_print("s", s)
    tl.device_print("first", tl.load(x_ptr + tl.program_id(0)))
    tl.device_print("here")


@pytest.mark.parametrize("warps", [1, 4])
def test_scalar_print_once_per_program(capsys, warps):
    grid = 5
    x = rng.standard_normal(grid)
    n = int(rng.integers(-2**31, 0))
    s = float(np.float32(rng.standard_normal()))
    print_scalars[(grid,)](x, n, s, num_warps=warps)
    once = (["pid (%u, 0, 0) idx () n =: %i" % (p, n) for p in range(grid)]
            + ["pid (%u, 0, 0) idx () s: %f" % (p, s) for p in range(grid)]
            + ["pid (%u, 0, 0) idx () first: %f" % (p, x[p]) for p in range(grid)]
            + ["pid (%u, 0, 0) here" % p for p in range(grid)])
    assert _printed(capsys) == once
    print_scalars[(1,)](x, n, s, num_warps=warps)
    assert _printed(capsys) == [once[k * grid] for k in range(4)]


@jitspv.jit
def print_many(x_ptr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.device_print("x", tl.load(x_ptr + offs))


def test_overflow_reports_dropped_lines(capsys):
    block, grid = 1024, PRINT_CAPACITY // 1024 + 3
    x = rng.integers(0, 1000, block * grid).astype(np.int32)
    print_many[(grid,)](x, BLOCK=block, num_warps=4)
    lines = _printed(capsys)
    dropped = block * grid - PRINT_CAPACITY
    assert len(lines) == PRINT_CAPACITY + 1
    assert lines[-1].startswith(f"jitspv: {dropped} lines of tl.device_print dropped")
    for line in lines[:-1:997]:
        pid = int(line[len("pid ("):line.index(",")])
        i = int(line[line.index("idx (") + 5:line.index(")", line.index("idx ("))])
        assert line.endswith(": %i" % x[pid * block + i])
    # The buffer is empty again for the next submission.
    print_many[(1,)](x, BLOCK=block, num_warps=4)
    assert len(_printed(capsys)) == block
