// Runs the engine and its peers alternately, several rounds, on this machine,
// and prints the median of the per-round ratios (the machine is shared and
// noisy, so one run proves little).
//
// usage: node bench/compare.mjs [--rounds 5] [--threads 1,2] [--only LIST] [--json]
// LIST (comma-separated; default all):
//   peak      cnnp-bench BM_PeakFlops: the cores' multiply-add peak, to compare GEMM against
//   gemm      cnnp-bench BM_GEMM/size:S vs OpenBLAS cblas_sgemm (build/openblas-sgemm)
//   conv      cnnp-bench BM_GEMM_Conv/<ResNet50 layer> vs OpenBLAS on the same M, N, K
//   w1, w2    cnnp-bench BM_W1_LeNetTrain / BM_W2_CourseCNNTrain vs PyTorch CPU
//   w3        BM_W3_ResNet50Infer batch 1 vs PyTorch (latency), batch 8 vs onnxruntime-node
//   w4        BM_W4_ResNet50Transfer vs PyTorch, images/s and peak resident memory
//   wasm      the wasm build in Node (bench/wasm-bench.mjs): W1, W2, W4 at 1 thread vs PyTorch at 1
//             thread, W3 batch 8 vs onnxruntime-web (wasm), GEMM 1024 vs the wasm SIMD peak
//             (the SIMD128 build, which every engine runs)
//   relaxed   the same rows for the relaxed-SIMD build (fused multiply-adds: Chrome 114 on; Node 20
//             behind a V8 flag, which wasm-bench.mjs turns on), GEMM against its own FMA peak
//   js        W1 on TensorFlow.js (cpu and wasm backends) and ConvNetJS, against the wasm engine
// Ratios are ours / peer (for memory: peer / ours, so above 1 is better either way). Scaling rows
// give our 2-thread / 1-thread figure. Needs a release build (build/), the wasm build (dist/wasm),
// and for the peers Debian's libopenblas-dev, python3-torch and python3-torchvision and the npm
// packages of bench/peers (scripts/bench.sh installs them all).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, option } from './cli-args.mjs';
import { fittedCoreType } from './openblas-core.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(option('rounds', '5'));
const threadCounts = option('threads', '1,2').split(',').map(Number);
const only = option('only', 'peak,gemm,conv,w1,w2,w3,w4,wasm,relaxed,js').split(',');
const json = flag('json');
const bench = path.join(root, 'build/cnnp-bench');
const openblas = path.join(root, 'build/openblas-sgemm');
const python = '/usr/bin/python3';
const onnx = path.join(root, 'bench/peers/.cache/resnet50.onnx');

const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
const lastJson = (text) => JSON.parse(text.trim().split('\n').at(-1));

// The last result of each benchmark and peer run, so a memory row can read
// the run its speed row just made.
const last = {};
function ours(filter, minTime) {
  const out = JSON.parse(run(bench, [`--benchmark_filter=^${filter}/min_time:${minTime.toFixed(3)}/real_time$`,
                                     '--benchmark_format=json', `--benchmark_min_time=${minTime}`]));
  const b = out.benchmarks.find((x) => x.run_type !== 'aggregate');
  if (!b) throw new Error(`cnnp-bench ran nothing for ${filter}`);
  last[filter] = b;
  return b.items_per_second;
}
function pytorch(workload, threads, batch = 0) {
  const r = lastJson(run(python, ['bench/peers/pytorch_workloads.py', '--workload', workload, '--threads', String(threads),
                                  '--seconds', '3', ...(batch ? ['--batch', String(batch)] : [])]));
  last[`pytorch ${workload} ${threads}`] = r;
  return r.images_per_s;
}
const blas = (m, n, k, threads) =>
  lastJson(run(openblas, ['--m', String(m), '--n', String(n), '--k', String(k), '--threads', String(threads)])).gflops * 1e9;
const ort = (backend, threads, batch) =>
  lastJson(run(process.execPath, ['bench/peers/onnxruntime_w3.mjs', '--backend', backend, '--threads', String(threads),
                                  '--batch', String(batch), '--seconds', '4'])).images_per_s;
