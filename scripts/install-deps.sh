#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, when missing.
# Usage: scripts/install-deps.sh [native] [wasm] [web] [bench] [fuzz]
# Runs apt-get as root, or through sudo; waits for another apt to finish.
set -euo pipefail

# h5py checks that saved models have Keras's HDF5 layout.
native=(cmake make g++ pkg-config libgtest-dev googletest libbenchmark-dev nlohmann-json3-dev libstb-dev libxsimd-dev
  libhdf5-dev python3-h5py)
# Emscripten's optimizer needs acorn, which Debian ships as node-acorn.
wasm=(emscripten node-acorn cmake make googletest nlohmann-json3-dev libstb-dev libxsimd-dev)
# Browser tests drive Debian's Chromium; Liberation fonts keep screenshots readable.
web=(chromium fonts-liberation)
# libFuzzer (scripts/fuzz.sh): clang 14 and its fuzzer runtime.
fuzz=(clang-14 libclang-rt-14-dev)
# Benchmark peers (npm run bench only): OpenBLAS for GEMM, PyTorch for the
# workloads (with h5py it also remakes the Keras-file fixtures).
bench=(libopenblas-dev python3-torch python3-torchvision)

want=()
for group in "${@:-native}"; do
  case "$group" in
    native) want+=("${native[@]}") ;;
    wasm) want+=("${wasm[@]}") ;;
    web) want+=("${web[@]}") ;;
    bench) want+=("${bench[@]}") ;;
    fuzz) want+=("${fuzz[@]}") ;;
    *) echo "install-deps: unknown group '$group' (expected: native, wasm, web, bench, fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing packages ${missing[*]}, and this is not a Debian/Ubuntu system (no apt-get)." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=1200 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=1200 install -y -qq --no-install-recommends "${missing[@]}"
