"""Compile time (cold, split by stage; warm from the disk cache) and cache-hit launch cost.

For vector add and a row softmax (Triton's tutorial kernels, written for jitspv):
  cold      : empty disk cache, new process state: Triton frontend + jitspv lowering + Vulkan pipeline
  disk      : in-memory cache dropped, entry on disk: load + pipeline
  pipeline.launch: the runtime's recording cost for one dispatch (one workgroup)
  frontend adds  : `kernel[grid](...)` on jitspv arrays with the pipeline's recording switched off, i.e.
                   the Python the frontend adds to each cache-hit launch (goal < 10 us)
Then the first launch of the softmax in a fresh process (imports done before the clock starts,
until the result is on the device), jitspv next to Triton-CUDA where CUDA is there: with an empty
cache directory (cold), and again with the cache the first process left (disk).

Run: python bench/compile_and_launch.py  (prints a table; results noted in bench/RESULTS.md)
"""
import os
import subprocess
import sys
import tempfile
import time

os.environ["JITSPV_CACHE_DIR"] = tempfile.mkdtemp(prefix="jitspv-bench-cache-")

import numpy as np  # noqa: E402
import triton  # noqa: E402

import jitspv  # noqa: E402
from bandwidth import jit_add as add_kernel  # noqa: E402  (the same vector add, bench/ is on sys.path)
from softmax_rows import softmax_rows  # noqa: E402


softmax_kernel = jitspv.kernel(softmax_rows)


def cases():
    n = 98432
    x, y = (jitspv.asarray(np.random.rand(n).astype(np.float32)) for _ in range(2))
    out = jitspv.empty(n)
    yield "vector add", add_kernel, (triton.cdiv(n, 1024),), (x, y, out, n), {"BLOCK": 1024}
    rows, cols = 256, 781
    a = jitspv.asarray(np.random.rand(rows, cols).astype(np.float32))
    b = jitspv.empty((rows, cols))
    yield "softmax", softmax_kernel, (rows,), (b, a, cols, cols, cols), {"BLOCK": 1024}


def per_launch_us(fn, n):
    jitspv.synchronize()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    elapsed = time.perf_counter() - start
    jitspv.synchronize()
    return elapsed / n * 1e6


def main():
    rows = []
    for name, kernel, grid, args, kwargs in cases():
        kernel.cache_clear()
        start = time.perf_counter()
        compiled = kernel[grid](*args, **kwargs)
        cold = time.perf_counter() - start
        t = compiled.timings
        kernel.cache_clear()
        start = time.perf_counter()
        compiled = kernel[grid](*args, **kwargs)
        disk = time.perf_counter() - start
        launcher = kernel[grid]
        grid3 = grid + (1,) * (3 - len(grid))
        block = compiled.pack_args(compiled_values(kernel, args, kwargs), grid3)
        n = 2000
        # The runtime's recording cost, on a one-workgroup grid so lavapipe's execution stays small.
        raw = min(per_launch_us(lambda: compiled.pipeline.launch((1, 1, 1), block), n) for _ in range(5))
        # The frontend's own Python: the same launch with the pipeline's recording switched off.
        compiled.pipeline.launch = lambda grid, args: None
        front = min(per_launch_us(lambda: launcher(*args, **kwargs), n) for _ in range(5))
        del compiled.pipeline.launch
        rows.append((name, t["frontend"] * 1e3, t["lowering"] * 1e3, t["pipeline"] * 1e3, cold * 1e3, disk * 1e3,
                     raw, front))
    head = ("kernel", "frontend ms", "lowering ms", "pipeline ms", "cold total ms", "from disk ms",
            "pipeline.launch us", "frontend adds us per hit launch")
    print(" | ".join(head))
    for r in rows:
        print(" | ".join([r[0]] + [f"{v:.1f}" if i < 5 else f"{v:.2f}" for i, v in enumerate(r[1:])]))


# A fresh process's first launch of the row softmax: prints the milliseconds from just before the
# launch to the result being on the device. BACKEND jitspv: jitspv.jit on jitspv arrays; cuda: the
# same kernel under @triton.jit on CUDA tensors.
_FIRST_LAUNCH = """
import sys, time
import numpy as np
import triton
backend = sys.argv[1]
sys.path.insert(0, sys.argv[2])   # bench/
from softmax_rows import softmax_rows as softmax_kernel

a = np.random.rand(256, 781).astype(np.float32)
if backend == "jitspv":
    import jitspv
    kernel, x, y, sync = jitspv.jit(softmax_kernel), jitspv.asarray(a), jitspv.empty((256, 781)), jitspv.synchronize
    sync()
else:
    import torch
    kernel, x = triton.jit(softmax_kernel), torch.from_numpy(a).cuda()
    y, sync = torch.empty_like(x), torch.cuda.synchronize
    sync()
start = time.perf_counter()
kernel[(256,)](y, x, 781, 781, 781, BLOCK=1024)
sync()
print((time.perf_counter() - start) * 1e3)
"""


def first_launch_ms(backend: str, cache: str) -> float:
    # (cache folders not named like the packages: the program's folder is on its sys.path)
    env = dict(os.environ, JITSPV_CACHE_DIR=os.path.join(cache, "jitspv-cache"),
               TRITON_CACHE_DIR=os.path.join(cache, "triton-cache"))
    program = os.path.join(cache, "first_launch.py")   # Triton reads a kernel's source from its file
    with open(program, "w") as f:
        f.write(_FIRST_LAUNCH)
    done = subprocess.run([sys.executable, program, backend, os.path.dirname(os.path.abspath(__file__))], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{backend} first launch failed:\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def fresh_process_table():
    try:
        import torch
        backends = ["jitspv"] + (["cuda"] if torch.cuda.is_available() else [])
    except ImportError:
        backends = ["jitspv"]
    print("\nsoftmax first launch in a fresh process | cold ms (empty cache) | disk ms (cache kept)")
    found = {}
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="first-launch-") as cache:
            found[backend] = (first_launch_ms(backend, cache), first_launch_ms(backend, cache))
        print(f"{'jitspv' if backend == 'jitspv' else 'Triton-CUDA'} | {found[backend][0]:.1f} | {found[backend][1]:.1f}")
    if "cuda" in found:
        print(f"Triton-CUDA / jitspv | {found['cuda'][0] / found['jitspv'][0]:.1f}x | "
              f"{found['cuda'][1] / found['jitspv'][1]:.1f}x")


def compiled_values(kernel, args, kwargs):
    values, _ = kernel._plan.bind(*args, **kwargs)
    _, launch = kernel._plan.specialize(values, None)
    return launch


if __name__ == "__main__":
    main()
    fresh_process_table()