const wasmBuild = (simd) => (workload, threads, extra = []) => {
  const r = lastJson(run(process.execPath, ['bench/wasm-bench.mjs', '--workload', workload, '--threads', String(threads),
                                            '--seconds', '4', '--simd', simd, '--json', ...extra]));
  return r.images_per_s ?? r.gflops * 1e9;
};
const wasm = wasmBuild('simd128');
const jsPeer = (script, extra = []) => {
  const r = lastJson(run(process.execPath, [`bench/peers/${script}`, '--seconds', '4', ...extra]));
  if (r.error) return NaN;  // recorded as "cannot run" below
  return r.images_per_s;
};

// Every peer this script starts reads OPENBLAS_CORETYPE: where OpenBLAS
// chose kernels this CPU outgrows, it is set (bench/openblas-core.mjs), so
// no peer is timed on the wrong kernels.
function fitOpenblasCore() {
  if (!fs.existsSync(openblas)) return;
  const chosen = () => lastJson(run(openblas, ['--m', '8', '--n', '8', '--k', '8', '--seconds', '0'])).core;
  const core = chosen();
  const flags = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/);
  const fitted = process.env.OPENBLAS_CORETYPE ? null : fittedCoreType(core, flags);
  if (!fitted) {
    if (!json) process.stderr.write(`OpenBLAS kernels: ${core}\n`);
    return;
  }
  process.env.OPENBLAS_CORETYPE = fitted;
  const now = chosen();
  if (!json) process.stderr.write(`OpenBLAS kernels: ${now} (it chose ${core}, which lacks this CPU's AVX2)\n`);
}
fitOpenblasCore();

// Each row: [name, unit, ours(), peer() or null].
const rows = [];
const CONVS = { conv1_7x7s2: [12544, 64, 147], conv2_3x3: [3136, 64, 576], conv2_1x1_expand: [3136, 256, 64],
                conv3_3x3: [784, 128, 1152], conv4_3x3: [196, 256, 2304], conv5_3x3: [49, 512, 4608],
                conv5_1x1_expand: [49, 2048, 512] };
const haveBlas = fs.existsSync(openblas);
// A benchmark's thread counts run back to back, so a scaling row (2 threads
// over 1, per round) compares runs seconds apart, not minutes: this VM's slow
// and fast spells last minutes. make(t) gives the rows for t threads.
const perThreadCount = (make) => threadCounts.forEach((t) => rows.push(...make(t)));
if (only.includes('peak'))
  perThreadCount((t) => [[`peak/threads:${t}`, 'GFLOP/s', () => ours(`BM_PeakFlops/threads:${t}`, 0.5), null]]);
if (only.includes('gemm'))
  for (const s of [256, 512, 1024])
    perThreadCount((t) => [[`gemm ${s}^3/threads:${t}`, 'GFLOP/s', () => ours(`BM_GEMM/size:${s}/threads:${t}`, 1),
                            haveBlas ? () => blas(s, s, s, t) : null]]);
if (only.includes('conv'))
  for (const [name, [m, n, k]] of Object.entries(CONVS))
    perThreadCount((t) => [[`conv ${name}/threads:${t}`, 'GFLOP/s',
                            () => ours(`BM_GEMM_Conv/${name}/threads:${t}`, 0.5), haveBlas ? () => blas(m, n, k, t) : null]]);
if (only.includes('w1'))
  perThreadCount((t) => [[`w1/threads:${t}`, 'images/s', () => ours(`BM_W1_LeNetTrain/threads:${t}`, 2),
                          () => pytorch('w1', t)]]);
if (only.includes('w2'))
  perThreadCount((t) => [[`w2/threads:${t}`, 'images/s', () => ours(`BM_W2_CourseCNNTrain/threads:${t}`, 3),
                          () => pytorch('w2', t)]]);
if (only.includes('w3')) {
  perThreadCount((t) => [[`w3 batch 1 vs pytorch/threads:${t}`, 'images/s',
                          () => ours(`BM_W3_ResNet50Infer/batch:1/threads:${t}`, 3), () => pytorch('w3', t, 1)]]);
  perThreadCount((t) => [[`w3 batch 8 vs onnxruntime-node/threads:${t}`, 'images/s',
                          () => ours(`BM_W3_ResNet50Infer/batch:8/threads:${t}`, 3), () => ort('node', t, 8)]]);
}
if (only.includes('w4'))
  perThreadCount((t) => [
    [`w4/threads:${t}`, 'images/s', () => ours(`BM_W4_ResNet50Transfer/threads:${t}`, 3), () => pytorch('w4', t)],
    // peer / ours: above 1 when we need less memory. Reads the runs just made.
    [`w4 peak RSS (peer/ours)/threads:${t}`, 'MiB', () => last[`BM_W4_ResNet50Transfer/threads:${t}`].peak_rss_mib,
     () => last[`pytorch w4 ${t}`].peak_rss_mib, 'inverse'],
  ]);
