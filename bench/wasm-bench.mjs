// The wasm engine's workloads in Node, through the npm package's JS API.
// usage: node bench/wasm-bench.mjs --workload w1 [--threads 1|2] [--seconds 5] [--json]
// --threads 1 runs the single-thread build, 2 the threaded build.
// Prints {"workload", "threads", "variant", "images_per_s"} with --json.
import { loadCnn } from '../bindings/js/index.mjs';
import { runW1 } from './workloads/w1.mjs';

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
const { images_per_s } = await runW1(cnn, { seconds });
const result = { workload, threads, variant: cnn.backend.variant, images_per_s };
console.log(json ? JSON.stringify(result) : `${workload} (${result.variant}, ${threads} thread(s)): ${result.images_per_s} images/s`);
cnn.dispose();
