"""Program ids and grid sizes: 1-D/2-D/3-D grids, tl.num_programs, grids beyond the device's
per-dimension workgroup-count limit (split into several dispatches by the runtime)."""
import numpy as np
import pytest
import triton.language as tl

import jitspv


@jitspv.jit
def program_ids(out_ptr):
    x, y, z = tl.program_id(0), tl.program_id(1), tl.program_id(2)
    nx, ny, nz = tl.num_programs(0), tl.num_programs(1), tl.num_programs(2)
    row = out_ptr + ((z * ny + y) * nx + x) * 6
    tl.store(row + 0, x)
    tl.store(row + 1, y)
    tl.store(row + 2, z)
    tl.store(row + 3, nx)
    tl.store(row + 4, ny)
    tl.store(row + 5, nz)


@pytest.mark.parametrize("grid", [(5,), (3, 7), (2, 3, 4), (1, 1, 9)])
def test_program_id_and_num_programs(grid):
    g = tuple(grid) + (1,) * (3 - len(grid))
    n = g[0] * g[1] * g[2]
    out = np.full((n, 6), -1, np.int32)
    program_ids[grid](out, num_warps=1)
    z, y, x = np.meshgrid(np.arange(g[2]), np.arange(g[1]), np.arange(g[0]), indexing="ij")
    expect = np.stack([x.ravel(), y.ravel(), z.ravel()] + [np.full(n, s) for s in g], axis=1)
    np.testing.assert_array_equal(out, expect)


@jitspv.jit
def iota(out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(1) * tl.num_programs(0) + tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, offs, mask=offs < n)


@pytest.mark.parametrize("grid", [(70_001, 1), (3, 66_000)])
def test_grid_beyond_device_limit(grid):
    from jitspv.vk import get_device
    limit = get_device().properties.max_compute_workgroup_count
    assert max(grid) > min(limit[:2]), "the grid must exceed the device limit for this test to mean anything"
    block = 16
    n = grid[0] * grid[1] * block - 5
    out = np.full(grid[0] * grid[1] * block, -1, np.int32)
    iota[grid](out, n, BLOCK=block, num_warps=1)
    np.testing.assert_array_equal(out[:n], np.arange(n))
    assert (out[n:] == -1).all()
