# -*- Python -*- lit configuration for gemma4c.
#
# Run from a build: `lit -sv test/<Suite>` (the build writes
# build/test/lit.site.cfg.py; GEMMA4C_LIT_SITE points elsewhere).
import os
import lit.formats
import lit.llvm

here = os.path.dirname(os.path.abspath(__file__))
if not hasattr(config, "gemma4c_obj_root"):
    site = os.environ.get("GEMMA4C_LIT_SITE",
                          os.path.join(here, "..", "build", "test", "lit.site.cfg.py"))
    if not os.path.exists(site):
        lit_config.fatal("no lit.site.cfg.py at %s: build first (make build)" % site)
    exec(open(site).read(), {"config": config})

lit.llvm.initialize(lit_config, config)
from lit.llvm import llvm_config

config.name = "gemma4c"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["fixtures", "unit", "Inputs", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py.in"]
config.test_source_root = here
config.test_exec_root = os.path.join(config.gemma4c_obj_root, "test")

llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.gemma4c_tools_dir, append_path=True)
llvm_config.use_default_substitutions()
if lit.util.which("qemu-aarch64"): config.available_features.add("qemu-aarch64")  # test/Target/aarch64-*
# The AArch64 runtime reads tokenizer.model (scripts/fetch-arm64-protobuf.sh).
if os.path.exists(os.path.join(config.gemma4c_obj_root, "lib", "aarch64", "libgemma4rt_protobuf_lite.a")):
    config.available_features.add("aarch64-sentencepiece")
# The AArch64 runtime decodes PNG/JPEG (scripts/fetch-arm64-codecs.sh).
try:
    with open(os.path.join(config.gemma4c_obj_root, "lib", "aarch64", "libgemma4rt.a"), "rb") as _f:
        if b"png_read_image" in _f.read():
            config.available_features.add("aarch64-image-codecs")
except OSError:
    pass
config.substitutions.append(("%fixtures", os.path.join(here, "fixtures")))
# The trained demo model (examples/demo/, issue 26): its tests need its
# weights, which scripts/train-demo-model.py makes on a GPU machine.
if os.path.exists(os.path.join(config.gemma4c_src_root, "examples", "demo", "model.safetensors.gz")):
    config.available_features.add("demo-model")
else:
    lit_config.note("no examples/demo/model.safetensors.gz: the trained demo model's tests are skipped")
config.substitutions.append(("%src", config.gemma4c_src_root))
config.substitutions.append(("%python", "python3"))
# Emulated kernels run on the CPU (test/Target/GPU/emulate-launches-run.mlir).
config.substitutions.append(("%mlir_lib_dir", os.path.join(config.llvm_root, "lib")))
if os.access(os.path.join(config.llvm_tools_dir, "mlir-runner"), os.X_OK) and os.path.exists(
        os.path.join(config.llvm_root, "lib", "libmlir_c_runner_utils.so")):
    config.available_features.add("mlir-runner")
config.environment["GEMMA4C_HOME"] = config.gemma4c_obj_root
# CPU-feature guard tests need a CPU without AVX512-FP16.
# Native compiles choose int8 activations + vpdpbusd (--act-quant=auto) on
# CPUs with AVX-512 VNNI (and VL): test/Tools/act-quant.test needs one.
try:
    cpuinfo = open("/proc/cpuinfo").read()
    # Linux spells the flag avx512_fp16 (and avx512_bf16, avx512_vnni).
    if "avx512_fp16" not in cpuinfo and "avx512fp16" not in cpuinfo:
        config.available_features.add("cpu-lacks-avx512fp16")
    if "avx512_vnni" in cpuinfo and "avx512vl" in cpuinfo:
        config.available_features.add("x86-vnni")
    if "avx512_bf16" in cpuinfo:
        config.available_features.add("avx512bf16")  # test/Target/golden-bf16-dot.test
except OSError:
    pass

