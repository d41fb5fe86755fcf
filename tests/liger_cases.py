"""Liger-Kernel's ops (liger_kernel.ops, as published), forward and backward, against torch's own
implementations: run by test_liger_kernel.py in a child process where jitspv is Triton's backend.
Each case returns (max error, allowed error)."""
import json

import torch
import torch.nn.functional as F


def _grads(ours, ref, inputs, upstream=None):
    """Max abs difference of the outputs and of every input gradient; the upstream gradient is
    cloned for each side (Liger's in-place kernels overwrite it)."""
    a = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    b = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    ya, yb = ours(*a), ref(*b)
    g = torch.randn_like(yb) if upstream is None else upstream
    ya.backward(g.clone())
    yb.backward(g.clone())
    err = (ya.detach().float() - yb.detach().float()).abs().max().item()
    for x, y in zip(a, b):
        if x.grad is not None:
            err = max(err, (x.grad.float() - y.grad.float()).abs().max().item())
    return err


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def rms_norm(dtype):
    from liger_kernel.ops.rms_norm import LigerRMSNormFunction
    X, W = torch.randn(4, 37, 257).to(dtype), torch.randn(257).to(dtype)

    def ref(x, w):
        return (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6)).to(dtype) * w
    return _grads(lambda x, w: LigerRMSNormFunction.apply(x, w, 1e-6), ref, [X, W])


def swiglu(dtype):
    from liger_kernel.ops.swiglu import LigerSiLUMulFunction
    a, b = torch.randn(3, 33, 511).to(dtype), torch.randn(3, 33, 511).to(dtype)
    return _grads(LigerSiLUMulFunction.apply, lambda a, b: (F.silu(a.float()) * b.float()).to(dtype), [a, b])


def geglu(dtype):
    from liger_kernel.ops.geglu import LigerGELUMulFunction
    a, b = torch.randn(3, 33, 511).to(dtype), torch.randn(3, 33, 511).to(dtype)
    return _grads(LigerGELUMulFunction.apply, lambda a, b: (F.gelu(a.float(), approximate="tanh") * b.float()).to(dtype),
                  [a, b])


def layer_norm(dtype):
    from liger_kernel.ops.layer_norm import LigerLayerNormFunction
    X, W, B = torch.randn(77, 300), torch.randn(300), torch.randn(300)
    return _grads(lambda x, w, b: LigerLayerNormFunction.apply(x, w, b, 1e-5),
                  lambda x, w, b: F.layer_norm(x, (300,), w, b, 1e-5), [X, W, B])


def softmax(dtype):
    from liger_kernel.ops.softmax import LigerSoftmaxFunction
    return _grads(LigerSoftmaxFunction.apply, lambda x: torch.softmax(x, -1), [torch.randn(37, 1000)])


def cross_entropy(dtype):
    from liger_kernel.ops.cross_entropy import LigerCrossEntropyFunction
    x, t = torch.randn(64, 1000).to(dtype), torch.randint(0, 1000, (64,))
    t[::7] = -100
    return _grads(lambda x: _first(LigerCrossEntropyFunction.apply(x, t, None, -100, 0.0, 0.1, "mean")),
                  lambda x: F.cross_entropy(x.float(), t, ignore_index=-100, label_smoothing=0.1), [x],
                  upstream=torch.tensor(1.0))


def fused_linear_cross_entropy(dtype):
    from liger_kernel.ops.fused_linear_cross_entropy import LigerFusedLinearCrossEntropyFunction
    x, w, t = torch.randn(64, 128), torch.randn(500, 128) * 0.1, torch.randint(0, 500, (64,))
    return _grads(lambda x, w: _first(LigerFusedLinearCrossEntropyFunction.apply(x, w, t)),
                  lambda x, w: F.cross_entropy(x @ w.T, t), [x, w], upstream=torch.tensor(1.0))


def kl_div(dtype):
    from liger_kernel.ops.kl_div import LigerKLDivLossFunction
    p, q = torch.log_softmax(torch.randn(32, 700), -1), torch.softmax(torch.randn(32, 700), -1)
    return _grads(lambda p, q: LigerKLDivLossFunction.apply(p, q, "batchmean", False),
                  lambda p, q: F.kl_div(p, q, reduction="batchmean"), [p, q], upstream=torch.tensor(1.0))


