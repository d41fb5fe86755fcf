"""Derive the float32 polynomial coefficients used by jitspv/lower/rules/mathfn.py and print them.

Each fit is a near-minimax polynomial in relative error: weighted least squares on a dense grid,
reweighted by Lawson's algorithm (weights grow where the error is largest), then the coefficients
are rounded to float32 and the whole approximation (in the form mathfn.py evaluates it) is checked
in float64. Run: python3 tools/math_coeffs.py
"""
import math

import numpy as np


def lawson_fit(g, lo, hi, degree, rel_to, iters=60, n=20000):
    """Coefficients c[0..degree] (low first) of p(t) ~ g(t) on [lo, hi], minimising
    max |p - g| / |rel_to|."""
    t = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.linspace(0, np.pi, n))
    target, scale = g(t), np.abs(rel_to(t))
    a = np.vander(t, degree + 1, increasing=True) / scale[:, None]
    b = target / scale
    w = np.ones(n) / n
    for _ in range(iters):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(a * sw[:, None], b * sw, rcond=None)
        err = np.abs(a @ c - b)
        w = w * err
        w /= w.sum()
    return c.astype(np.float32)


def poly(c, t):
    r = np.zeros_like(t)
    for k in reversed(c.astype(np.float64)):
        r = r * t + k
    return r


def report(name, c, t, approx, exact):
    err = np.max(np.abs(approx - exact) / np.abs(exact))
    print(f"{name} = [{', '.join(repr(float(v)) for v in c)}]  # max rel err 2^{math.log2(err):.1f}")


def main():
    # 2^f = 1 + f*q(f), f in [-0.5, 0.5]
    c = lawson_fit(lambda f: np.where(f == 0, np.log(2), np.expm1(f * np.log(2)) / np.where(f == 0, 1, f)),
                   -0.5, 0.5, 5, lambda f: 2.0**f)
    f = np.linspace(-0.5, 0.5, 200001)
    report("EXP2_Q", c, f, 1 + f * poly(c, f), 2.0**f)
    # e^r = 1 + r + r^2 q(r), |r| <= 0.35 (ln(2)/2 plus slack)
    c = lawson_fit(lambda r: (np.expm1(r) - r) / r**2, -0.35, 0.35, 4, lambda r: np.exp(r) / r**2)
    r = np.linspace(-0.35, 0.35, 200001)
    r = r[r != 0]
    report("EXP_Q", c, r, 1 + (r + r * r * poly(c, r)), np.exp(r))
    # log1p(f) = f + f^2 * (-1/2 + f*q(f)), f in [sqrt(1/2) - 1, sqrt(2) - 1]
    lo, hi = math.sqrt(0.5) - 1 - 1e-6, math.sqrt(2) - 1 + 1e-6
    g = lambda f: (np.log1p(f) - f + f * f / 2) / f**3   # noqa: E731
    c = lawson_fit(g, lo, hi, 7, lambda f: np.log1p(f) / f**3)
    f = np.linspace(lo, hi, 200001)
    f = f[f != 0]
    report("LOG_Q", c, f, f + f * f * (-0.5 + f * poly(c, f)), np.log1p(f))
    # tanh(x) = x + x^3 * q(x^2), x in [0, 0.75]
    g = lambda u: (np.tanh(np.sqrt(u)) - np.sqrt(u)) / u**1.5   # noqa: E731
    c = lawson_fit(g, 1e-6, 0.5625, 5, lambda u: np.tanh(np.sqrt(u)) / u**1.5)
    x = np.linspace(1e-4, 0.75, 200001)
    report("TANH_Q", c, x, x + x**3 * poly(c, x * x), np.tanh(x))
    # sin(r) = r + r^3 * s(r^2), cos(r) = 1 - r^2/2 + r^4 * k(r^2), |r| <= 0.8 (pi/4 plus slack)
    g = lambda u: (np.sin(np.sqrt(u)) - np.sqrt(u)) / u**1.5   # noqa: E731
    c = lawson_fit(g, 1e-6, 0.64, 3, lambda u: np.sin(np.sqrt(u)) / u**1.5)
    r = np.linspace(1e-4, 0.8, 200001)
    report("SIN_Q", c, r, r + r**3 * poly(c, r * r), np.sin(r))
    g = lambda u: (np.cos(np.sqrt(u)) - 1 + u / 2) / u**2   # noqa: E731
    c = lawson_fit(g, 1e-6, 0.64, 3, lambda u: np.cos(np.sqrt(u)) / u**2)
    report("COS_Q", c, r, 1 - r * r / 2 + r**4 * poly(c, r * r), np.cos(r))
    # atan, asin, sinh, tan, asinh, atanh: f(x) = x + x^3 * q(x^2) on [0, 1], [0, 0.5625], [0, 1],
    # [0, 0.8] (pi/4 plus slack), [0, 0.5], [0, 0.5]
    for name, fn, hi, degree in [("ATAN_Q", np.arctan, 1.0, 8), ("ASIN_Q", np.arcsin, 0.5625, 5),
                                 ("SINH_Q", np.sinh, 1.0, 3), ("TAN_Q", np.tan, 0.8, 7),
                                 ("ASINH_Q", np.arcsinh, 0.5, 4), ("ATANH_Q", np.arctanh, 0.5, 6)]:
        g = lambda u, fn=fn: (fn(np.sqrt(u)) - np.sqrt(u)) / u**1.5   # noqa: E731
        c = lawson_fit(g, 1e-8, hi * hi, degree, lambda u, fn=fn: fn(np.sqrt(u)) / u**1.5)
        x = np.linspace(1e-4, hi, 400001)
        report(name, c, x, x + x**3 * poly(c, x * x), fn(x))


if __name__ == "__main__":
    main()
