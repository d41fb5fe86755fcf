"""Vulkan instance, physical-device choice, logical device with the features kernels need.

Environment:
  JITSPV_DEVICE      index (as listed by `python -m jitspv info`) or case-insensitive name substring
  JITSPV_VALIDATION  1: VK_LAYER_KHRONOS_validation + a debug messenger recording every warning and
                     error (read them with `validation_messages()`); "sync": also synchronization
                     validation. GPU-assisted validation stays off.
  JITSPV_DEVICE_LIMITS comma-separated: run as if the device lacked a feature ("no-fp64", see
                     _REMOVABLE_FEATURES) or had a smaller limit ("shared=16384", see _SHRINKABLE_LIMITS)
"""
from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass, fields, replace

from jitspv.errors import DeviceNotSupported, JitspvError
from jitspv.vk.binding import NULL, DeviceFunctions, check, ffi, instance_function, lib
from jitspv.vk.memory import MemoryManager
from jitspv.vk.pipeline import PipelineCache
from jitspv.vk.stream import QueryPools, Stream

_TYPE_NAMES = {0: "other", 1: "integrated GPU", 2: "discrete GPU", 3: "virtual GPU", 4: "CPU"}
_TYPE_RANK = {2: 0, 1: 1, 3: 2, 4: 3, 0: 4}  # discrete > integrated > virtual > CPU (lavapipe) > other
_VALIDATION_LAYER = b"VK_LAYER_KHRONOS_validation"


def _version(v: int) -> tuple:
    return ((v >> 22) & 0x7F, (v >> 12) & 0x3FF, v & 0xFFF)


def _make_version(major: int, minor: int) -> int:
    return (major << 22) | (minor << 12)


def _string(chars) -> str:
    return ffi.string(chars).decode(errors="replace")


# ---------------------------------------------------------------------------------------------------
# Validation messages

_messages: list[str] = []
_messages_lock = threading.Lock()


def _debug_callback(severity, types, data, user):
    # Runs on whatever thread the layer reports from; keep it small and never raise into C.
    try:
        text = _string(data.pMessage) if data != NULL and data.pMessage != NULL else "(no message)"
        level = "ERROR" if severity & lib().VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT else "WARNING"
        with _messages_lock:
            _messages.append(f"[{level}] {text}")
    except Exception:  # noqa: BLE001 - an exception here would be lost in C anyway
        pass
    return 0


_callback = None  # the cffi callback object, made on first use (creating it costs ~8 ms)


def _c_callback():
    global _callback
    if _callback is None:
        _callback = ffi.callback("PFN_vkDebugUtilsMessengerCallbackEXT", _debug_callback)
    return _callback


def validation_messages(clear: bool = True) -> list[str]:
    """Warnings and errors reported by the validation layer (and loader) since the last clear."""
    with _messages_lock:
        out = list(_messages)
        if clear:
            _messages.clear()
    return out


