// Runs the engine and its peers alternately, several rounds, on this machine,
// and prints the median of the per-round ratios (the machine is shared and
// noisy, so one run proves little).
//
// usage: node bench/compare.mjs [--rounds 5] [--threads 1,2] [--only gemm,conv,peak,w1,w2,wasm-w1] [--json]
//   gemm     cnnp-bench BM_GEMM/size:S           vs OpenBLAS cblas_sgemm (build/openblas-sgemm)
//   conv     cnnp-bench BM_GEMM_Conv/<ResNet50 layer> vs OpenBLAS on the same M, N, K
//   peak     cnnp-bench BM_PeakFlops: the cores' multiply-add peak, to compare GEMM against
//   w1, w2   cnnp-bench BM_W1_LeNetTrain / BM_W2_CourseCNNTrain vs PyTorch CPU (bench/peers/pytorch_workloads.py)
//   wasm-w1  the wasm build in Node (bench/wasm-bench.mjs) vs PyTorch CPU, W1
// Needs a release build (build/), and for the peers Debian's libopenblas-dev and python3-torch.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const rounds = Number(opt('rounds', '5'));
const threadCounts = opt('threads', '1,2').split(',').map(Number);
const only = opt('only', 'gemm,conv,peak,w1,w2,wasm-w1').split(',');
const json = args.includes('--json');
const bench = path.join(root, 'build/cnnp-bench');
const openblas = path.join(root, 'build/openblas-sgemm');
const python = '/usr/bin/python3';

const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
function ours(filter, minTime = 1) {
  const out = JSON.parse(run(bench, [`--benchmark_filter=^${filter}$`, '--benchmark_format=json',
                                     `--benchmark_min_time=${minTime}`]));
  const b = out.benchmarks.find((x) => x.run_type !== 'aggregate');
  if (!b) throw new Error(`cnnp-bench ran nothing for ${filter}`);
  return b.items_per_second;
}
const lastJson = (text) => JSON.parse(text.trim().split('\n').at(-1));
const pytorch = (workload, threads) =>
  lastJson(run(python, ['bench/peers/pytorch_workloads.py', '--workload', workload, '--threads', String(threads),
                        '--seconds', '3'])).images_per_s;
const blas = (m, n, k, threads) =>
  lastJson(run(openblas, ['--m', String(m), '--n', String(n), '--k', String(k), '--threads', String(threads)])).gflops * 1e9;

// Each pair: [name, unit, ours(), peer() or null].
const pairs = [];
const CONVS = { conv1_7x7s2: [12544, 64, 147], conv2_3x3: [3136, 64, 576], conv2_1x1_expand: [3136, 256, 64],
                conv3_3x3: [784, 128, 1152], conv4_3x3: [196, 256, 2304], conv5_3x3: [49, 512, 4608],
                conv5_1x1_expand: [49, 2048, 512] };
for (const t of threadCounts) {
  if (only.includes('peak')) pairs.push([`peak/threads:${t}`, 'GFLOP/s', () => ours(`BM_PeakFlops/threads:${t}/min_time:0.500/real_time`, 0.5), null]);
  if (only.includes('gemm'))
    for (const s of [256, 512, 1024])
      pairs.push([`gemm ${s}^3/threads:${t}`, 'GFLOP/s', () => ours(`BM_GEMM/size:${s}/threads:${t}/min_time:1.000/real_time`),
                  fs.existsSync(openblas) ? () => blas(s, s, s, t) : null]);
  if (only.includes('conv'))
    for (const [name, [m, n, k]] of Object.entries(CONVS))
      pairs.push([`conv ${name}/threads:${t}`, 'GFLOP/s', () => ours(`BM_GEMM_Conv/${name}/threads:${t}/min_time:0.500/real_time`, 0.5),
                  fs.existsSync(openblas) ? () => blas(m, n, k, t) : null]);
  if (only.includes('w1')) pairs.push([`w1/threads:${t}`, 'images/s', () => ours(`BM_W1_LeNetTrain/threads:${t}/min_time:2.000/real_time`, 2), () => pytorch('w1', t)]);
  if (only.includes('w2')) pairs.push([`w2/threads:${t}`, 'images/s', () => ours(`BM_W2_CourseCNNTrain/threads:${t}/min_time:3.000/real_time`, 3), () => pytorch('w2', t)]);
}
if (only.includes('wasm-w1'))
  pairs.push(['wasm w1/threads:1', 'images/s',
              () => lastJson(run(process.execPath, ['bench/wasm-bench.mjs', '--workload', 'w1', '--threads', '1', '--json'])).images_per_s,
              () => pytorch('w1', 1)]);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const results = pairs.map(([name, unit]) => ({ name, unit, ours: [], peer: [], ratio: [] }));
for (let r = 0; r < rounds; r++) {
  pairs.forEach(([, , mine, peer], i) => {
    // Alternate which side runs first, so drift over a round cancels out.
    let a, b;
    if (r % 2 === 0 || !peer) {
      a = mine();
      b = peer?.();
    } else {
      b = peer();
      a = mine();
    }
    results[i].ours.push(a);
    if (b != null) {
      results[i].peer.push(b);
      results[i].ratio.push(a / b);
    }
  });
  if (!json) process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}
const scale = (unit) => (unit === 'GFLOP/s' ? 1e-9 : 1);
for (const x of results) {
  const row = { name: x.name, unit: x.unit, ours: +(median(x.ours) * scale(x.unit)).toFixed(1),
                peer: x.peer.length ? +(median(x.peer) * scale(x.unit)).toFixed(1) : null,
                median_ratio: x.ratio.length ? +median(x.ratio).toFixed(3) : null, rounds };
  console.log(json ? JSON.stringify(row)
                   : `${row.name.padEnd(32)} ours ${String(row.ours).padStart(8)} ${row.unit}` +
                     (row.peer != null ? `  peer ${String(row.peer).padStart(8)}  median ratio ${row.median_ratio}` : ''));
}