def jsd(dtype):
    from liger_kernel.ops.jsd import LigerJSDFunction
    x, y = torch.log_softmax(torch.randn(32, 700), -1), torch.log_softmax(torch.randn(32, 700), -1)

    def ref(x, y):
        m = 0.5 * (x.exp() + y.exp())
        return 0.5 * ((y.exp() * (y - m.log())).sum() + (x.exp() * (x - m.log())).sum()) / x.shape[0]
    return _grads(lambda x, y: LigerJSDFunction.apply(x, y, None, 0.5), ref, [x, y], upstream=torch.tensor(1.0))


def rope(dtype):
    from liger_kernel.ops.rope import LigerRopeFunction
    B, H, T, D = 2, 4, 17, 64
    q, k = torch.randn(B, H, T, D), torch.randn(B, 2, T, D)
    angle = torch.arange(T)[:, None] * (1.0 / 10000 ** (torch.arange(0, D, 2) / D))[None]
    emb = torch.cat([angle, angle], -1)
    cos, sin = emb.cos()[None], emb.sin()[None]

    def rotated(x):
        x1, x2 = x.chunk(2, -1)
        return torch.cat([-x2, x1], -1)

    def ours(q, k):
        a, b = LigerRopeFunction.apply(q, k, cos, sin)
        return torch.cat([a.flatten(), b.flatten()])

    def ref(q, k):
        c, s = cos[:, None], sin[:, None]
        return torch.cat([(q * c + rotated(q) * s).flatten(), (k * c + rotated(k) * s).flatten()])
    return _grads(ours, ref, [q, k])


def group_norm(dtype):
    from liger_kernel.ops.group_norm import LigerGroupNormFunction
    X, W, B = torch.randn(3, 8, 50), torch.randn(8), torch.randn(8)
    return _grads(lambda x, w, b: LigerGroupNormFunction.apply(x, w, b, 8, 4, 1e-5),
                  lambda x, w, b: F.group_norm(x, 4, w, b, 1e-5), [X, W, B])


def tvd(dtype):
    from liger_kernel.ops.tvd import LigerTVDLossFunction
    p, q = torch.softmax(torch.randn(32, 700), -1), torch.softmax(torch.randn(32, 700), -1)
    return _grads(LigerTVDLossFunction.apply, lambda p, q: 0.5 * (p - q).abs().sum() / p.shape[0], [p, q],
                  upstream=torch.tensor(1.0))


def sparsemax(dtype):
    from liger_kernel.ops.sparsemax import LigerSparsemaxFunction

    def ref(x):
        z, _ = torch.sort(x, -1, descending=True)
        k = torch.arange(1, x.shape[-1] + 1)
        cs = z.cumsum(-1)
        kz = ((1 + k * z) > cs).sum(-1, keepdim=True)
        return torch.clamp(x - (cs.gather(-1, kz - 1) - 1) / kz, min=0)
    return _grads(lambda x: LigerSparsemaxFunction.apply(x, -1), ref, [torch.randn(20, 100)])


# (case, dtype) -> allowed max error: fp32 within float rounding of differently ordered sums; bf16
# within a couple of bf16 ulps of the outputs (|values| < 8). Liger's dyt is left out: its backward
# sizes a buffer by the CUDA/XPU/NPU core count and has no branch for other devices.
CASES = {(f, "float32"): 1e-3 for f in (rms_norm, swiglu, geglu, layer_norm, softmax, cross_entropy,
                                        fused_linear_cross_entropy, kl_div, jsd, rope, group_norm, tvd, sparsemax)}
CASES.update({(f, "bfloat16"): 0.07 for f in (rms_norm, swiglu, geglu, layer_norm, softmax, fused_linear_cross_entropy,
                                             kl_div, jsd, rope, group_norm, tvd, sparsemax)})
CASES[(cross_entropy, "bfloat16")] = 0.02   # Liger returns the loss (about 7) in bf16: half an ulp is 0.016


def run_all():
    """Prints one JSON line: case id -> [error, allowed] or the exception text."""
    results = {}
    for (case, dtype), allowed in CASES.items():
        torch.manual_seed(len(results))
        try:
            results[f"{case.__name__}-{dtype}"] = [case(getattr(torch, dtype)), allowed]
        except Exception as e:  # noqa: BLE001 - reported per case by the parent test
            results[f"{case.__name__}-{dtype}"] = f"{type(e).__name__}: {e}"[:2000]
    print("LIGER " + json.dumps(results))