def _messenger_info():
    info = ffi.new("VkDebugUtilsMessengerCreateInfoEXT*")
    vk = lib()
    info.sType = vk.VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT
    info.messageSeverity = (vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT
                            | vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
    info.messageType = (vk.VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | vk.VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
                        | vk.VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)
    info.pfnUserCallback = _c_callback()
    return info


# ---------------------------------------------------------------------------------------------------
# Instance


class Instance:
    """A VkInstance (one per process) and the physical devices it sees."""

    def __init__(self):
        vk = lib()
        self.validation = os.environ.get("JITSPV_VALIDATION", "0").strip().lower() not in ("", "0", "false", "no")
        sync_validation = os.environ.get("JITSPV_VALIDATION", "").strip().lower() == "sync"
        version = ffi.new("uint32_t*")
        check("vkEnumerateInstanceVersion", vk.vkEnumerateInstanceVersion(version))
        if _version(version[0])[:2] < (1, 2):
            raise DeviceNotSupported(f"the Vulkan loader supports only {'.'.join(map(str, _version(version[0])))};"
                                     " jitspv needs Vulkan 1.2 or newer")
        # Our structs stop at 1.3; asking for more would make the layer expect 1.4 feature chains.
        self.api_version = min(version[0] & ~0xFFF, _make_version(1, 3))
        available = self._instance_extensions()
        keep = []  # cdata that must outlive vkCreateInstance
        extensions = []
        flags = 0
        if b"VK_KHR_portability_enumeration" in available:
            extensions.append(b"VK_KHR_portability_enumeration")
            flags |= vk.VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR
        layers = []
        pnext = NULL
        if self.validation:
            if _VALIDATION_LAYER not in self._layers():
                raise JitspvError("JITSPV_VALIDATION is set but VK_LAYER_KHRONOS_validation is not installed "
                                  "(Debian/Ubuntu: apt-get install vulkan-validationlayers)")
            if b"VK_EXT_debug_utils" not in available:
                raise JitspvError("JITSPV_VALIDATION is set but VK_EXT_debug_utils is not available")
            layers.append(_VALIDATION_LAYER)
            extensions.append(b"VK_EXT_debug_utils")
            messenger = _messenger_info()
            keep.append(messenger)
            pnext = messenger  # also catches messages from vkCreateInstance/vkDestroyInstance
            if sync_validation:
                enables = ffi.new("VkValidationFeatureEnableEXT[1]",
                                  [vk.VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT])
                features = ffi.new("VkValidationFeaturesEXT*", {
                    "sType": vk.VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT, "pNext": messenger,
                    "enabledValidationFeatureCount": 1, "pEnabledValidationFeatures": enables})
                keep += [enables, features]
                pnext = features
        app = ffi.new("VkApplicationInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_APPLICATION_INFO, "apiVersion": self.api_version,
            "applicationVersion": 1, "engineVersion": 1})
        keep.append(app)
        app.pApplicationName = app_name = ffi.new("char[]", b"jitspv")
        app.pEngineName = app_name
        ext_array = [ffi.new("char[]", e) for e in extensions]
        layer_array = [ffi.new("char[]", n) for n in layers]
        ext_ptrs = ffi.new("char*[]", ext_array)
        layer_ptrs = ffi.new("char*[]", layer_array)
        info = ffi.new("VkInstanceCreateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, "pNext": pnext, "flags": flags,
            "pApplicationInfo": app, "enabledLayerCount": len(layers), "ppEnabledLayerNames": layer_ptrs,
            "enabledExtensionCount": len(extensions), "ppEnabledExtensionNames": ext_ptrs})
        handle = ffi.new("VkInstance*")
        check("vkCreateInstance", vk.vkCreateInstance(info, NULL, handle))
        self.handle = handle[0]
        self.messenger = None
        if self.validation:
            create = instance_function(self.handle, "vkCreateDebugUtilsMessengerEXT")
            messenger_handle = ffi.new("VkDebugUtilsMessengerEXT*")
            check("vkCreateDebugUtilsMessengerEXT", create(self.handle, _messenger_info(), NULL, messenger_handle))
            self.messenger = messenger_handle[0]
        self.physical_devices = self._physical_devices()

    @staticmethod
    def _instance_extensions() -> set:
        vk = lib()
        count = ffi.new("uint32_t*")
        check("vkEnumerateInstanceExtensionProperties", vk.vkEnumerateInstanceExtensionProperties(NULL, count, NULL))
        props = ffi.new("VkExtensionProperties[]", count[0])
        check("vkEnumerateInstanceExtensionProperties", vk.vkEnumerateInstanceExtensionProperties(NULL, count, props))
        return {ffi.string(props[i].extensionName) for i in range(count[0])}

    @staticmethod
    def _layers() -> set:
        vk = lib()
        count = ffi.new("uint32_t*")
        check("vkEnumerateInstanceLayerProperties", vk.vkEnumerateInstanceLayerProperties(count, NULL))
        props = ffi.new("VkLayerProperties[]", count[0])
        check("vkEnumerateInstanceLayerProperties", vk.vkEnumerateInstanceLayerProperties(count, props))
        return {ffi.string(props[i].layerName) for i in range(count[0])}

    def _physical_devices(self) -> list:
        vk = lib()
        count = ffi.new("uint32_t*")
        check("vkEnumeratePhysicalDevices", vk.vkEnumeratePhysicalDevices(self.handle, count, NULL))
        handles = ffi.new("VkPhysicalDevice[]", count[0])
        check("vkEnumeratePhysicalDevices", vk.vkEnumeratePhysicalDevices(self.handle, count, handles))
        out = []
        for i in range(count[0]):
            props = ffi.new("VkPhysicalDeviceProperties*")
            vk.vkGetPhysicalDeviceProperties(handles[i], props)
            out.append(PhysicalDevice(i, handles[i], _string(props.deviceName), props.deviceType,
                                      _version(props.apiVersion)))
        return out

    def choose(self) -> "PhysicalDevice":
        """The device JITSPV_DEVICE names, else the best by type (discrete GPU first, lavapipe last)."""
        if not self.physical_devices:
            raise DeviceNotSupported("no Vulkan device found (install mesa-vulkan-drivers for lavapipe)")
        listing = "; ".join(f"{p.index}: {p.name} ({_TYPE_NAMES.get(p.device_type, '?')})"
                            for p in self.physical_devices)
        wanted = os.environ.get("JITSPV_DEVICE", "").strip()
        if wanted:
            if wanted.isdigit():
                index = int(wanted)
                if index >= len(self.physical_devices):
                    raise DeviceNotSupported(f"JITSPV_DEVICE={wanted}: no device with that index; devices: {listing}")
                return self.physical_devices[index]
            matches = [p for p in self.physical_devices if wanted.lower() in p.name.lower()]
            if not matches:
                raise DeviceNotSupported(f"JITSPV_DEVICE={wanted!r} matches no device; devices: {listing}")
            return matches[0]
        usable = [p for p in self.physical_devices if p.api_version[:2] >= (1, 2)] or self.physical_devices
        return min(usable, key=lambda p: (_TYPE_RANK.get(p.device_type, 5), p.index))


@dataclass(frozen=True)
class PhysicalDevice:
    index: int
    handle: object
    name: str
    device_type: int
    api_version: tuple

    @property
    def type_name(self) -> str:
        return _TYPE_NAMES.get(self.device_type, "unknown")

    def extensions(self) -> set:
        vk = lib()
        count = ffi.new("uint32_t*")
        check("vkEnumerateDeviceExtensionProperties", vk.vkEnumerateDeviceExtensionProperties(self.handle, NULL, count, NULL))
        props = ffi.new("VkExtensionProperties[]", count[0])
        check("vkEnumerateDeviceExtensionProperties", vk.vkEnumerateDeviceExtensionProperties(self.handle, NULL, count, props))
        return {ffi.string(props[i].extensionName).decode() for i in range(count[0])}


# ---------------------------------------------------------------------------------------------------
# Properties and features


