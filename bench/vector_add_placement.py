"""Where does vector-add bandwidth go? jitspv under memory-placement variants vs Triton-CUDA, same run.

Each variant runs in its own process (the memory type is chosen when the device is created):
  default      the allocator's choice (on NVIDIA: DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT, the BAR type)
  device_only  a DEVICE_LOCAL type without HOST_VISIBLE (host data then moves through staging copies)
  one_block    blocks of the allocation limit, so that all arrays share one VkDeviceMemory
For each: n = 2^20, 2^24, 2^28 fp32 with two distinct inputs, and x + x (one input array), at the
tutorial's BLOCK=1024 / 4 warps and at BLOCK=4096 / 8 warps. GB/s = 3 * 4 * n / t either way (x + x
reads one array twice, so it overcounts, as in the issue). Both sides time with their own do_bench
(Vulkan timestamps / CUDA events, L2 flushed between calls).

Run: python bench/vector_add_placement.py [--small] [--timeline [--no-cuda]]   (prints the memory types, then one table;
--small: sizes for lavapipe)
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import triton  # noqa: E402

from common import ClockSampler, cuda_available, table  # noqa: E402

SIZES = (16, 18) if "--small" in sys.argv else (20, 24, 26, 27, 28)
SHAPES = ((1024, 4), (4096, 8))
VARIANTS = ("default", "device_only", "one_block")


def _patch_device_only():
    """Make the allocator pick a device-local memory type that the host cannot map."""
    from jitspv.vk import memory
    chooser = memory._choose_types

    def choose(device):
        _, _, _, staging = chooser(device)
        mp, L = device.memory_properties, memory.lib()
        for i in range(mp.memoryTypeCount):
            flags = mp.memoryTypes[i].propertyFlags
            if flags & L.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT and not flags & L.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT:
                return i, False, False, staging
        raise SystemExit("no device-local type without HOST_VISIBLE")
    memory._choose_types = choose


def memory_types():
    from jitspv.vk import get_device, memory
    dev = get_device()
    mp, L = dev.memory_properties, memory.lib()
    names = {L.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT: "DL", L.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT: "HV",
             L.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT: "HCO", L.VK_MEMORY_PROPERTY_HOST_CACHED_BIT: "HCA"}
    out = []
    for i in range(mp.memoryTypeCount):
        t = mp.memoryTypes[i]
        flags = "|".join(n for bit, n in names.items() if t.propertyFlags & bit) or "-"
        out.append(f"type {i}: {flags} heap {t.heapIndex} ({mp.memoryHeaps[t.heapIndex].size / 2**30:.1f} GiB)")
    out.append(f"chosen device type: {dev.memory.device_heap.type_index}, host transfer mode {dev.memory.mode}, "
               f"block size {dev.memory.device_heap.block_size >> 20} MiB, max workgroups "
               f"{tuple(dev.properties.max_compute_workgroup_count)}")
    return out


def child(variant):
    if variant == "device_only":
        _patch_device_only()
    if variant == "one_block":
        from jitspv.vk import memory
        memory.BLOCK_SIZE = 4 << 30
    import jitspv
    from jitspv.testing import do_bench
    from bandwidth import jit_add
    result = {"types": memory_types(), "gbs": {}}
    for bits in SIZES:
        n = 1 << bits
        x, y = np.random.rand(n).astype(np.float32), np.random.rand(n).astype(np.float32)
        X, Y, O = jitspv.asarray(x), jitspv.asarray(y), jitspv.full(n, np.nan)
        for block, warps in SHAPES:
            grid = (triton.cdiv(n, block),)
            for name, b in (("x+y", Y), ("x+x", X)):
                run = lambda: jit_add[grid](X, b, O, n, BLOCK=block, num_warps=warps)  # noqa: E731
                run()
                ref = x + (y if b is Y else x)
                assert np.array_equal(O.numpy(), ref), (variant, bits, block, name)
                result["gbs"][f"{bits}/{block}/{warps}/{name}"] = 12 * n / do_bench(run) * 1e-6
                if bits == SIZES[-1]:  # cross-check the timestamps with the host clock
                    jitspv.synchronize()
                    t = time.perf_counter()
                    for _ in range(20):
                        run()
                    jitspv.synchronize()
                    result["gbs"][f"{bits}/{block}/{warps}/{name} wall"] = 12 * n * 20 / (time.perf_counter() - t) * 1e-9
        del X, Y, O
    print("RESULT " + json.dumps(result))


def triton_cuda():
    import torch
    from bandwidth import add_kernel
    out = {}
    for bits in SIZES:
        n = 1 << bits
        tx, ty = torch.rand(n, device="cuda"), torch.rand(n, device="cuda")
        to = torch.empty_like(tx)
        for block, warps in SHAPES:
            grid = (triton.cdiv(n, block),)
            for name, b in (("x+y", ty), ("x+x", tx)):
                ms = triton.testing.do_bench(lambda: add_kernel[grid](tx, b, to, n, BLOCK=block, num_warps=warps))
                out[f"{bits}/{block}/{warps}/{name}"] = 12 * n / ms * 1e-6
    return out


def timeline(steps=30):
    """One set of 2^28 arrays timed again and again: does the rate move over time, with the clocks?"""
    import jitspv
    from jitspv.testing import do_bench
    from bandwidth import jit_add, add_kernel
    use_cuda = "--no-cuda" not in sys.argv and cuda_available()
    n = 1 << 28
    x, y = np.random.rand(n).astype(np.float32), np.random.rand(n).astype(np.float32)
    X, Y, O = jitspv.asarray(x), jitspv.asarray(y), jitspv.full(n, np.nan)
    grid = (n // 1024,)
    run = lambda: jit_add[grid](X, Y, O, n, BLOCK=1024, num_warps=4)  # noqa: E731
    run()
    assert np.array_equal(O.numpy(), x + y)
    if use_cuda:
        import torch
        tx, ty = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()
        to = torch.empty_like(tx)
    t0 = time.perf_counter()
    rows = []
    for step in range(steps):
        row = [step, time.perf_counter() - t0, 12 * n / do_bench(run, rep=50) * 1e-6]
        row.append(12 * n / triton.testing.do_bench(
            lambda: add_kernel[grid](tx, ty, to, n, BLOCK=1024, num_warps=4), rep=50) * 1e-6 if use_cuda else None)
        try:
            row.append(subprocess.run(["nvidia-smi", "--query-gpu=clocks.sm,clocks.mem,pstate,power.draw",
                                       "--format=csv,noheader"], capture_output=True, text=True).stdout.strip())
        except FileNotFoundError:
            row.append(None)
        rows.append(row)
        if step == steps // 2:  # a fresh set of arrays halfway: does placement matter?
            del X, Y, O
            X, Y, O = jitspv.asarray(x), jitspv.asarray(y), jitspv.full(n, np.nan)
            rows.append(["new arrays", "", ""])
    print(table(["step", "s", "jitspv GB/s", "Triton-CUDA GB/s", "sm, mem clock, pstate, power"], rows))


def iterations(rounds=4):
    """Per-call times of the bandwidth.py measurement: are slow calls mixed in, or whole runs slow?"""
    import jitspv
    from jitspv.testing import do_bench
    from bandwidth import jit_add
    n = 1 << 28
    x, y = np.random.rand(n).astype(np.float32), np.random.rand(n).astype(np.float32)
    clocks = ClockSampler()
    rows = []
    for r in range(rounds):
        X, Y, O = jitspv.asarray(x), jitspv.asarray(y), jitspv.full(n, np.nan)
        run = lambda: jit_add[(n // 1024,)](X, Y, O, n, BLOCK=1024, num_warps=4)  # noqa: E731
        run()
        assert np.array_equal(O.numpy(), x + y)
        for rep in (100, 50, 100):
            with clocks:
                t = sorted(do_bench(run, rep=rep, return_mode="all"))
            sm = clocks.sm_mhz and f"{'-'.join(map(str, clocks.sm_mhz))} (reasons {clocks.reasons:#x})"
            gbs = [12 * n / v * 1e-6 for v in (t[0], t[len(t) // 2], t[-1])]
            slow = sum(v > 1.3 * t[0] for v in t)
            rows.append([r, rep, len(t), *gbs, slow, hex(X.data_ptr()), sm])
        del X, Y, O
    print(table(["arrays", "rep ms", "calls", "best GB/s", "median GB/s", "worst GB/s", "calls > 1.3x best",
                 "x address", "SM MHz min-median-max"], rows))


def main():
    if "--iterations" in sys.argv:
        return iterations()
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        return child(sys.argv[2])
    if "--timeline" in sys.argv:
        return timeline()
    results = {}
    for variant in VARIANTS:
        proc = subprocess.run([sys.executable, __file__, "--child", variant] + sys.argv[1:], capture_output=True, text=True,
                              env=os.environ)
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not line:
            print(f"variant {variant} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
            continue
        results[variant] = json.loads(line[0][7:])
    for variant, r in results.items():
        print(f"## {variant}\n" + "\n".join(r["types"]))
    reference = triton_cuda() if cuda_available() else {}
    rows = []
    for key in next(iter(results.values()))["gbs"]:
        bits, block, warps, name = key.split("/")
        row = [f"2^{bits}", f"{block}/{warps}", name] + [results[v]["gbs"][key] for v in results]
        if reference:
            ref = reference.get(key.replace(" wall", ""))
            row += [ref] + [results[v]["gbs"][key] / ref for v in results]
        rows.append(row)
    cols = ["n", "BLOCK/warps", "inputs"] + [f"jitspv {v} GB/s" for v in results]
    if reference:
        cols += ["Triton-CUDA GB/s"] + [f"{v} / Triton" for v in results]
    print(table(cols, rows))


if __name__ == "__main__":
    main()
