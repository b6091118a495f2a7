// The wasm engine's workloads in Node, through the npm package's JS API.
// usage: node bench/wasm-bench.mjs --workload w1 [--threads 1|2] [--seconds 5] [--json]
// --threads 1 runs the single-thread build, 2 the threaded build.
// Prints {"workload", "threads", "variant", "images_per_s"} with --json.
import { loadCnn } from '../bindings/js/index.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const workload = opt('workload', 'w1');
const threads = Number(opt('threads', '1'));
const seconds = Number(opt('seconds', '5'));
const json = args.includes('--json');

if (workload !== 'w1') {
  console.error(`wasm-bench: workload '${workload}' is not available yet (only w1: LeNet training)`);
  process.exit(2);
}

const cnn = await loadCnn({ threads: threads > 1 });
const batch = 32;
const { x, y } = cnn.data.syntheticTask({ samples: batch * 8, seed: 1 });
const model = cnn.presets.lenet({ seed: 7 });
model.compile({ optimizer: cnn.optimizers.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });

// Warm up (V8 tiers wasm up after the first calls), then time whole epochs of 8 batches.
await model.fit(x, y, { batchSize: batch, epochs: 2, seed: 3, yieldEveryMs: 1e9 });
let images = 0;
const t0 = process.hrtime.bigint();
let elapsed = 0;
while (elapsed < seconds) {
  await model.fit(x, y, { batchSize: batch, epochs: 1, seed: 3, yieldEveryMs: 1e9 });
  images += x.shape[0];
  elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
}
const result = { workload, threads, variant: cnn.backend.variant, images_per_s: +(images / elapsed).toFixed(1) };
console.log(json ? JSON.stringify(result) : `${workload} (${result.variant}, ${threads} thread(s)): ${result.images_per_s} images/s`);
model.dispose();
x.dispose();
y.dispose();
cnn.dispose();