@dataclass(frozen=True)
class DeviceProperties:
    """The limits and identity facts the compiler and runtime need (plain Python values)."""

    name: str
    device_type: str
    vendor_id: int
    device_id: int
    api_version: tuple
    driver_name: str
    driver_info: str
    driver_version: int
    device_uuid: bytes
    pipeline_cache_uuid: bytes
    max_compute_shared_memory_size: int
    max_push_constants_size: int
    subgroup_size: int
    min_subgroup_size: int
    max_subgroup_size: int
    max_compute_workgroup_subgroups: int
    required_subgroup_size_stages: int   # VkShaderStageFlags where a pipeline may fix the subgroup size
    subgroup_supported_operations: int   # VkSubgroupFeatureFlags
    subgroup_supported_stages: int       # VkShaderStageFlags
    max_compute_workgroup_count: tuple
    max_compute_workgroup_size: tuple
    max_compute_workgroup_invocations: int
    max_memory_allocation_size: int
    max_buffer_size: int                 # 0 where the device does not report it (before Vulkan 1.3)
    max_storage_buffer_range: int
    timestamp_period: float              # nanoseconds per timestamp tick
    timestamp_valid_bits: int            # of the queue family in use; 0 = no timestamps
    non_coherent_atom_size: int
    min_storage_buffer_offset_alignment: int
    denorm_preserve_widths: tuple        # float widths (16, 32, 64) whose denormals a shader may keep
    # Streaming multiprocessors (NVIDIA) or compute units (AMD) as the driver reports them, else a
    # guess (see _processor_count); programs size persistent grids with it. `processor_count_source` says which.
    processor_count: int = 1
    processor_count_source: str = "unknown"
    # Subgroup-scope shapes of VK_KHR_cooperative_matrix, (M, N, K, A, B, C, result type), types
    # named f16/bf16/f32/s8/u8/s32/u32; queried only where the feature was enabled (not with JITSPV_COOPMAT=0).
    cooperative_matrix_shapes: tuple = ()
    # VK_EXT_external_memory_host: host memory may be imported at this alignment (address and size);
    # 0 where the extension is absent or not enabled (JITSPV_DEVICE_LIMITS=no-host-import).
    host_import_alignment: int = 0


@dataclass(frozen=True)
class DeviceFeatures:
    """What was enabled on the logical device. Cooperative matrices: what the device supports;
    VK_KHR_cooperative_matrix is enabled unless JITSPV_COOPMAT=0 (then
    DeviceProperties.cooperative_matrix_shapes lists its shapes); VK_NV_cooperative_matrix2 is
    enabled only with JITSPV_COOPMAT2=1 (a measurement knob: no lowering uses it; then it is in
    Device.enabled_extensions)."""

    buffer_device_address: bool = False
    int64: bool = False
    float64: bool = False
    float16: bool = False
    int8: bool = False
    int16: bool = False
    storage_buffer_8bit: bool = False
    storage_buffer_16bit: bool = False
    uniform_and_storage_buffer_8bit: bool = False
    uniform_and_storage_buffer_16bit: bool = False
    storage_push_constant_8: bool = False
    storage_push_constant_16: bool = False
    int64_atomics: bool = False
    vulkan_memory_model: bool = False
    vulkan_memory_model_device_scope: bool = False
    scalar_block_layout: bool = False
    subgroup_size_control: bool = False
    compute_full_subgroups: bool = False
    integer_dot_product: bool = False
    maintenance4: bool = False
    float32_atomic_add: bool = False
    float32_atomic_minmax: bool = False
    float64_atomic_add: bool = False
    float16_atomic_add: bool = False
    device_clock: bool = False   # OpReadClockKHR at Device scope (VK_KHR_shader_clock): poll timeouts
    # The driver's statistics of compiled pipelines (VK_KHR_pipeline_executable_properties), enabled
    # only with JITSPV_PIPELINE_STATS=1: capturing them may cost pipeline-cache hits on some drivers.
    pipeline_statistics: bool = False
    cooperative_matrix_khr: bool = False
    cooperative_matrix2_nv: bool = False

    def names(self) -> list:
        return [f.name for f in fields(self) if getattr(self, f.name)]


# (DeviceFeatures field, Vulkan struct key, Vulkan member) for every feature we enable where present.
_FEATURE_MAP = [
    ("buffer_device_address", "v12", "bufferDeviceAddress"),
    ("int64", "core", "shaderInt64"),
    ("float64", "core", "shaderFloat64"),
    ("int16", "core", "shaderInt16"),
    ("float16", "v12", "shaderFloat16"),
    ("int8", "v12", "shaderInt8"),
    ("storage_buffer_8bit", "v12", "storageBuffer8BitAccess"),
    ("uniform_and_storage_buffer_8bit", "v12", "uniformAndStorageBuffer8BitAccess"),
    ("storage_push_constant_8", "v12", "storagePushConstant8"),
    ("storage_buffer_16bit", "v11", "storageBuffer16BitAccess"),
    ("uniform_and_storage_buffer_16bit", "v11", "uniformAndStorageBuffer16BitAccess"),
    ("storage_push_constant_16", "v11", "storagePushConstant16"),
    ("int64_atomics", "v12", "shaderBufferInt64Atomics"),
    ("vulkan_memory_model", "v12", "vulkanMemoryModel"),
    ("vulkan_memory_model_device_scope", "v12", "vulkanMemoryModelDeviceScope"),
    ("scalar_block_layout", "v12", "scalarBlockLayout"),
    ("subgroup_size_control", "v13", "subgroupSizeControl"),
    ("compute_full_subgroups", "v13", "computeFullSubgroups"),
    ("integer_dot_product", "v13", "shaderIntegerDotProduct"),
    ("maintenance4", "v13", "maintenance4"),
    ("float32_atomic_add", "af", "shaderBufferFloat32AtomicAdd"),
    ("float64_atomic_add", "af", "shaderBufferFloat64AtomicAdd"),
    ("float32_atomic_minmax", "af2", "shaderBufferFloat32AtomicMinMax"),
    ("float16_atomic_add", "af2", "shaderBufferFloat16AtomicAdd"),
    ("device_clock", "clk", "shaderDeviceClock"),
    ("pipeline_statistics", "pe", "pipelineExecutableInfo"),
]
# VK_NV_cooperative_matrix2's members that JITSPV_COOPMAT2=1 enables (all present, or none).
_COOPMAT2_FEATURES = ("cooperativeMatrixWorkgroupScope", "cooperativeMatrixFlexibleDimensions",
                      "cooperativeMatrixTensorAddressing")