# GPU targets. ptxas (the CUDA toolkit) assembles the PTX gemma4c emits
# (test/Target/GPU); a CUDA device runs the GPU goldens (test/GPU), which are
# reported UNSUPPORTED, with the note below, on machines without one.
_ptxas = None
for _d in [os.environ.get("CUDA_PATH", ""), "/usr/local/cuda"]:
    if _d and os.access(os.path.join(_d, "bin", "ptxas"), os.X_OK):
        _ptxas = os.path.join(_d, "bin", "ptxas")
        break
_ptxas = _ptxas or lit.util.which("ptxas")
if _ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", _ptxas))
else:
    lit_config.note("no ptxas (CUDA toolkit): PTX assembly tests are skipped")


def _cuda_devices():
    try:
        import ctypes
        cuda = ctypes.CDLL("libcuda.so.1")
        n = ctypes.c_int(0)
        if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(n)) != 0:
            return 0
        return n.value
    except OSError:
        return 0


if _cuda_devices() > 0:
    config.available_features.add("cuda-device")
else:
    lit_config.note("no CUDA device: the GPU goldens (test/GPU) are skipped; "
                    "scripts/gpu-tests.sh runs them on a GPU machine")


# Vulkan (test/Target/Vulkan): spirv-val (Debian spirv-tools) validates the
# SPIR-V gemma4c embeds; a Vulkan device (lavapipe, Debian
# mesa-vulkan-drivers, on CI) runs the goldens.
if lit.util.which("spirv-val"):
    config.available_features.add("spirv-val")
else:
    lit_config.note("no spirv-val (spirv-tools): SPIR-V validation tests are skipped")


def _vulkan_devices():
    try:
        import ctypes
        vk = ctypes.CDLL("libvulkan.so.1")
        gipa = vk.vkGetInstanceProcAddr
        gipa.restype = ctypes.c_void_p
        gipa.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        proto = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
        create = proto(gipa(None, b"vkCreateInstance"))

        class AppInfo(ctypes.Structure):
            _fields_ = [("sType", ctypes.c_int), ("pNext", ctypes.c_void_p),
                        ("pApplicationName", ctypes.c_char_p), ("applicationVersion", ctypes.c_uint32),
                        ("pEngineName", ctypes.c_char_p), ("engineVersion", ctypes.c_uint32),
                        ("apiVersion", ctypes.c_uint32)]

        class CreateInfo(ctypes.Structure):
            _fields_ = [("sType", ctypes.c_int), ("pNext", ctypes.c_void_p), ("flags", ctypes.c_uint32),
                        ("pApplicationInfo", ctypes.POINTER(AppInfo)),
                        ("enabledLayerCount", ctypes.c_uint32), ("ppEnabledLayerNames", ctypes.c_void_p),
                        ("enabledExtensionCount", ctypes.c_uint32),
                        ("ppEnabledExtensionNames", ctypes.c_void_p)]

        app = AppInfo(0, None, b"lit", 0, b"lit", 0, (1 << 22) | (2 << 12))
        ci = CreateInfo(1, None, 0, ctypes.pointer(app), 0, None, 0, None)
        inst = ctypes.c_void_p()
        if create(ctypes.byref(ci), None, ctypes.byref(inst)) != 0:
            return 0
        enum = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32),
                                ctypes.c_void_p)(gipa(inst, b"vkEnumeratePhysicalDevices"))
        n = ctypes.c_uint32(0)
        if enum(inst, ctypes.byref(n), None) != 0:
            return 0
        return n.value
    except (OSError, AttributeError, TypeError):
        return 0


if _vulkan_devices() > 0:
    config.available_features.add("vulkan-device")
else:
    lit_config.note("no Vulkan device (e.g. lavapipe: mesa-vulkan-drivers): the Vulkan goldens are skipped")

# lavapipe's ICD manifest: test/Target/Vulkan/icd.test drives it without the loader.
import glob
_lvp = sorted(glob.glob("/usr/share/vulkan/icd.d/lvp_icd.*.json"))
if _lvp:
    config.available_features.add("lavapipe-icd")
    config.substitutions.append(("%lvp_icd", _lvp[0]))
