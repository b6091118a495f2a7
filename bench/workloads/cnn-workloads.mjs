// Workloads W2-W4 through the JS API, as cnnp-bench runs them natively:
//   w2  the course CNN training, 150x150x3, batch 16, Adam
//   w3  ResNet50 inference, 224x224x3, batch 1 or 8
//   w4  ResNet50 frozen backbone + GAP + Dense(12) training, 150x150x3, batch 16, Adam
// (W1 is ./w1.mjs, shared with the browser runner.) Each runs once to warm
// up (V8 tiers wasm up over the first calls), then for about `seconds`.

async function timed(seconds, step) {
  await step();  // warm-up
  let images = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < seconds) {
    images += await step();
    elapsed = (performance.now() - t0) / 1000;
  }
  return { images, seconds: elapsed, images_per_s: +(images / elapsed).toFixed(2) };
}

async function trainTimed(cnn, model, task, batch, seconds) {
  const { x, y } = task;
  try {
    model.compile({ optimizer: cnn.optimizers.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    return await timed(seconds, async () => {
      await model.fit(x, y, { batchSize: batch, epochs: 1, seed: 3, yieldEveryMs: 1e9 });
      return x.shape[0];
    });
  } finally {
    model.dispose();
    x.dispose();
    y.dispose();
  }
}

export async function runW2(cnn, { seconds = 5 } = {}) {
  const batch = 16;
  const task = cnn.data.syntheticTask({ samples: batch * 2, height: 150, width: 150, channels: 3, classes: 12, seed: 1 });
  return trainTimed(cnn, cnn.presets.courseCnn({ seed: 7 }), task, batch, seconds);
}

export async function runW3(cnn, { seconds = 5, batch = 8 } = {}) {
  const model = cnn.presets.resnet50({ seed: 7 });
  const values = new Float32Array(batch * 224 * 224 * 3);
  for (let i = 0; i < values.length; i++) values[i] = ((i * 2654435761) % 256) - 128;
  const x = cnn.tensor(values, [batch, 224, 224, 3]);
  try {
    return await timed(seconds, async () => {
      model.predict(x, { batchSize: batch }).dispose();
      return batch;
    });
  } finally {
    model.dispose();
    x.dispose();
  }
}

export async function runW4(cnn, { seconds = 5 } = {}) {
  const batch = 16;
  // include_top with 12 classes is the GAP + Dense(12, softmax) head; the
  // rest is the frozen backbone.
  const model = cnn.presets.resnet50({ inputShape: [150, 150, 3], classes: 12, seed: 7 });
  for (const layer of model.layers) model.setTrainable(layer.name, layer.name === 'predictions');
  const task = cnn.data.syntheticTask({ samples: batch * 2, height: 150, width: 150, channels: 3, classes: 12, seed: 1 });
  return trainTimed(cnn, model, task, batch, seconds);
}
