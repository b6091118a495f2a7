#!/usr/bin/env bash
# The CUDA backend's check, run ON the GPU machine (CUDA 13 nvcc, CMake, ninja,
# g++, python3 with PyTorch; no network, no Debian packages) from the repo root:
#   bench/gpu-check.sh
# Needs .gpu-deps/ (scripts/vendor-gpu-deps.sh, run on the dev machine, then
# carried along). Builds cnnp_cuda_tests and cnnp-bench, runs the CUDA-vs-CPU
# tests, then W1-W4 on our CUDA backend and on PyTorch CUDA, and prints the
# speed table. Exits non-zero when the build, the tests (a skipped test too:
# there the GPU must be found) or the benchmark binary fail; a missed speed
# target only prints "not met". With $OUT set, logs, gpu-check.json (the raw
# figures) and gpu-check.md (the table) are written there as they come, so a
# run killed at its limit still returns what it had.
set -euo pipefail
cd "$(dirname "$0")/.."

# The whole check must fit in 5 minutes (the device lease is short): each step
# gets at most its own cap and what is left; GPU_CHECK_BUDGET_S overrides.
budget=${GPU_CHECK_BUDGET_S:-295}
left() {  # cap -> seconds for the next step's timeout
  local l=$((budget - SECONDS))
  if [ "$l" -lt "$1" ]; then echo "$((l > 1 ? l : 1))"; else echo "$1"; fi
}
fail=0
bad() { echo "gpu-check: FAILED: $*" >&2; fail=1; }
timed_out() { [ "$1" -ne 124 ] || echo " (timed out)"; }

echo "== GPU and compiler"
nvidia-smi -L || echo "(nvidia-smi not found or failed)"
# The CUDA image may keep nvcc off the PATH; CMake finds it through the PATH.
command -v nvcc >/dev/null || [ ! -x /usr/local/cuda/bin/nvcc ] || export PATH="/usr/local/cuda/bin:$PATH"
command -v nvcc >/dev/null || { echo "gpu-check: nvcc not found (PATH or /usr/local/cuda/bin)" >&2; exit 1; }
nvcc --version | tail -n 2
if [ ! -d .gpu-deps/include ] || [ ! -d .gpu-deps/googletest ]; then
  echo "gpu-check: .gpu-deps/ missing: run scripts/vendor-gpu-deps.sh on the dev machine and carry .gpu-deps" >&2
  exit 1
fi

if command -v ninja >/dev/null; then gen=Ninja; else gen="Unix Makefiles"; fi
# A build folder kept from an earlier run with the other generator cannot be reused.
if [ -f build-gpu/CMakeCache.txt ] && ! grep -qx "CMAKE_GENERATOR:INTERNAL=$gen" build-gpu/CMakeCache.txt; then
  rm -rf build-gpu
fi
logs="${OUT:-build-gpu/gpu-check}"
mkdir -p "$logs"
: >"$logs/gpu-check-stderr.log"  # the benchmark's and PyTorch's stderr (at most 8 files come back from $OUT)

echo "== configure and build ($gen)"
if ! { timeout "$(left 60)" cmake -S . -B build-gpu -G "$gen" -DCMAKE_BUILD_TYPE=Release -DCNN_CUDA=ON \
         -DCNN_DEPS_DIR="$PWD/.gpu-deps" -DCMAKE_CUDA_ARCHITECTURES=90 &&
       timeout "$(left 200)" cmake --build build-gpu -j "$(nproc)" --target cnnp_cuda_tests cnnp-bench
     } >"$logs/gpu-check-build.log" 2>&1; then
  tail -n 60 "$logs/gpu-check-build.log"
  echo "gpu-check: FAILED: configure or build (log: $logs/gpu-check-build.log)" >&2
  exit 1
fi
echo "built in ${SECONDS}s so far"

echo "== CUDA backend vs CPU backend (cnnp_cuda_tests)"
set +e
timeout "$(left 60)" build-gpu/tests/cuda/cnnp_cuda_tests >"$logs/gpu-check-tests.log" 2>&1
rc=$?
set -e
grep -E '^\[ *(FAILED|SKIPPED|PASSED) *\]|^\[==========\]' "$logs/gpu-check-tests.log" || true
if [ "$rc" -ne 0 ]; then
  tail -n 40 "$logs/gpu-check-tests.log"
  bad "cnnp_cuda_tests exited $rc$(timed_out "$rc")"
fi
# A skipped test means the suite did not find the GPU: here that is a failure.
grep -qF '[  SKIPPED ]' "$logs/gpu-check-tests.log" && bad "cnnp_cuda_tests skipped tests: the GPU was not used"
grep -qE '^\[  PASSED  \] [1-9]' "$logs/gpu-check-tests.log" || bad "cnnp_cuda_tests passed no test"

