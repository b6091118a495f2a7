#!/usr/bin/env bash
# Fuzzes every parser that takes user bytes, with libFuzzer (clang 14,
# AddressSanitizer + UndefinedBehaviorSanitizer): image decoding and resizing,
# folder flows, Keras model JSON, Keras HDF5 weight/model files (as the core
# reads them) and the engine's saved-model bytes.
#
# Usage: scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET ...]
#   --seconds N  per target (default 60)
#   --jobs J     targets run side by side (default 1)
# Seeds are made by fuzz/make_seeds.cpp; the corpora grow in build-fuzz/corpus/.
# A crash leaves its input in build-fuzz/artifacts/TARGET/ and fails the run:
# once fixed, keep the input in tests/fuzz/TARGET/, which npm test replays.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=(image folder_flow keras_json keras_h5 keras3 model_bytes)

scripts/install-deps.sh native fuzz
echo "== seed corpora"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target fuzz-seeds >/dev/null
rm -rf build-fuzz/seeds
build/fuzz-seeds build-fuzz/seeds

echo "== fuzz targets (clang 14, libFuzzer, ASan + UBSan)"
scripts/fuzz-toolchain.sh configure
cmake --build build-fuzz -j2 --target $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

run_one() {
  local t="$1"
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/artifacts/$t"
  # New inputs go to the first folder (the growing corpus); the seeds and the
  # kept regressions are read only.
  if build-fuzz/fuzz_"$t" "build-fuzz/corpus/$t" "build-fuzz/seeds/$t" "tests/fuzz/$t" \
      -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30 -max_len=65536 \
      -artifact_prefix="build-fuzz/artifacts/$t/" -print_final_stats=1 >"build-fuzz/$t.log" 2>&1; then
    echo "$t: $(grep -E '^stat::number_of_executed_units' "build-fuzz/$t.log" | awk '{print $2}') runs," \
         "$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "build-fuzz/$t.log" | tail -1), corpus" \
         "$(ls "build-fuzz/corpus/$t" | wc -l) inputs, no crash"
  else
    echo "$t: FAILED, see build-fuzz/$t.log and build-fuzz/artifacts/$t/" >&2
    grep -m1 -E 'ERROR|SUMMARY' "build-fuzz/$t.log" >&2 || true
    return 1
  fi
}

echo "== fuzzing ${targets[*]}, ${seconds}s each, ${jobs} at a time"
status=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