# Enabled together with the ones above when present (no DeviceFeatures field of their own).
_EXTRA_ENABLES = [("v12", "shaderSharedInt64Atomics"), ("af", "shaderSharedFloat32AtomicAdd"),
                  ("af", "shaderBufferFloat32Atomics"), ("af", "shaderSharedFloat32Atomics"),
                  ("af2", "shaderSharedFloat32AtomicMinMax"), ("af2", "shaderBufferFloat64AtomicMinMax"),
                  ("af2", "shaderBufferFloat16Atomics"), ("af2", "shaderBufferFloat16AtomicMinMax")]


# JITSPV_DEVICE_LIMITS "no-NAME": the Vulkan feature members it clears from what the device reports
# (so that they are neither enabled nor used: the validation layer then flags any use). Atomics of
# a type go with it.
_FLOAT64_ATOMICS = [("af", "shaderBufferFloat64Atomics"), ("af", "shaderBufferFloat64AtomicAdd"),
                    ("af", "shaderSharedFloat64Atomics"), ("af", "shaderSharedFloat64AtomicAdd"),
                    ("af2", "shaderBufferFloat64AtomicMinMax"), ("af2", "shaderSharedFloat64AtomicMinMax")]
_FLOAT16_ATOMICS = [("af2", "shaderBufferFloat16Atomics"), ("af2", "shaderBufferFloat16AtomicAdd"),
                    ("af2", "shaderBufferFloat16AtomicMinMax"), ("af2", "shaderSharedFloat16Atomics"),
                    ("af2", "shaderSharedFloat16AtomicAdd"), ("af2", "shaderSharedFloat16AtomicMinMax")]
_FLOAT32_ATOMICS = [("af", "shaderBufferFloat32Atomics"), ("af", "shaderBufferFloat32AtomicAdd"),
                    ("af", "shaderSharedFloat32Atomics"), ("af", "shaderSharedFloat32AtomicAdd"),
                    ("af2", "shaderBufferFloat32AtomicMinMax"), ("af2", "shaderSharedFloat32AtomicMinMax")]
_INT64_ATOMICS = [("v12", "shaderBufferInt64Atomics"), ("v12", "shaderSharedInt64Atomics")]
_REMOVABLE_FEATURES = {
    "fp64": [("core", "shaderFloat64")] + _FLOAT64_ATOMICS,
    "fp16": [("v12", "shaderFloat16")] + _FLOAT16_ATOMICS,
    "int64": [("core", "shaderInt64")] + _INT64_ATOMICS,
    "int16": [("core", "shaderInt16")],
    "int8": [("v12", "shaderInt8")],
    "int64-atomics": _INT64_ATOMICS,
    "float-atomics": _FLOAT32_ATOMICS + _FLOAT64_ATOMICS + _FLOAT16_ATOMICS,
    "subgroup-size-control": [("v13", "subgroupSizeControl"), ("v13", "computeFullSubgroups")],
    "vulkan-memory-model": [("v12", "vulkanMemoryModel"), ("v12", "vulkanMemoryModelDeviceScope")],
    "host-import": [],   # an extension, no feature member: VK_EXT_external_memory_host is not enabled
    "device-clock": [("clk", "shaderDeviceClock")],
}
# JITSPV_DEVICE_LIMITS "NAME=N": the DeviceProperties field it lowers to N (never raises it).
_SHRINKABLE_LIMITS = {"shared": "max_compute_shared_memory_size", "push": "max_push_constants_size",
                      "invocations": "max_compute_workgroup_invocations"}
# VkComponentTypeKHR -> the name DeviceProperties.cooperative_matrix_shapes uses; other types
# (fp64, fp8, packed) are left out, no tl.dot maps to them.
_COMPONENT_TYPES = {0: "f16", 1: "f32", 3: "s8", 5: "s32", 7: "u8", 9: "u32", 1000141000: "bf16"}


def cooperative_matrix_requested() -> bool:
    """tl.dot may use cooperative matrices where the device has them, unless JITSPV_COOPMAT=0."""
    return os.environ.get("JITSPV_COOPMAT", "").strip().lower() not in ("0", "false", "no", "off")


def cooperative_matrix2_requested() -> bool:
    """JITSPV_COOPMAT2=1: VK_NV_cooperative_matrix2 is enabled where the device has it, for
    bench/coopmat_ceiling.py's workgroup-scope and tensor-layout kernels; no lowering uses it."""
    return os.environ.get("JITSPV_COOPMAT2", "").strip().lower() in ("1", "true", "yes", "on")