echo "== ours: cnnp-bench --device=cuda"
# Only threads:1: the thread count is the CPU pool's, and the others would
# multiply the run time. Names end in /min_time:N/real_time, hence no '$'.
set +e
timeout "$(left 120)" build-gpu/cnnp-bench --device=cuda --benchmark_filter='^BM_W[1-4]_.*/threads:1/' \
  --benchmark_format=json --benchmark_min_time=1 >"$logs/gpu-check-bench.json" 2>>"$logs/gpu-check-stderr.log"
rc=$?
set -e
[ "$rc" -eq 0 ] || { tail -n 20 "$logs/gpu-check-stderr.log"; bad "cnnp-bench exited $rc$(timed_out "$rc")"; }

echo "== PyTorch CUDA"
: >"$logs/gpu-check-pytorch.jsonl"
for w in "w1" "w2" "w3 --batch 1" "w3 --batch 8" "w4"; do
  # shellcheck disable=SC2086  # $w is a workload and its extra arguments
  if out=$(timeout "$(left 60)" python3 bench/peers/pytorch_workloads.py --device cuda --workload $w --seconds 3 \
             2>>"$logs/gpu-check-stderr.log"); then
    echo "$out" | tail -n 1 | tee -a "$logs/gpu-check-pytorch.jsonl"
  else
    echo "PyTorch $w failed or timed out (no figure; see gpu-check-stderr.log)"
  fi
done

echo "== table"
python3 - "$logs" "$fail" <<'EOF'
import json, os, re, sys
logs, failed = sys.argv[1], sys.argv[2] == "1"
try:  # from the first '{', in case the binary prints a line before its JSON
    text = open(os.path.join(logs, "gpu-check-bench.json")).read()
    bench = json.loads(text[text.index("{"):])
except (OSError, ValueError):
    bench = {"benchmarks": []}
# "BM_W1_LeNetTrain/threads:1/min_time:2.000/real_time" -> "BM_W1_LeNetTrain/threads:1"
ours = {re.sub(r"/(min_time:[^/]*|real_time)", "", b["name"]): b for b in bench.get("benchmarks", [])
        if b.get("run_type", "iteration") == "iteration" and not b.get("error_occurred")}
peer = {}
for line in open(os.path.join(logs, "gpu-check-pytorch.jsonl")):
    r = json.loads(line)
    peer[(r["workload"], r["batch"])] = r
try:
    import torch
    env = {"torch": torch.__version__, "torch_cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
           "gpu": torch.cuda.get_device_name(0)}
except Exception as e:  # the table matters more than the versions
    env = {"error": str(e)}
# (label, our benchmark, PyTorch key, least ours/PyTorch ratio or None)
rows = [("W1 LeNet train b32", "BM_W1_LeNetTrain/threads:1", ("w1", 32), 1.0),
        ("W2 course CNN train b16", "BM_W2_CourseCNNTrain/threads:1", ("w2", 16), None),
        ("W3 ResNet50 infer b1", "BM_W3_ResNet50Infer/batch:1/threads:1", ("w3", 1), None),
        ("W3 ResNet50 infer b8", "BM_W3_ResNet50Infer/batch:8/threads:1", ("w3", 8), 0.5),
        ("W4 ResNet50 transfer b16", "BM_W4_ResNet50Transfer/threads:1", ("w4", 16), 0.5)]
md = ["| workload | ours images/s | PyTorch CUDA images/s | ours/PyTorch | time ours/PyTorch | PyTorch peak GPU MiB | target |",
      "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
out = []
for label, name, key, target in rows:
    o = ours.get(name, {}).get("items_per_second")
    p = peer.get(key, {}).get("images_per_s")
    ratio = o / p if o and p else None
    goal = "-" if target is None else (f">= {target:g}x" + (f" (time <= {1 / target:g}x)" if target < 1 else "")
                                       + ": " + ("unknown" if ratio is None else
                                                          "met" if ratio >= target else "not met"))
    f = lambda v, fmt: "n/a" if v is None else format(v, fmt)
    md.append(f"| {label} | {f(o, ',.1f')} | {f(p, ',.1f')} | {f(ratio, '.2f')}{'x' if ratio else ''} | "
              f"{f(1 / ratio if ratio else None, '.2f')}{'x' if ratio else ''} | "
              f"{f(peer.get(key, {}).get('peak_gpu_mib'), '.0f')} | {goal} |")
    out.append({"workload": label, "ours": name, "ours_images_per_s": o, "pytorch_images_per_s": p,
                "ratio": ratio, "target_ratio": target})
md.append("")
md.append("correctness: " + ("FAILED (see the log above)" if failed else "cnnp_cuda_tests passed, none skipped"))
md.append(f"env: {json.dumps(env)}")
print("\n".join(md))
open(os.path.join(logs, "gpu-check.md"), "w").write("\n".join(md) + "\n")
json.dump({"env": env, "correctness_failed": failed, "rows": out, "cnnp_bench": bench,
           "pytorch": list(peer.values())}, open(os.path.join(logs, "gpu-check.json"), "w"), indent=1)
EOF
echo "gpu-check: done in ${SECONDS}s; figures in $logs"
exit "$fail"
