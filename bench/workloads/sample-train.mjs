// The playground page's first training run, outside the page: its generated
// sample dataset (600 PNGs of 28x28 grayscale shapes, 10 classes) read by a
// flow with a 0.25 validation split, LeNet, Adam, batch 32; images/s counts
// training batches only (validation excluded), as the page's Train section
// reports it. bench/browser-bench.mjs compares the page with this in Node.

/** @returns {Promise<{images_per_s: number}>} */
export async function runSampleTraining(cnn, { epochs = 6 } = {}) {
  const samples = 600;
  const task = cnn.data.syntheticTask({ samples, height: 28, width: 28, classes: 10, seed: 1 });
  const px = task.x.dataSync(), labels = task.y.dataSync();
  task.x.dispose();
  task.y.dispose();
  const records = [];
  for (let i = 0; i < samples; i++)
    records.push({ path: `shape_${labels[i]}/${String(i).padStart(4, '0')}.png`,
                   bytes: cnn.data.encodePng({ data: px.subarray(i * 784, (i + 1) * 784), shape: [28, 28, 1] }) });
  const files = await cnn.data.files(records);
  const opts = { targetSize: [28, 28], colorMode: 'grayscale', batchSize: 32, validationSplit: 0.25, seed: 12345,
                 rescale: 1 / 255, classMode: 'sparse' };
  const train = files.flow({ ...opts, subset: 'training' }).prepare();
  const validation = files.flow({ ...opts, subset: 'validation', shuffle: false }).prepare();
  const model = cnn.presets.lenet({ seed: 7 });
  try {
    model.compile({ optimizer: cnn.optimizers.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    let t = performance.now();
    let seconds = 0;
    let images = 0;
    await model.fit(train, {
      validationData: validation, epochs,
      onBatchEnd: () => {
        const now = performance.now();
        seconds += (now - t) / 1000;
        t = now;
      },
      onEpochEnd: () => {
        images += train.samples;
        t = performance.now();
      },
    });
    return { images_per_s: +(images / seconds).toFixed(1) };
  } finally {
    [model, train, validation, files].forEach((o) => o.dispose());
  }
}