def pipeline_statistics_requested() -> bool:
    """JITSPV_PIPELINE_STATS=1: pipelines keep the driver's statistics (Pipeline.statistics)."""
    return os.environ.get("JITSPV_PIPELINE_STATS", "").strip().lower() in ("1", "true", "yes", "on")


# Below these jitspv cannot work at all: the argument buffer's address, one warp.
_LIMIT_MINIMUM = {"push": 8, "invocations": 32}


def device_limits(text: str) -> tuple:
    """JITSPV_DEVICE_LIMITS parsed: (names of the features to remove, {limit name: value})."""
    removed, limits = [], {}
    for item in (part.strip() for part in text.split(",")):
        name, _, value = item.partition("=")
        if item.startswith("no-") and item[3:] in _REMOVABLE_FEATURES:
            removed.append(item[3:])
        elif value and name in _SHRINKABLE_LIMITS and value.isdigit() and int(value) >= _LIMIT_MINIMUM.get(name, 0):
            limits[name] = int(value)
        elif item:
            raise ValueError(
                f"JITSPV_DEVICE_LIMITS={text!r}: cannot use {item!r}; expected comma-separated "
                + ", ".join("no-" + n for n in _REMOVABLE_FEATURES) + " or "
                + ", ".join(f"{n}=N (N >= {_LIMIT_MINIMUM.get(n, 0)})" for n in _SHRINKABLE_LIMITS))
    return removed, limits


def _feature_chain(api: tuple, extensions: set):
    """Zeroed VkPhysicalDeviceFeatures2 chain of the structs this device understands: {key: cdata}."""
    vk = lib()
    chain = {"f2": ffi.new("VkPhysicalDeviceFeatures2*", {"sType": vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2})}
    order = [("v11", "VkPhysicalDeviceVulkan11Features", vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES, True),
             ("v12", "VkPhysicalDeviceVulkan12Features", vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES, True),
             ("v13", "VkPhysicalDeviceVulkan13Features", vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
              api >= (1, 3)),
             ("af", "VkPhysicalDeviceShaderAtomicFloatFeaturesEXT",
              vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT_FEATURES_EXT,
              "VK_EXT_shader_atomic_float" in extensions),
             ("af2", "VkPhysicalDeviceShaderAtomicFloat2FeaturesEXT",
              vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT_2_FEATURES_EXT,
              "VK_EXT_shader_atomic_float2" in extensions),
             ("cm", "VkPhysicalDeviceCooperativeMatrixFeaturesKHR",
              vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
              "VK_KHR_cooperative_matrix" in extensions),
             ("cm2", "VkPhysicalDeviceCooperativeMatrix2FeaturesNV",
              vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV,
              "VK_NV_cooperative_matrix2" in extensions),
             ("bf16", "VkPhysicalDeviceShaderBfloat16FeaturesKHR",
              vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_BFLOAT16_FEATURES_KHR,
              "VK_KHR_shader_bfloat16" in extensions),
             ("clk", "VkPhysicalDeviceShaderClockFeaturesKHR",
              vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CLOCK_FEATURES_KHR,
              "VK_KHR_shader_clock" in extensions),
             ("pe", "VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR",
              vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR,
              "VK_KHR_pipeline_executable_properties" in extensions)]
    prev = chain["f2"]
    for key, ctype, stype, present in order:
        if present:
            s = ffi.new(ctype + "*", {"sType": stype})
            prev.pNext = s
            chain[key] = prev = s
    return chain


def _struct(chain, key):
    """The feature struct of `chain` that `key` names ("core": VkPhysicalDeviceFeatures), or None."""
    return chain["f2"].features if key == "core" else chain.get(key)


def _member(chain, key, name):
    struct = _struct(chain, key)
    return bool(struct is not None and getattr(struct, name))


# ---------------------------------------------------------------------------------------------------
# Device


# Extensions whose properties count a device's processors: (extension, struct, sType constant).
_PROCESSOR_COUNT_STRUCTS = (
    ("VK_NV_shader_sm_builtins", "VkPhysicalDeviceShaderSMBuiltinsPropertiesNV",
     "VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV"),
    ("VK_AMD_shader_core_properties2", "VkPhysicalDeviceShaderCoreProperties2AMD",
     "VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_2_AMD"),
    ("VK_AMD_shader_core_properties", "VkPhysicalDeviceShaderCorePropertiesAMD",
     "VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD"),
)


def _processor_count_chain(tail, extensions: set) -> dict:
    """Appends to the properties chain after `tail` the structs of _PROCESSOR_COUNT_STRUCTS whose
    extension the device has; returns them by extension name (filled by vkGetPhysicalDeviceProperties2)."""
    found = {}
    for extension, struct, stype in _PROCESSOR_COUNT_STRUCTS:
        if extension in extensions:
            found[extension] = tail.pNext = ffi.new(f"{struct}*", {"sType": getattr(lib(), stype)})
            tail = found[extension]
    return found


