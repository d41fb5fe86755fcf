"""Real Triton kernels whose TTIR the bridge and parser tests go through.

Each case is (kernel, signature, constexprs, divisible_by_16, equal_to_1, ops the TTIR must
contain). They cover the constructs TTIR prints: masks, reductions, scans with user combine
functions, loops of every kind, dots, atomics, block pointers, shape ops, calls.
"""

import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask, other=0.0, cache_modifier=".cg", eviction_policy="evict_last")
    tl.store(out_ptr + offs, x + y, mask=mask)


@triton.jit
def softmax_kernel(out_ptr, in_ptr, in_stride, out_stride, n_rows, n_cols, BLOCK: tl.constexpr):
    row_start = tl.program_id(0)
    row_step = tl.num_programs(0)
    for row in tl.range(row_start, n_rows, row_step):
        cols = tl.arange(0, BLOCK)
        x = tl.load(in_ptr + row * in_stride + cols, mask=cols < n_cols, other=-float("inf"))
        x = x - tl.max(x, axis=0)
        num = tl.exp(x)
        out = num / tl.sum(num, axis=0)
        tl.store(out_ptr + row * out_stride + cols, out, mask=cols < n_cols)


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                  BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rm = pid_m * BM + tl.arange(0, BM)
    rn = pid_n * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    a_ptrs = a_ptr + rm[:, None] * stride_am + rk[None, :] * stride_ak
    b_ptrs = b_ptr + rk[:, None] * stride_bk + rn[None, :] * stride_bn
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BK)):
        a = tl.load(a_ptrs, mask=(rm[:, None] < M) & (rk[None, :] < K - k * BK), other=0.0)
        b = tl.load(b_ptrs, mask=(rk[:, None] < K - k * BK) & (rn[None, :] < N), other=0.0)
        acc = tl.dot(a, b, acc, input_precision="tf32")
        a_ptrs += BK * stride_ak
        b_ptrs += BK * stride_bk
    c = acc.to(tl.float16)
    tl.store(c_ptr + rm[:, None] * stride_cm + rn[None, :] * stride_cn, c, mask=(rm[:, None] < M) & (rn[None, :] < N))


@triton.jit
def argmax_kernel(x_ptr, out_idx_ptr, out_max_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=float("-inf"))
    idx = tl.argmax(x, axis=0)
    tl.store(out_idx_ptr, idx)
    tl.store(out_max_ptr, tl.max(x, axis=0))


@triton.jit
def _mul_combine(a, b):
    return a * b


@triton.jit
def scan_kernel(x_ptr, sum_ptr, prod_ptr, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0)
    tl.store(sum_ptr + offs, tl.cumsum(x, axis=0), mask=offs < n)
    tl.store(prod_ptr + offs, tl.associative_scan(x, 0, _mul_combine, reverse=True), mask=offs < n)


