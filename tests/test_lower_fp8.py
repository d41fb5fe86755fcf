"""fp8 (fp8e4nv = torch.float8_e4m3fn, fp8e5 = torch.float8_e5m2): every code loaded and stored,
casts from every float type rounding to nearest-even (or toward zero) and saturating as Triton-CUDA
does on Hopper, arithmetic rounded once, dots, constants, bitcasts. References: torch's fp8 casts
(which agree wherever no saturation happens) and values decoded by torch."""
import numpy as np
import pytest
import triton
import triton.language as tl

import jitspv

torch = pytest.importorskip("torch")
rng = np.random.default_rng()

FORMATS = {"fp8e4nv": (tl.float8e4nv, torch.float8_e4m3fn, 448.0), "fp8e5": (tl.float8e5, torch.float8_e5m2, 57344.0)}


def _codes_to_values(codes, tdt):
    return torch.tensor(codes, dtype=torch.uint8).view(tdt).double().numpy()


def _all_values(tdt):
    """Every finite value of the format, sorted."""
    v = _codes_to_values(np.arange(256), tdt)
    return np.unique(v[np.isfinite(v)])


def _poisoned(n, dtype):
    return torch.full((n,), float("nan")).to(dtype) if dtype.is_floating_point else torch.full((n,), 77, dtype=dtype)


