// Training in a loop does not grow the wasm heap: 200 consecutive one-epoch
// fit calls leave it within 5% of its size after the first.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { loadVariants } from './helpers.mjs';

const variants = await loadVariants();
after(() => variants.forEach((v) => v.cnn.dispose()));

for (const { name, cnn } of variants) {
  describe(`memory (${name})`, () => {
    test('200 fit calls keep the heap flat', async () => {
      const task = cnn.data.syntheticTask({ samples: 64, height: 12, width: 12, classes: 3, seed: 5 });
      const model = cnn.sequential([
        cnn.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
        cnn.layers.maxPooling2d({ poolSize: 2 }),
        cnn.layers.flatten(),
        cnn.layers.dense({ units: 3, activation: 'softmax' }),
      ]);
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const fitOnce = () => model.fit(task.x, task.y, { batchSize: 16, epochs: 1, validationSplit: 0.25 });
      await fitOnce();
      const first = cnn.heap();
      for (let i = 1; i < 200; i++) await fitOnce();
      const last = cnn.heap();
      console.log(`${name}: heap ${first.heapSize} -> ${last.heapSize} bytes, in use ${first.used} -> ${last.used}`);
      assert.ok(last.heapSize <= first.heapSize * 1.05, `heap grew from ${first.heapSize} to ${last.heapSize}`);
      assert.ok(last.used <= first.used * 1.05, `bytes in use grew from ${first.used} to ${last.used}`);
      [task.x, task.y, model].forEach((o) => o.dispose());
    });
  });
}
