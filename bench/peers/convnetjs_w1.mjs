// W1 on ConvNetJS 0.3 in Node: the course's LeNet as close as ConvNetJS
// allows (it has max pooling only, so MaxPool stands in for AvgPool),
// 28x28x1, batch 32, Adam (lr 0.001). ConvNetJS trains one sample at a time
// and updates every batch_size samples.
// usage: node bench/peers/convnetjs_w1.mjs [--seconds 5]
// Prints {"workload":"w1","peer":"convnetjs","images_per_s"}.
import { createRequire } from 'node:module';

import { option } from '../cli-args.mjs';

const convnetjs = createRequire(import.meta.url)('convnetjs');
const seconds = Number(option('seconds', '5'));

const net = new convnetjs.Net();
net.makeLayers([
  { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
  { type: 'conv', sx: 5, filters: 6, stride: 1, pad: 2, activation: 'relu' },
  { type: 'pool', sx: 2, stride: 2 },
  { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 0, activation: 'relu' },
  { type: 'pool', sx: 2, stride: 2 },
  { type: 'fc', num_neurons: 120, activation: 'relu' },
  { type: 'fc', num_neurons: 84, activation: 'relu' },
  { type: 'softmax', num_classes: 10 },
]);
const trainer = new convnetjs.Trainer(net, { method: 'adam', learning_rate: 0.001, batch_size: 32, l2_decay: 0 });
const samples = [];
for (let s = 0; s < 64; s++) {
  const v = new convnetjs.Vol(28, 28, 1, 0.0);
  for (let k = 0; k < v.w.length; k++) v.w[k] = ((s * 7919 + k * 104729) % 1000) / 1000;
  samples.push([v, s % 10]);
}
const epoch = () => {
  for (const [v, label] of samples) trainer.train(v, label);
};
epoch();  // warm-up
let images = 0;
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  epoch();
  images += samples.length;
}
const elapsed = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ workload: 'w1', peer: 'convnetjs', images_per_s: +(images / elapsed).toFixed(1) }));