@triton.jit
def atomics_kernel(x_ptr, total_ptr, lock_ptr, count_ptr, acc_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
    tl.atomic_add(total_ptr, tl.sum(x, axis=0))
    tl.atomic_max(acc_ptr + offs, x, mask=offs < n, sem="relaxed", scope="gpu")
    # Spin lock as in the layer-norm backward tutorial.
    while tl.atomic_cas(lock_ptr, 0, 1) == 1:
        pass
    count = tl.load(count_ptr)
    tl.store(count_ptr, count + 1)
    tl.debug_barrier()
    tl.atomic_xchg(lock_ptr, 0)


@triton.jit
def collatz_kernel(x_ptr, steps_ptr):
    pid = tl.program_id(0)
    v = tl.load(x_ptr + pid)
    steps = 0
    while v != 1:
        if v % 2 == 0:
            v = v // 2
        else:
            v = 3 * v + 1
        steps += 1
    tl.store(steps_ptr + pid, steps)


@triton.jit
def scalar_if_kernel(x_ptr, out_ptr, scale, flag, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
    if flag:
        y = x * scale
    else:
        y = x + scale
    if n > 100:
        y = tl.abs(y)
    tl.store(out_ptr + offs, y, mask=offs < n)


@triton.jit
def where_cast_rand_kernel(x_ptr, out16_ptr, outi_ptr, outu_ptr, seed, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
    r = tl.rand(seed, offs)
    y = tl.where(r > 0.5, x, -x)
    y = tl.sqrt(tl.abs(y)) + tl.exp2(y) * tl.log(tl.abs(y) + 1.0) + tl.sin(y) + tl.fma(y, y, 1.5)
    y = tl.minimum(tl.maximum(y, -3.0), 1e30)
    tl.store(out16_ptr + offs, y.to(tl.float16), mask=offs < n)
    tl.store(outi_ptr + offs, (y * 100).to(tl.int32) >> 2, mask=offs < n)
    tl.store(outu_ptr + offs, y.to(tl.uint8, bitcast=False), mask=offs < n)
    tl.store(outu_ptr + offs + n, (x.to(tl.int32, bitcast=True) & 0xFF).to(tl.uint8), mask=offs < n)


@triton.jit
def shapes_kernel(x_ptr, out_ptr, M: tl.constexpr, N: tl.constexpr):
    rm = tl.arange(0, M)
    rn = tl.arange(0, N)
    x = tl.load(x_ptr + rm[:, None] * N + rn[None, :])
    t = tl.trans(x)
    r = tl.reshape(t, (M * N,))
    a, b = tl.split(tl.reshape(x, (M * N // 2, 2)))
    j = tl.reshape(tl.join(b, a * r.reshape(M * N // 2, 2).sum(axis=1)), (M * N,))
    p = tl.permute(tl.reshape(j, (N, M)), (1, 0))
    e = tl.expand_dims(tl.sum(p, axis=1), 1)
    tl.store(out_ptr + rm[:, None] * N + rn[None, :], tl.broadcast_to(e, (M, N)) + x)


@triton.jit
def block_ptr_kernel(x_ptr, out_ptr, M, N, stride_m, BM: tl.constexpr, BN: tl.constexpr):
    pid = tl.program_id(0)
    x_block = tl.make_block_ptr(base=x_ptr, shape=(M, N), strides=(stride_m, 1), offsets=(pid * BM, 0),
                                block_shape=(BM, BN), order=(1, 0))
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for _ in range(0, tl.cdiv(N, BN)):
        acc += tl.load(x_block, boundary_check=(0, 1), padding_option="zero")
        x_block = tl.advance(x_block, (0, BN))
    out_block = tl.make_block_ptr(base=out_ptr, shape=(M, BN), strides=(BN, 1), offsets=(pid * BM, 0),
                                  block_shape=(BM, BN), order=(1, 0))
    tl.store(out_block, acc, boundary_check=(0, 1))


@triton.jit
def tensor_desc_kernel(x_ptr, out_ptr, M, N, BM: tl.constexpr, BN: tl.constexpr):
    pid = tl.program_id(0)
    desc = tl.make_tensor_descriptor(x_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])
    out = tl.make_tensor_descriptor(out_ptr, shape=[M, N], strides=[N, 1], block_shape=[BM, BN])
    out.store([pid * BM, 0], desc.load([pid * BM, 0]) * 2.0)


@triton.jit(noinline=True)
def _scaled(total, scale):
    # noinline functions take scalars only.
    return total * scale + 1.0


@triton.jit
def noinline_call_kernel(x_ptr, out_ptr, scale, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n, other=0.0)
    tl.store(out_ptr, _scaled(tl.sum(x, axis=0), scale))


@triton.jit
def _argmin_combine(v0, i0, v1, i1):
    keep = (v0 < v1) | ((v0 == v1) & (i0 < i1))
    return tl.where(keep, v0, v1), tl.where(keep, i0, i1)


@triton.jit
def tuple_reduce_kernel(x_ptr, out_v_ptr, out_i_ptr, M, N: tl.constexpr, BM: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.arange(0, N)
    x = tl.load(x_ptr + rm[:, None] * N + rn[None, :], mask=rm[:, None] < M, other=1e9)
    idx = tl.broadcast_to(rn[None, :], (BM, N))
    v, i = tl.reduce((x, idx), 1, _argmin_combine)
    tl.store(out_v_ptr + rm, v, mask=rm < M)
    tl.store(out_i_ptr + rm, i, mask=rm < M)


@triton.jit
def int64_uint_kernel(x_ptr, out_ptr, big, flag, n, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK).to(tl.int64) + big
    x = tl.load(x_ptr + offs - big, mask=offs - big < n, other=0)
    y = tl.umulhi(x, x) + (x // 7) % 5 + (x.to(tl.uint32) >> 3).to(tl.int32)
    y = tl.where(flag, y, y ^ 0x5A5A)
    tl.store(out_ptr + offs - big, y, mask=offs - big < n)


TRITON_VERSION = tuple(int(p) for p in triton.__version__.split(".")[:2])
# tl.debug_barrier: gpu.barrier on 3.6, `ttg.barrier local|global_read|...` on 3.9.
BARRIER = "gpu.barrier" if TRITON_VERSION < (3, 9) else "ttg.barrier"
PTR = "*fp32"
CASES = {
    "add": (add_kernel, {"x_ptr": PTR, "y_ptr": PTR, "out_ptr": PTR, "n": "i32", "BLOCK": "constexpr"},
            {"BLOCK": 1024}, {"x_ptr", "y_ptr", "out_ptr"}, set(),
            ["tt.get_program_id", "tt.make_range", "tt.load", "tt.store", "arith.cmpi", "tt.addptr"]),
    "softmax": (softmax_kernel, {"out_ptr": PTR, "in_ptr": PTR, "in_stride": "i32", "out_stride": "i32",
                                 "n_rows": "i32", "n_cols": "i32", "BLOCK": "constexpr"},
                {"BLOCK": 256}, {"in_stride"}, set(),
                ["scf.for", "tt.reduce", "tt.reduce.return", "arith.maxnumf", "math.exp", "arith.divf"]),
    "matmul": (matmul_kernel, {"a_ptr": "*fp16", "b_ptr": "*fp16", "c_ptr": "*fp16", "M": "i32", "N": "i32", "K": "i32",
                               "stride_am": "i32", "stride_ak": "i32", "stride_bk": "i32", "stride_bn": "i32",
                               "stride_cm": "i32", "stride_cn": "i32", "BM": "constexpr", "BN": "constexpr",
                               "BK": "constexpr"},
               {"BM": 32, "BN": 64, "BK": 16}, {"stride_am", "stride_bk", "stride_cm"}, {"stride_ak", "stride_bn", "stride_cn"},
               ["scf.for", "tt.dot", "scf.yield", "tt.broadcast", "tt.expand_dims", "arith.truncf"]),
    "argmax": (argmax_kernel, {"x_ptr": PTR, "out_idx_ptr": "*i32", "out_max_ptr": PTR, "n": "i32",
                               "BLOCK": "constexpr"}, {"BLOCK": 128}, set(), set(), ["tt.reduce", "arith.select"]),
    "scan": (scan_kernel, {"x_ptr": "*i32", "sum_ptr": "*i32", "prod_ptr": "*i32", "n": "i32", "BLOCK": "constexpr"},
             {"BLOCK": 64}, set(), set(), ["tt.scan", "tt.scan.return", "arith.muli"]),
    "atomics": (atomics_kernel, {"x_ptr": PTR, "total_ptr": PTR, "lock_ptr": "*i32", "count_ptr": "*i32",
                                 "acc_ptr": PTR, "n": "i32", "BLOCK": "constexpr"},
                {"BLOCK": 128}, set(), set(), ["tt.atomic_rmw", "tt.atomic_cas", "scf.while", "scf.condition",
                                               BARRIER]),
    "while": (collatz_kernel, {"x_ptr": "*i64", "steps_ptr": "*i32"}, {}, set(), set(),
              ["scf.while", "scf.if", "arith.remsi", "arith.divsi"]),
    "scalar_if": (scalar_if_kernel, {"x_ptr": PTR, "out_ptr": PTR, "scale": "fp32", "flag": "u1", "n": "i32",
                                     "BLOCK": "constexpr"}, {"BLOCK": 32}, set(), set(), ["scf.if", "math.absf"]),
    "where_cast_rand": (where_cast_rand_kernel, {"x_ptr": PTR, "out16_ptr": "*fp16", "outi_ptr": "*i32",
                                                 "outu_ptr": "*u8", "seed": "i32", "n": "i32", "BLOCK": "constexpr"},
                        {"BLOCK": 128}, set(), set(),
                        ["arith.select", "arith.truncf", "arith.fptosi", "math.sqrt", "math.fma", "arith.shrsi",
                         "tt.bitcast", "math.exp2", "math.log", "math.sin"]),
    "shapes": (shapes_kernel, {"x_ptr": PTR, "out_ptr": PTR, "M": "constexpr", "N": "constexpr"},
               {"M": 8, "N": 16}, set(), set(), ["tt.trans", "tt.reshape", "tt.join", "tt.split", "tt.expand_dims"]),
    "tensor_desc": (tensor_desc_kernel, {"x_ptr": PTR, "out_ptr": PTR, "M": "i32", "N": "i32", "BM": "constexpr",
                                         "BN": "constexpr"}, {"BM": 16, "BN": 32}, {"x_ptr", "out_ptr", "N"}, set(),
                    ["tt.load", "tt.store", "tt.addptr"]),
}
if TRITON_VERSION < (3, 9):
    # Triton 3.9 removed tl.make_block_ptr ("removed in favor of the tensor descriptor API").
    CASES["block_ptr"] = (block_ptr_kernel, {"x_ptr": PTR, "out_ptr": PTR, "M": "i32", "N": "i32", "stride_m": "i32",
                                     "BM": "constexpr", "BN": "constexpr"}, {"BM": 16, "BN": 32}, set(), set(),
                  ["tt.load", "tt.store", "scf.for"])
CASES |= {
    "noinline_call": (noinline_call_kernel, {"x_ptr": PTR, "out_ptr": PTR, "scale": "fp32", "n": "i32",
                                             "BLOCK": "constexpr"}, {"BLOCK": 64}, set(), set(),
                      ["tt.call", "tt.func", "tt.reduce"]),
    "tuple_reduce": (tuple_reduce_kernel, {"x_ptr": PTR, "out_v_ptr": PTR, "out_i_ptr": "*i32", "M": "i32",
                                           "N": "constexpr", "BM": "constexpr"}, {"N": 16, "BM": 4}, set(), set(),
                     ["tt.reduce", "arith.ori", "arith.andi", "arith.cmpf"]),
    "int64_uint": (int64_uint_kernel, {"x_ptr": "*i32", "out_ptr": "*i32", "big": "i64", "flag": "u1", "n": "i32",
                                       "BLOCK": "constexpr"}, {"BLOCK": 64}, set(), set(),
                   ["tt.mulhiui", "arith.extsi", "arith.shrui", "arith.xori"]),
}
