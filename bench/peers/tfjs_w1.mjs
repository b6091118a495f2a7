// W1 on TensorFlow.js 4.22 in Node: the course's LeNet (as the engine's:
// Conv2D(6,5,same,relu) -> AvgPool -> Conv2D(16,5,relu) -> AvgPool -> Dense
// 120/84/10), 28x28x1, batch 32, Adam, on the pure-JS 'cpu' backend or the
// 'wasm' backend. (tfjs-node needs a native download, so it is not a peer.)
// usage: node bench/peers/tfjs_w1.mjs [--backend cpu|wasm] [--seconds 5]
// Prints {"workload":"w1","peer","images_per_s"} or, where the backend cannot
// train the net, {"workload":"w1","peer","error"}.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { option } from '../cli-args.mjs';

const backend = option('backend', 'cpu');
const seconds = Number(option('seconds', '5'));
const peer = `tfjs-${backend}`;
// Keep stdout to the one JSON line: TF.js prints advice to the console.
console.warn = () => {};

try {
  await tf.setBackend(backend);
  await tf.ready();
  const model = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }),
    tf.layers.averagePooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }),
    tf.layers.averagePooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 120, activation: 'relu' }),
    tf.layers.dense({ units: 84, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ] });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'sparseCategoricalCrossentropy' });
  const batch = 32;
  const x = tf.randomUniform([batch * 2, 28, 28, 1], 0, 1, 'float32', 1);
  const y = tf.randomUniform([batch * 2], 0, 10, 'int32', 2).asType('float32');
  const epoch = () => model.fit(x, y, { batchSize: batch, epochs: 1, shuffle: false, verbose: 0 });
  await epoch();  // warm-up
  let images = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await epoch();
    images += batch * 2;
  }
  const elapsed = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ workload: 'w1', peer, images_per_s: +(images / elapsed).toFixed(2) }));
} catch (e) {
  console.log(JSON.stringify({ workload: 'w1', peer, error: String(e.message ?? e).split('\n')[0] }));
}