for (const [key, label, build] of [['wasm', 'wasm', wasm], ['relaxed', 'wasm relaxed', wasmBuild('relaxed')]]) {
  if (!only.includes(key)) continue;
  rows.push([`${label} w1 vs pytorch/threads:1`, 'images/s', () => build('w1', 1), () => pytorch('w1', 1)]);
  rows.push([`${label} w2 vs pytorch/threads:1`, 'images/s', () => build('w2', 1), () => pytorch('w2', 1)]);
  rows.push([`${label} w4 vs pytorch/threads:1`, 'images/s', () => build('w4', 1), () => pytorch('w4', 1)]);
  for (const t of threadCounts)
    rows.push([`${label} w3 batch 8 vs onnxruntime-web/threads:${t}`, 'images/s',
               () => build('w3', t, ['--batch', '8']), () => ort('web', t, 8)]);
  for (const t of threadCounts)
    rows.push([`${label} gemm 1024 vs ${label} peak/threads:${t}`, 'GFLOP/s', () => build('gemm', t, ['--size', '1024']),
               () => build('peak', t)]);
}
if (only.includes('js')) {
  rows.push(['wasm w1 vs tfjs-cpu/threads:1', 'images/s', () => wasm('w1', 1), () => jsPeer('tfjs_w1.mjs', ['--backend', 'cpu'])]);
  rows.push(['wasm w1 vs tfjs-wasm/threads:1', 'images/s', () => wasm('w1', 1), () => jsPeer('tfjs_w1.mjs', ['--backend', 'wasm'])]);
  rows.push(['wasm w1 vs convnetjs/threads:1', 'images/s', () => wasm('w1', 1), () => jsPeer('convnetjs_w1.mjs')]);
}
if (rows.some(([name]) => name.includes('onnxruntime')) && !fs.existsSync(onnx))
  run(python, ['bench/peers/export_resnet50_onnx.py']);

const median = (xs) => {
  const s = xs.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = rows.map(([name, unit]) => ({ name, unit, ours: [], peer: [], ratio: [] }));
for (let r = 0; r < rounds; r++) {
  rows.forEach(([, , mine, peer, kind], i) => {
    // Alternate which side runs first, so drift over a round cancels out.
    let a, b;
    if (r % 2 === 0 || !peer || kind === 'inverse') {
      a = mine();
      b = peer?.();
    } else {
      b = peer();
      a = mine();
    }
    results[i].ours.push(a);
    if (b != null) {
      results[i].peer.push(b);
      results[i].ratio.push(kind === 'inverse' ? b / a : a / b);
    }
  });
  if (!json) process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}
// Scaling: our 2-thread figure over our 1-thread figure, per round.
if (threadCounts.includes(1) && threadCounts.includes(2))
  for (const base of ['w2', 'w3 batch 8 vs onnxruntime-node', 'w3 batch 1 vs pytorch', 'w4', 'gemm 1024^3']) {
    const one = results.find((x) => x.name === `${base}/threads:1`);
    const two = results.find((x) => x.name === `${base}/threads:2`);
    if (one && two)
      results.push({ name: `scaling ${base.split(' vs ')[0]} (2 threads / 1)`, unit: 'x', ours: two.ours.map((v, k) => v / one.ours[k]),
                     peer: [], ratio: [] });
  }
const scale = (unit) => (unit === 'GFLOP/s' ? 1e-9 : 1);
for (const x of results) {
  const peer = x.peer.length ? median(x.peer) : null;
  const row = { name: x.name, unit: x.unit, ours: +(median(x.ours) * scale(x.unit)).toFixed(2),
                peer: peer == null ? null : Number.isNaN(peer) ? 'cannot run' : +(peer * scale(x.unit)).toFixed(2),
                median_ratio: x.ratio.length && !Number.isNaN(median(x.ratio)) ? +median(x.ratio).toFixed(3) : null, rounds };
  console.log(json ? JSON.stringify(row)
                   : `${row.name.padEnd(48)} ours ${String(row.ours).padStart(8)} ${row.unit}` +
                     (row.peer != null ? `  peer ${String(row.peer).padStart(10)}  median ratio ${row.median_ratio}` : ''));
}