def _processor_count(cores: dict, device_type: int) -> tuple[int, str]:
    """(processor count, where it comes from): the driver's SM or active compute unit count; on a CPU
    device (lavapipe) the threads it runs workgroups on, one per CPU unless LP_NUM_THREADS says
    otherwise; 1 where Vulkan tells nothing (Intel, ARM, Apple GPUs)."""
    if "VK_NV_shader_sm_builtins" in cores and cores["VK_NV_shader_sm_builtins"].shaderSMCount:
        return cores["VK_NV_shader_sm_builtins"].shaderSMCount, "VK_NV_shader_sm_builtins"
    if "VK_AMD_shader_core_properties2" in cores and cores["VK_AMD_shader_core_properties2"].activeComputeUnitCount:
        return cores["VK_AMD_shader_core_properties2"].activeComputeUnitCount, "VK_AMD_shader_core_properties2"
    if "VK_AMD_shader_core_properties" in cores:
        amd = cores["VK_AMD_shader_core_properties"]
        units = amd.shaderEngineCount * amd.shaderArraysPerEngineCount * amd.computeUnitsPerShaderArray
        if units:
            return units, "VK_AMD_shader_core_properties"
    if device_type == lib().VK_PHYSICAL_DEVICE_TYPE_CPU:
        threads = os.environ.get("LP_NUM_THREADS", "").strip()
        if threads.isdigit() and int(threads) > 0:
            return int(threads), "LP_NUM_THREADS"
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1), "CPU count"
    return 1, "unknown"


