// Workload W1: LeNet training on 28x28x1 images, batch 32, Adam, through the
// JS API. Shared by the Node runner (bench/wasm-bench.mjs) and the browser
// runner (bench/browser/), so both time exactly the same work.

/**
 * Trains whole epochs of 8 batches for about `seconds` after a warm-up
 * (the engine tiers its wasm up over the first calls).
 * @returns {Promise<{images: number, seconds: number, images_per_s: number}>}
 */
export async function runW1(cnn, { seconds = 5, now = () => performance.now() / 1000 } = {}) {
  const batch = 32;
  const { x, y } = cnn.data.syntheticTask({ samples: batch * 8, seed: 1 });
  const model = cnn.presets.lenet({ seed: 7 });
  try {
    model.compile({ optimizer: cnn.optimizers.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    await model.fit(x, y, { batchSize: batch, epochs: 2, seed: 3, yieldEveryMs: 1e9 });
    let images = 0;
    const t0 = now();
    let elapsed = 0;
    while (elapsed < seconds) {
      await model.fit(x, y, { batchSize: batch, epochs: 1, seed: 3, yieldEveryMs: 1e9 });
      images += x.shape[0];
      elapsed = now() - t0;
    }
    return { images, seconds: elapsed, images_per_s: +(images / elapsed).toFixed(1) };
  } finally {
    model.dispose();
    x.dispose();
    y.dispose();
  }
}
