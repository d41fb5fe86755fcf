"""`python -m jitspv <command>`: small tools. Commands register in COMMANDS (name -> (help, function))."""
from __future__ import annotations

import argparse
import sys


def _host_array_placement(device) -> str:
    """What a launch does with numpy arrays and torch CPU tensors."""
    if not device.properties.host_import_alignment:
        return "copied (VK_EXT_external_memory_host absent, or removed by JITSPV_DEVICE_LIMITS)"
    if not device.memory.host_arrays_in_place():
        return "copied (VK_EXT_external_memory_host imports them outside device-local memory)"
    return "in place (VK_EXT_external_memory_host, device-local)"


def _info(args) -> int:
    """Lists Vulkan devices, the one jitspv picks, its limits and optional features."""
    from jitspv.vk.device import get_device, get_instance
    instance = get_instance()
    print("Vulkan devices:")
    for p in instance.physical_devices:
        print(f"  {p.index}: {p.name} ({p.type_name}, Vulkan {'.'.join(map(str, p.api_version))})")
    device = get_device()
    p, f = device.properties, device.features
    kib = 1024
    print(f"\nChosen device: {device.physical.index}: {p.name}  (JITSPV_DEVICE picks by index or name)")
    if device.limits_text:
        print(f"  JITSPV_DEVICE_LIMITS   {device.limits_text} (applied to the limits and features below)")
    print(f"  driver                 {p.driver_name} {p.driver_info} (version {p.driver_version:#x})")
    print(f"  API version            {'.'.join(map(str, p.api_version))}; vendor {p.vendor_id:#06x}")
    print(f"  shared memory          {p.max_compute_shared_memory_size // kib} KiB per workgroup")
    print(f"  push constants         {p.max_push_constants_size} bytes")
    print(f"  subgroup size          {p.subgroup_size} (range {p.min_subgroup_size}..{p.max_subgroup_size})")
    print(f"  max workgroup count    {p.max_compute_workgroup_count}")
    print(f"  max workgroup size     {p.max_compute_workgroup_size}, {p.max_compute_workgroup_invocations} invocations")
    print(f"  max allocation         {p.max_memory_allocation_size / 2**30:.2f} GiB")
    print(f"  processors             {p.processor_count} ({p.processor_count_source})")
    print(f"  timestamps             {p.timestamp_valid_bits} valid bits, {p.timestamp_period} ns/tick")
    print(f"  host transfers         {device.memory.mode}")
    print(f"  host arrays            {_host_array_placement(device)}")
    optional = [("int64", f.int64), ("fp16", f.float16), ("fp64", f.float64), ("int8", f.int8), ("int16", f.int16),
                ("8/16-bit storage", f.storage_buffer_8bit and f.storage_buffer_16bit),
                ("fp32 atomic add", f.float32_atomic_add), ("fp32 atomic min/max", f.float32_atomic_minmax),
                ("fp64 atomic add", f.float64_atomic_add), ("int64 atomics", f.int64_atomics),
                ("device clock", f.device_clock),
                ("cooperative matrix KHR", f.cooperative_matrix_khr),
                ("cooperative matrix2 NV", f.cooperative_matrix2_nv),
                ("integer dot product", f.integer_dot_product), ("subgroup size control", f.subgroup_size_control),
                ("Vulkan memory model", f.vulkan_memory_model), ("scalar block layout", f.scalar_block_layout)]
    print("  optional features:")
    for name, present in optional:
        print(f"    {name:24s} {'yes' if present else 'no'}")
    if p.cooperative_matrix_shapes:   # not with JITSPV_COOPMAT=0
        print("  cooperative-matrix shapes tl.dot may use (M x N x K A B C result):")
        for m, n, k, *types in p.cooperative_matrix_shapes:
            print(f"    {m}x{n}x{k} {' '.join(types)}")
    return 0


def _cache(args) -> int:
    """Lists or clears the on-disk kernel cache ($JITSPV_CACHE_DIR, default ~/.cache/jitspv)."""
    from jitspv.frontend.cache import cli
    return cli([args.action])


COMMANDS = {
    "info": ("show Vulkan devices, the chosen one, its limits and features", _info),
    "cache": ("list or clear the on-disk kernel cache ($JITSPV_CACHE_DIR)", _cache),
}
# Positional arguments of the commands that take some.
ARGUMENTS = {"cache": lambda p: p.add_argument("action", choices=["list", "clear"])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jitspv")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, _) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        if name in ARGUMENTS:
            ARGUMENTS[name](command)
    args = parser.parse_args(argv)
    return COMMANDS[args.command][1](args)


if __name__ == "__main__":
    sys.exit(main())
