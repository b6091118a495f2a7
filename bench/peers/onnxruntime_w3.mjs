// W3 on ONNX Runtime: ResNet50 inference (torchvision's, exported by
// export_resnet50_onnx.py), 224x224x3, on onnxruntime-node (native CPU) or
// onnxruntime-web's wasm backend in Node.
// usage: node bench/peers/onnxruntime_w3.mjs --backend node|web [--batch 8] [--threads 1] [--seconds 5]
// Prints {"workload":"w3","peer","threads","batch","images_per_s"}.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { option } from '../cli-args.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const backend = option('backend', 'node');
const batch = Number(option('batch', '8'));
const threads = Number(option('threads', '1'));
const seconds = Number(option('seconds', '5'));
const modelPath = option('model', path.join(here, '.cache/resnet50.onnx'));
if (!fs.existsSync(modelPath)) {
  console.error(`onnxruntime_w3: ${modelPath} not found; run /usr/bin/python3 bench/peers/export_resnet50_onnx.py`);
  process.exit(2);
}

let ort, session;
if (backend === 'node') {
  ort = await import('onnxruntime-node');
  session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
} else if (backend === 'web') {
  ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  session = await ort.InferenceSession.create(modelPath, { executionProviders: ['wasm'] });
} else {
  console.error(`onnxruntime_w3: --backend must be node or web, got '${backend}'`);
  process.exit(2);
}
const values = new Float32Array(batch * 3 * 224 * 224);
for (let i = 0; i < values.length; i++) values[i] = ((i * 2654435761) % 256) - 128;
const x = new ort.Tensor('float32', values, [batch, 3, 224, 224]);
await session.run({ x });  // warm-up
let images = 0;
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  await session.run({ x });
  images += batch;
}
const elapsed = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ workload: 'w3', peer: `onnxruntime-${backend}`, threads, batch,
                             images_per_s: +(images / elapsed).toFixed(2) }));