@jitspv.jit
def cast_kernel(x_ptr, y_ptr, wide_ptr, n, DST: tl.constexpr, RTZ: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    x = tl.load(x_ptr + offs, mask=m)
    y = x.to(DST, fp_downcast_rounding="rtz") if RTZ else x.to(DST)
    tl.store(y_ptr + offs, y, mask=m)
    tl.store(wide_ptr + offs, y.to(tl.float32), mask=m)


def _cast(x, name, rtz=False):
    tl_t, tdt, _ = FORMATS[name]
    n = x.numel()
    y, wide = _poisoned(n, tdt), _poisoned(n, torch.float32)
    cast_kernel[(triton.cdiv(n, 128),)](x, y, wide, n, DST=tl_t, RTZ=rtz, BLOCK=128)
    return y, wide


def _test_values(name, n):
    """Random values across the whole range (normal and subnormal), exact ties between neighbours."""
    _, tdt, top = FORMATS[name]
    values = _all_values(tdt)
    mid = (values[:-1] + values[1:]) / 2                         # ties: to the even code
    wide = np.exp(rng.uniform(np.log(values[values > 0].min() / 4), np.log(top), n)) * rng.choice([-1, 1], n)
    return np.concatenate([[0.0, -0.0], rng.choice(mid, n), wide, rng.choice(values, n)])


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("src", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_cast_to_fp8_rounds_to_nearest_even(name, src):
    _, tdt, top = FORMATS[name]
    x = torch.tensor(_test_values(name, 700)).to(src)
    x = x[x.double().abs() <= top]            # the source type's own rounding may push a value past
    y, wide = _cast(x, name)
    expect = x.to(tdt)                         # torch: nearest-even too
    assert torch.equal(y.view(torch.uint8), expect.view(torch.uint8)), (x[y.view(torch.uint8) != expect.view(torch.uint8)])
    assert torch.equal(wide, expect.float())


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_cast_to_fp8_saturates_and_keeps_nan(name):
    # Hopper's cvt.rn.satfinite: beyond the largest finite value (infinities too) -> that value.
    _, tdt, top = FORMATS[name]
    x = torch.tensor([top * 1.01, -top * 1.5, 1e30, -1e30, float("inf"), float("-inf"), float("nan"), top, -top,
                      top * 1.0624, top * 1.07])
    y, wide = _cast(x, name)
    w = wide.numpy()
    np.testing.assert_array_equal(w[:6], [top, -top, top, -top, top, -top])
    assert np.isnan(w[6]) and y.view(torch.uint8)[6].item() == 0x7F
    np.testing.assert_array_equal(w[7:], [top, -top, top, top])


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_code_loads_and_stores_unchanged(name):
    tl_t, tdt, _ = FORMATS[name]

    @jitspv.jit
    def copy_fp8(x_ptr, y_ptr, wide_ptr, bits_ptr, BLOCK: tl.constexpr):
        offs = tl.arange(0, BLOCK)
        x = tl.load(x_ptr + offs)
        tl.store(y_ptr + offs, x)
        tl.store(wide_ptr + offs, x.to(tl.float32))
        tl.store(bits_ptr + offs, x.to(tl.uint8, bitcast=True))

    codes = torch.arange(256, dtype=torch.int32).to(torch.uint8)
    x = codes.view(tdt)
    y, wide, bits = _poisoned(256, tdt), _poisoned(256, torch.float32), _poisoned(256, torch.uint8)
    copy_fp8[(1,)](x, y, wide, bits, BLOCK=256)
    decoded = x.float()
    nan = torch.isnan(decoded)
    assert torch.equal(wide[~nan], decoded[~nan]) and torch.isnan(wide[nan]).all()
    # NaNs become the canonical NaN, every other code (both zeros, e5m2's infinities) is kept.
    expect = torch.where(nan, torch.tensor(0x7F, dtype=torch.uint8), codes)
    assert torch.equal(y.view(torch.uint8), expect) and torch.equal(bits, expect)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_cast_to_fp8_toward_zero(name):
    _, tdt, top = FORMATS[name]
    values = _all_values(tdt)
    x = torch.tensor(_test_values(name, 500)).float()
    x = x[x.abs() <= top]
    y, wide = _cast(x, name, rtz=True)
    a = x.double().abs().numpy()
    expect = values[np.searchsorted(values, a, side="right") - 1] * np.sign(x.numpy())
    np.testing.assert_array_equal(np.abs(wide.numpy()), np.abs(expect))
    assert (np.signbit(wide.numpy()) == np.signbit(x.numpy())).all()


@jitspv.jit
def arith_fp8(a_ptr, b_ptr, s_ptr, p_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    a = tl.load(a_ptr + offs, mask=m)
    b = tl.load(b_ptr + offs, mask=m)
    tl.store(s_ptr + offs, a + b, mask=m)
    tl.store(p_ptr + offs, tl.where(a > b, a * b, -b), mask=m)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_arithmetic_rounds_once(name):
    _, tdt, top = FORMATS[name]
    values = _all_values(tdt)
    values = values[np.abs(values) <= 16]      # sums and products stay in range
    n = 1001
    a = torch.tensor(rng.choice(values, n)).to(tdt)
    b = torch.tensor(rng.choice(values, n)).to(tdt)
    s, p = (_poisoned(n, tdt) for _ in range(2))
    arith_fp8[(triton.cdiv(n, 256),)](a, b, s, p, n, BLOCK=256)
    af, bf = a.double(), b.double()
    assert torch.equal(s.view(torch.uint8), (af + bf).to(tdt).view(torch.uint8))
    assert torch.equal(p.view(torch.uint8), torch.where(af > bf, af * bf, -bf).to(tdt).view(torch.uint8))


@jitspv.jit
def fp8_constant(c_ptr, n, C: tl.constexpr, DTYPE: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(c_ptr + offs, tl.full([BLOCK], C, DTYPE), mask=offs < n)


@pytest.mark.skipif(not hasattr(triton._C.libtriton.ir.builder, "get_fp8e4nv"),
                    reason="this Triton's frontend builds no fp8 constants (tl.full of an fp8 type fails in it)")
@pytest.mark.parametrize("name", sorted(FORMATS))
def test_constants_round(name):
    tl_dt, tdt, _ = FORMATS[name]
    n = 300
    c = _poisoned(n, tdt)
    fp8_constant[(triton.cdiv(n, 256),)](c, n, C=3.3, DTYPE=tl_dt, BLOCK=256)
    assert torch.equal(c.float(), torch.full((n,), 3.3).to(tdt).float())


@pytest.mark.parametrize("a_name,b_name", [("fp8e4nv", "fp8e4nv"), ("fp8e5", "fp8e5"), ("fp8e4nv", "fp8e5")])
def test_dot_of_fp8_operands_accumulates_in_fp32(a_name, b_name):
    @jitspv.jit
    def dot_fp8(a_ptr, b_ptr, c_ptr, M: tl.constexpr, N: tl.constexpr, K: tl.constexpr):
        rm, rn, rk = tl.arange(0, M), tl.arange(0, N), tl.arange(0, K)
        a = tl.load(a_ptr + rm[:, None] * K + rk[None, :])
        b = tl.load(b_ptr + rk[:, None] * N + rn[None, :])
        tl.store(c_ptr + rm[:, None] * N + rn[None, :], tl.dot(a, b))

    M, N, K = 32, 16, 64
    a = torch.tensor(rng.standard_normal((M, K)) * 4).to(FORMATS[a_name][1])
    b = torch.tensor(rng.standard_normal((K, N))).to(FORMATS[b_name][1])
    c = torch.full((M, N), float("nan"))
    dot_fp8[(1,)](a, b, c, M=M, N=N, K=K)
    np.testing.assert_allclose(c.numpy(), (a.double() @ b.double()).numpy(), rtol=1e-5, atol=1e-5)


def test_fp8_types_jitspv_lacks_are_refused_naming_them():
    @jitspv.jit
    def to_b15(x_ptr, y_ptr):
        tl.store(y_ptr, tl.load(x_ptr).to(tl.float8e4b15).to(tl.float32))

    with pytest.raises(Exception, match="fp8e4b15"):
        to_b15[(1,)](torch.ones(1), torch.ones(1))
    x = torch.ones(1)   # and the process goes on
    y, _ = _cast(x, "fp8e4nv")
    assert y.float().item() == 1.0
