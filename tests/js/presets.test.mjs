// The ready-made models and the thread controls of the JS API, in both builds.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { loadVariants } from './helpers.mjs';

const variants = await loadVariants();
after(() => variants.forEach((v) => v.cnn.dispose()));

for (const { name, cnn } of variants) {
  describe(`presets and threads (${name})`, () => {
    test('ResNet50 has keras.applications.ResNet50\'s parameter counts and layer names', () => {
      const top = cnn.presets.resnet50();
      assert.equal(top.countParams(), 25_636_712);
      top.dispose();
      const notop = cnn.presets.resnet50({ includeTop: false, inputShape: [150, 150, 3], pooling: 'avg' });
      assert.equal(notop.countParams(), 23_587_712);
      const names = notop.layers.map((l) => l.name);
      assert.deepEqual(names.slice(0, 4), ['input_1', 'conv1_pad', 'conv1_conv', 'conv1_bn']);
      assert.equal(names.at(-1), 'avg_pool');
      assert.deepEqual(notop.layers.at(-1).outputShape, [-1, 2048]);
      notop.dispose();
      assert.throws(() => cnn.presets.resnet50({ includeTop: false, pooling: 'mean' }), /pooling must be/);
      assert.throws(() => cnn.presets.resnet50({ inputShape: [16, 16, 3] }), /at least 32/);
    });

    test('the course CNN is the issue\'s W2 network', () => {
      const m = cnn.presets.courseCnn();
      // 448 + 4,640 + 18,496 (convs) + 17*17*64*12 + 12 (Dense)
      assert.equal(m.countParams(), 448 + 4640 + 18496 + 17 * 17 * 64 * 12 + 12);
      assert.deepEqual(m.layers.at(-1).outputShape, [-1, 12]);
      m.dispose();
    });

    test('thread count is settable within the build\'s range and does not change results', () => {
      assert.equal(cnn.threads, cnn.maxThreads);
      assert.throws(() => cnn.setThreads(0), /expected 1 to/);
      assert.throws(() => cnn.setThreads(cnn.maxThreads + 1));
      const model = cnn.presets.resnet50({ inputShape: [32, 32, 3], classes: 5, seed: 3 });
      const values = Float32Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => ((i * 37) % 255) - 127);
      const x = cnn.tensor(values, [2, 32, 32, 3]);
      const outputs = [];
      for (const t of [1, cnn.maxThreads]) {
        cnn.setThreads(t);
        assert.equal(cnn.threads, t);
        const y = model.predict(x);
        outputs.push(Array.from(y.dataSync()));
        y.dispose();
      }
      assert.deepEqual(outputs[0], outputs[1]);
      const sum = outputs[0].slice(0, 5).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `softmax row sums to ${sum}`);
      x.dispose();
      model.dispose();
    });
  });
}
