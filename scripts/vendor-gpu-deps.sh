#!/usr/bin/env bash
# Copies the native build's third-party headers and libraries from this
# machine's Debian packages into .gpu-deps/ (git-ignored), because the GPU
# machine has CUDA, CMake, ninja and g++ but no Debian packages and no network.
# Carry .gpu-deps with the working tree there; bench/gpu-check.sh configures
# with -DCNN_DEPS_DIR=$PWD/.gpu-deps. Run here, from anywhere:
#   scripts/vendor-gpu-deps.sh
# Layout: include/{xsimd,stb,nlohmann,benchmark}, lib/libbenchmark*, googletest/
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.gpu-deps

# Check everything first, so one run names every missing package and a
# failure leaves the last good copy in place.
missing=()
for pair in /usr/include/xsimd:libxsimd-dev /usr/include/stb:libstb-dev \
            /usr/include/nlohmann:nlohmann-json3-dev /usr/include/benchmark:libbenchmark-dev \
            /usr/src/googletest/CMakeLists.txt:googletest; do
  [ -e "${pair%%:*}" ] || missing+=("${pair##*:} (for ${pair%%:*})")
done
# Debian's libbenchmark-dev ships libbenchmark_main.a but libbenchmark only as a
# shared library (libbenchmark.so -> libbenchmark.so.1debian -> .so.1.7.1);
# take the static one where a package has it, else the shared one.
benchlibs=()
if dpkg -L libbenchmark-dev >/dev/null 2>&1; then
  mapfile -t benchlibs < <(dpkg -L libbenchmark-dev | grep -E '/libbenchmark(_main)?\.(a|so)$' || true)
fi
[ "${#benchlibs[@]}" -gt 0 ] || missing+=("libbenchmark-dev (for libbenchmark.a or .so)")
if [ "${#missing[@]}" -gt 0 ]; then
  echo "vendor-gpu-deps: missing; install the Debian package(s) with apt-get install:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi

rm -rf "$dest"
mkdir -p "$dest/include" "$dest/lib"
# -L: real files, not links (a link would point at this machine's /usr there).
for d in xsimd stb nlohmann benchmark; do cp -RL "/usr/include/$d" "$dest/include/"; done
have_static=0
for f in "${benchlibs[@]}"; do [ "${f##*/}" = libbenchmark.a ] && have_static=1; done
for f in "${benchlibs[@]}"; do
  case "${f##*/}" in
    *.a) cp -L "$f" "$dest/lib/" ;;
    # Every name in the shared library's link chain, the soname included,
    # since the linked binary asks for libbenchmark.so.1debian at run time.
    libbenchmark.so) [ "$have_static" = 1 ] || cp -L "$f"* "$dest/lib/" ;;
  esac
done
cp -RL /usr/src/googletest "$dest/googletest"

echo "vendor-gpu-deps: wrote $dest:"
(cd "$dest" && ls -1 include lib && echo googletest/)
size_kib=$(du -sk "$dest" | cut -f1)
echo "total: $((size_kib / 1024)) MiB (${size_kib} KiB); the GPU machine takes at most 64 MiB of working tree in all"
[ "$size_kib" -lt $((32 * 1024)) ] || { echo "vendor-gpu-deps: $dest is over 32 MiB; too big to carry" >&2; exit 1; }
