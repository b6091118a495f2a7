// The wasm engine's workloads in Node, through the npm package's JS API.
// usage: node bench/wasm-bench.mjs --workload w1|w2|w3|w4|gemm|peak [--threads N] [--batch 1|8]
//                                  [--seconds 5] [--simd auto|relaxed|simd128] [--json]
// --threads 1 runs the single-thread build, N > 1 the threaded build on N threads.
// --simd relaxed runs the relaxed-SIMD build (fused multiply-adds), turning on
// V8's flag for it where Node needs one (Node 20); auto: as loadCnn picks.
// Prints {"workload", "threads", "variant", "simd", "images_per_s"} with --json
// (w3 adds "batch"); gemm and peak print "gflops" instead.
import v8 from 'node:v8';

import { loadCnn } from '../bindings/js/index.mjs';
import { hasRelaxedSimd } from '../bindings/js/wasm-features.mjs';
import { runW2, runW3, runW4 } from './workloads/cnn-workloads.mjs';
import { runW1 } from './workloads/w1.mjs';
import { flag, option } from './cli-args.mjs';

const workload = option('workload', 'w1');
const threads = Number(option('threads', '1'));
const seconds = Number(option('seconds', '5'));
const json = flag('json');

const batch = Number(option('batch', '8'));
const runners = { w1: runW1, w2: runW2, w3: runW3, w4: runW4 };
if (!runners[workload] && workload !== 'gemm' && workload !== 'peak') {
  console.error(`wasm-bench: unknown workload '${workload}', expected w1, w2, w3, w4, gemm or peak`);
  process.exit(2);
}

const simd = option('simd', 'auto');
if (simd === 'relaxed' && !hasRelaxedSimd()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const cnn = await loadCnn({ threads: threads > 1, simd });
if (threads > 1) cnn.setThreads(threads);
let result;
if (runners[workload]) {
  const { images_per_s } = await runners[workload](cnn, { seconds, batch });
  result = { workload, threads, variant: cnn.backend.variant, simd: cnn.backend.simd,
             ...(workload === 'w3' ? { batch } : {}), images_per_s };
} else {
  const r = JSON.parse(workload === 'gemm' ? cnn.module.benchGemm(Number(option('size', '512')), seconds)
                                           : cnn.module.benchPeak(seconds));
  result = { workload, threads, variant: cnn.backend.variant, simd: cnn.backend.simd, ...r };
}
console.log(json ? JSON.stringify(result)
                 : `${workload} (${result.variant}, ${result.simd}, ${threads} thread(s)): ${JSON.stringify(result)}`);
cnn.dispose();