class Device:
    """A logical device with one compute queue, its memory allocator, command stream and pipeline cache."""

    def __init__(self, instance: Instance, physical: PhysicalDevice):
        vk = lib()
        self.instance = instance
        self.physical = physical
        self.name = physical.name
        api = min(physical.api_version[:2], _version(instance.api_version)[:2])
        if api < (1, 2):
            raise DeviceNotSupported(f"{self.name} supports Vulkan {api[0]}.{api[1]}; jitspv needs 1.2 or newer")
        extensions = physical.extensions()
        self.extensions = extensions
        supported = _feature_chain(api, extensions)
        vk.vkGetPhysicalDeviceFeatures2(physical.handle, supported["f2"])
        self.limits_text = os.environ.get("JITSPV_DEVICE_LIMITS", "").strip()
        removed, limits = device_limits(self.limits_text)
        for name in removed:
            for key, member in _REMOVABLE_FEATURES[name]:
                if _struct(supported, key) is not None:
                    setattr(_struct(supported, key), member, 0)
        if not supported["v12"].bufferDeviceAddress:
            raise DeviceNotSupported(f"{self.name} lacks bufferDeviceAddress (Vulkan 1.2), which jitspv needs: "
                                     "kernel pointers are buffer device addresses")
        if not supported["f2"].features.shaderInt64:
            why = " (JITSPV_DEVICE_LIMITS removed it)" if "int64" in removed else ""
            raise DeviceNotSupported(f"{self.name} lacks shaderInt64{why}, which jitspv needs: kernel pointers are "
                                     "64-bit integers")

        self.queue_family, timestamp_bits = self._compute_queue_family()
        props = self._properties(api, timestamp_bits)
        shrunk = {_SHRINKABLE_LIMITS[name]: value for name, value in limits.items()}
        self.properties = replace(props, **{f: min(value, getattr(props, f)) for f, value in shrunk.items()})

        enable = _feature_chain(api, extensions)
        coopmat = cooperative_matrix_requested() and bool(_member(supported, "cm", "cooperativeMatrix"))
        # Workgroup-scope matrices of any multiple of the device's granularity, tensor layouts (NVIDIA's extra).
        coopmat2 = (coopmat and cooperative_matrix2_requested()
                    and all(_member(supported, "cm2", m) for m in _COOPMAT2_FEATURES))
        if coopmat2:
            for m in _COOPMAT2_FEATURES:
                setattr(enable["cm2"], m, 1)
        else:
            enable.pop("cm2", None)
        # bf16 matrices need bf16 types in shaders too (VK_KHR_shader_bfloat16).
        bf16_coopmat = coopmat and all(_member(supported, "bf16", m) for m in ("shaderBFloat16Type",
                                                                              "shaderBFloat16CooperativeMatrix"))
        if coopmat:
            enable["cm"].cooperativeMatrix = 1
        else:
            enable.pop("cm", None)
        if bf16_coopmat:
            enable["bf16"].shaderBFloat16Type = enable["bf16"].shaderBFloat16CooperativeMatrix = 1
        else:
            enable.pop("bf16", None)
        self._relink(enable)
        flags = {}
        for field_name, key, member in _FEATURE_MAP:
            on = _member(supported, key, member)
            if on:
                setattr(_struct(enable, key), member, 1)
            flags[field_name] = on
        for key, member in _EXTRA_ENABLES:
            if _member(supported, key, member):
                setattr(enable[key], member, 1)
        flags["cooperative_matrix_khr"] = _member(supported, "cm", "cooperativeMatrix")
        flags["cooperative_matrix2_nv"] = _member(supported, "cm2", "cooperativeMatrixFlexibleDimensions")

        device_extensions = []
        if "af" in enable and any(_member(supported, "af", m) for m in ("shaderBufferFloat32AtomicAdd",
                                                                       "shaderBufferFloat32Atomics")):
            device_extensions.append(b"VK_EXT_shader_atomic_float")
        else:
            self._unlink(enable, "af")
        # VK_EXT_shader_atomic_float2 requires VK_EXT_shader_atomic_float enabled too.
        if "af2" in enable and b"VK_EXT_shader_atomic_float" in device_extensions:
            device_extensions.append(b"VK_EXT_shader_atomic_float2")
        else:
            self._unlink(enable, "af2")
        if _member(supported, "clk", "shaderDeviceClock") and "device-clock" not in removed:
            device_extensions.append(b"VK_KHR_shader_clock")
        else:
            self._unlink(enable, "clk")
        if _member(supported, "pe", "pipelineExecutableInfo") and pipeline_statistics_requested():
            device_extensions.append(b"VK_KHR_pipeline_executable_properties")
        else:
            self._unlink(enable, "pe")
        if self.properties.host_import_alignment and "host-import" not in removed:
            device_extensions.append(b"VK_EXT_external_memory_host")
        else:
            self.properties = replace(self.properties, host_import_alignment=0)
        if "VK_KHR_portability_subset" in extensions:  # required whenever advertised
            device_extensions.append(b"VK_KHR_portability_subset")
        if coopmat:
            device_extensions.append(b"VK_KHR_cooperative_matrix")
            if coopmat2:
                device_extensions.append(b"VK_NV_cooperative_matrix2")
            if bf16_coopmat:
                device_extensions.append(b"VK_KHR_shader_bfloat16")
            self.properties = replace(self.properties,
                                      cooperative_matrix_shapes=self._cooperative_matrix_shapes(bf16_coopmat))
        for field_name, key, _ in _FEATURE_MAP:   # a struct left out of the chain enables nothing
            flags[field_name] = flags[field_name] and (key == "core" or key in enable)
        self.features = DeviceFeatures(**flags)

        priority = ffi.new("float[1]", [1.0])
        queue_info = ffi.new("VkDeviceQueueCreateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, "queueFamilyIndex": self.queue_family,
            "queueCount": 1, "pQueuePriorities": priority})
        ext_strings = [ffi.new("char[]", e) for e in device_extensions]
        ext_ptrs = ffi.new("char*[]", ext_strings)
        info = ffi.new("VkDeviceCreateInfo*", {
            "sType": vk.VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, "pNext": enable["f2"], "queueCreateInfoCount": 1,
            "pQueueCreateInfos": queue_info, "enabledExtensionCount": len(device_extensions),
            "ppEnabledExtensionNames": ext_ptrs})
        handle = ffi.new("VkDevice*")
        check("vkCreateDevice", vk.vkCreateDevice(physical.handle, info, NULL, handle))
        self.handle = handle[0]
        self.enabled_extensions = [e.decode() for e in device_extensions]
        queue = ffi.new("VkQueue*")
        vk.vkGetDeviceQueue(self.handle, self.queue_family, 0, queue)
        self.queue = queue[0]
        self.fn = DeviceFunctions(self.handle)
        # Guards the queue, the command stream and the allocator (see stream.py): re-entrant, since
        # allocator and stream call each other.
        self.lock = threading.RLock()
        self.memory_properties = ffi.new("VkPhysicalDeviceMemoryProperties*")
        vk.vkGetPhysicalDeviceMemoryProperties(physical.handle, self.memory_properties)

        self.stream = Stream(self)
        self.memory = MemoryManager(self)
        self.pipeline_cache = PipelineCache(self)
        self.query_pools = QueryPools(self)   # timestamp slots of Events; no Vulkan object until the first

    @staticmethod
    def _relink(chain):
        keys = list(chain)   # _feature_chain's order, "f2" first
        for a, b in zip(keys, keys[1:]):
            chain[a].pNext = chain[b]
        chain[keys[-1]].pNext = NULL

    def _unlink(self, chain, key):
        if key in chain:
            del chain[key]
            self._relink(chain)

    def _cooperative_matrix_shapes(self, bfloat16: bool) -> tuple:
        """Subgroup-scope, non-saturating shapes of vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR
        whose types all have names (see _COMPONENT_TYPES), bf16 ones only where `bfloat16` (its
        shader types are enabled), in the driver's order."""
        vk = lib()
        query = instance_function(self.instance.handle, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR")
        count = ffi.new("uint32_t*")
        check("vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR", query(self.physical.handle, count, NULL))
        props = ffi.new("VkCooperativeMatrixPropertiesKHR[]", count[0])
        for i in range(count[0]):
            props[i].sType = vk.VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR
        check("vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR", query(self.physical.handle, count, props))
        shapes = []
        for p in props[0:count[0]]:
            types = [_COMPONENT_TYPES.get(t) for t in (p.AType, p.BType, p.CType, p.ResultType)]
            usable = None not in types and (bfloat16 or "bf16" not in types)
            if p.scope == vk.VK_SCOPE_SUBGROUP_KHR and not p.saturatingAccumulation and usable:
                shapes.append((p.MSize, p.NSize, p.KSize, *types))
        return tuple(shapes)

    def _compute_queue_family(self):
        vk = lib()
        count = ffi.new("uint32_t*")
        vk.vkGetPhysicalDeviceQueueFamilyProperties(self.physical.handle, count, NULL)
        families = ffi.new("VkQueueFamilyProperties[]", count[0])
        vk.vkGetPhysicalDeviceQueueFamilyProperties(self.physical.handle, count, families)
        candidates = [i for i in range(count[0]) if families[i].queueFlags & vk.VK_QUEUE_COMPUTE_BIT]
        if not candidates:
            raise DeviceNotSupported(f"{self.name} has no compute queue")
        # Prefer a family with timestamps; among those the first (usually the universal queue).
        best = min(candidates, key=lambda i: (families[i].timestampValidBits == 0, i))
        return best, families[best].timestampValidBits

    def _properties(self, api, timestamp_bits) -> DeviceProperties:
        vk = lib()
        p2 = ffi.new("VkPhysicalDeviceProperties2*", {"sType": vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2})
        p11 = ffi.new("VkPhysicalDeviceVulkan11Properties*",
                      {"sType": vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES})
        p12 = ffi.new("VkPhysicalDeviceVulkan12Properties*",
                      {"sType": vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES})
        p2.pNext, p11.pNext = p11, p12
        p13 = None
        if api >= (1, 3):
            p13 = ffi.new("VkPhysicalDeviceVulkan13Properties*",
                          {"sType": vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_PROPERTIES})
            p12.pNext = p13
        tail = p13 or p12
        host = None
        if "VK_EXT_external_memory_host" in self.extensions:
            host = tail.pNext = ffi.new("VkPhysicalDeviceExternalMemoryHostPropertiesEXT*", {
                "sType": vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT})
            tail = host
        cores = _processor_count_chain(tail, self.extensions)
        vk.vkGetPhysicalDeviceProperties2(self.physical.handle, p2)
        p, lim = p2.properties, p2.properties.limits
        processor_count, processor_count_source = _processor_count(cores, p.deviceType)
        return DeviceProperties(
            name=_string(p.deviceName), device_type=_TYPE_NAMES.get(p.deviceType, "unknown"),
            vendor_id=p.vendorID, device_id=p.deviceID, api_version=_version(p.apiVersion),
            driver_name=_string(p12.driverName), driver_info=_string(p12.driverInfo), driver_version=p.driverVersion,
            device_uuid=bytes(p11.deviceUUID), pipeline_cache_uuid=bytes(p.pipelineCacheUUID),
            max_compute_shared_memory_size=lim.maxComputeSharedMemorySize,
            max_push_constants_size=lim.maxPushConstantsSize,
            subgroup_size=p11.subgroupSize,
            min_subgroup_size=p13.minSubgroupSize if p13 is not None else p11.subgroupSize,
            max_subgroup_size=p13.maxSubgroupSize if p13 is not None else p11.subgroupSize,
            max_compute_workgroup_subgroups=p13.maxComputeWorkgroupSubgroups if p13 is not None else 0,
            required_subgroup_size_stages=p13.requiredSubgroupSizeStages if p13 is not None else 0,
            subgroup_supported_operations=p11.subgroupSupportedOperations,
            subgroup_supported_stages=p11.subgroupSupportedStages,
            max_compute_workgroup_count=tuple(lim.maxComputeWorkGroupCount),
            max_compute_workgroup_size=tuple(lim.maxComputeWorkGroupSize),
            max_compute_workgroup_invocations=lim.maxComputeWorkGroupInvocations,
            max_memory_allocation_size=p11.maxMemoryAllocationSize,
            max_buffer_size=p13.maxBufferSize if p13 is not None else 0,
            max_storage_buffer_range=lim.maxStorageBufferRange,
            timestamp_period=lim.timestampPeriod, timestamp_valid_bits=timestamp_bits,
            non_coherent_atom_size=lim.nonCoherentAtomSize,
            min_storage_buffer_offset_alignment=lim.minStorageBufferOffsetAlignment,
            denorm_preserve_widths=tuple(w for w, ok in ((16, p12.shaderDenormPreserveFloat16),
                                                         (32, p12.shaderDenormPreserveFloat32),
                                                         (64, p12.shaderDenormPreserveFloat64)) if ok),
            processor_count=processor_count, processor_count_source=processor_count_source,
            host_import_alignment=host.minImportedHostPointerAlignment if host is not None else 0)

    def synchronize(self):
        """Submits everything recorded and waits for the device to finish it."""
        self.stream.synchronize()

    def close(self):
        """Waits for the device, saves the pipeline cache. Objects are left to process exit."""
        self.stream.synchronize()
        self.pipeline_cache.save()

    def __repr__(self):
        p = self.properties
        return f"<jitspv Device {self.name!r} ({p.device_type}, Vulkan {'.'.join(map(str, p.api_version))})>"


_instance: Instance | None = None
_device: Device | None = None
_lock = threading.Lock()


def get_instance() -> Instance:
    global _instance
    with _lock:
        if _instance is None:
            _instance = Instance()
        return _instance


def get_device() -> Device:
    """The process-wide default device, created on first use."""
    global _device
    if _device is None:
        instance = get_instance()
        with _lock:
            if _device is None:
                _device = Device(instance, instance.choose())
                atexit.register(_device.close)
    return _device


def synchronize():
    """Waits until every launch and transfer recorded so far has completed."""
    if _device is not None:
        _device.synchronize()


# Memory of the default device, as torch.cuda names it (zero before the device exists).

def memory_stats() -> dict:
    """Allocator statistics: allocated/reserved bytes (current, peak), live allocations, blocks,
    retries after running out of memory, and allocations that failed for lack of memory."""
    if _device is None:
        return {}
    return _device.memory.stats()


def memory_allocated() -> int:
    """Bytes of device memory held by live arrays (each rounded up to 256 bytes)."""
    return memory_stats().get("allocated_bytes.all.current", 0)


def max_memory_allocated() -> int:
    """The peak of memory_allocated() since start or the last reset_peak_memory_stats()."""
    return memory_stats().get("allocated_bytes.all.peak", 0)


def memory_reserved() -> int:
    """Bytes of device memory jitspv's allocator holds: live arrays plus cached free space."""
    return memory_stats().get("reserved_bytes.all.current", 0)


def reset_peak_memory_stats():
    if _device is not None:
        _device.memory.reset_peak_stats()


def empty_cache():
    """Gives cached free memory back to the driver (after the work that last used it completed)."""
    if _device is not None:
        _device.memory.empty_cache()
