// LeNet on the generated task, through the JS API: the same >= 95% validation
// accuracy as the native suite with the same seeds, reproducibly.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { loadVariants, takeRows } from './helpers.mjs';

const variants = await loadVariants();
after(() => variants.forEach((v) => v.cnn.dispose()));

const lenet = (cnn, seed) => cnn.presets.lenet({ seed });

for (const { name, cnn } of variants) {
  describe(`training (${name})`, () => {
    test('LeNet reaches >= 95% validation accuracy, identically twice', async () => {
      const task = cnn.data.syntheticTask({ samples: 2500, seed: 2024 });
      const xTrain = takeRows(cnn, task.x, 0, 2000), yTrain = takeRows(cnn, task.y, 0, 2000);
      const xVal = takeRows(cnn, task.x, 2000, 2500), yVal = takeRows(cnn, task.y, 2000, 2500);
      const weights = [];
      let history;
      for (let run = 0; run < 2; run++) {
        const model = lenet(cnn, 7);
        model.compile({ optimizer: cnn.optimizers.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
        const epochs = [];
        const t0 = Date.now();
        history = await model.fit(xTrain, yTrain, {
          batchSize: 32, epochs: 5, validationData: [xVal, yVal], seed: 11,
          onEpochEnd: (epoch, logs) => epochs.push({ epoch, ...logs }),
        });
        const secs = (Date.now() - t0) / 1000;
        console.log(`${name} run ${run}: val_accuracy ${history.history.val_accuracy.at(-1)} (${secs.toFixed(1)} s, ` +
                    `${(5 * 2000 / secs).toFixed(0)} images/s)`);
        assert.deepEqual(epochs.map((e) => e.epoch), [0, 1, 2, 3, 4]);
        assert.deepEqual(epochs.map((e) => e.val_accuracy), history.history.val_accuracy);
        weights.push(model.getWeights().map((w) => {
          const d = Array.from(w.dataSync());
          w.dispose();
          return d;
        }));
        model.dispose();
      }
      assert.ok(history.history.val_accuracy.at(-1) >= 0.95, `val_accuracy ${history.history.val_accuracy.at(-1)}`);
      assert.deepEqual(weights[0], weights[1]);
      [task.x, task.y, xTrain, yTrain, xVal, yVal].forEach((t) => t.dispose());
    });

    test('progress callbacks and an AbortSignal stop training cleanly', async () => {
      const task = cnn.data.syntheticTask({ samples: 100, height: 12, width: 12, classes: 3, seed: 2 });
      const model = cnn.sequential([
        cnn.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
        cnn.layers.globalAveragePooling2d(),
        cnn.layers.dense({ units: 3, activation: 'softmax' }),
      ]);
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const controller = new AbortController();
      const batches = [];
      const epochs = [];
      const history = await model.fit(task.x, task.y, {
        batchSize: 25, epochs: 10, validationSplit: 0.2, signal: controller.signal,
        onBatchEnd: (batch, logs, progress) => {
          batches.push({ batch, ...progress });
          assert.ok(Number.isFinite(logs.loss) && logs.accuracy >= 0 && logs.accuracy <= 1);
          if (batches.length === 6) controller.abort();
        },
        onEpochEnd: (epoch, logs) => epochs.push({ epoch, ...logs }),
      });
      assert.equal(batches.length, 6);  // 80 training samples: 4 batches an epoch
      assert.deepEqual(batches.slice(0, 5).map((b) => b.batch), [0, 1, 2, 3, 0]);
      // An epoch's last batch is reported in that epoch, not the next.
      assert.deepEqual(batches.map((b) => b.epoch), [0, 0, 0, 0, 1, 1]);
      assert.ok(batches.every((b) => b.steps === 4));
      assert.equal(history.epoch.length, 2);
      assert.deepEqual(epochs.map((e) => e.epoch), [0, 1]);  // the stopped epoch is closed and reported
      assert.ok(epochs.every((e) => Number.isFinite(e.val_loss)));
      assert.equal(history.history.val_loss.length, 2);
      const logs = model.evaluate(task.x, task.y);
      assert.ok(logs.loss > 0 && logs.accuracy >= 0);
      [task.x, task.y, model].forEach((o) => o.dispose());
    });

    test("Keras's random image layers augment in training and pass through in predict", async () => {
      const task = cnn.data.syntheticTask({ samples: 64, height: 12, width: 12, classes: 3, seed: 5 });
      const model = cnn.sequential([
        cnn.layers.randomFlip({ mode: 'horizontal', inputShape: [12, 12, 1] }),
        cnn.layers.randomRotation({ factor: 0.05 }),
        cnn.layers.randomZoom({ heightFactor: [-0.1, 0.1] }),
        cnn.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1, fillMode: 'constant', seed: 3 }),
        cnn.layers.randomContrast({ factor: 0.2 }),
        cnn.layers.randomBrightness({ factor: [-0.1, 0.1], valueRange: [0, 1] }),
        cnn.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu' }),
        cnn.layers.globalAveragePooling2d(),
        cnn.layers.dense({ units: 3, activation: 'softmax' }),
      ]);
      const layers = JSON.parse(model.toJSON()).config.layers;
      assert.deepEqual(layers.slice(1, 7).map((l) => l.class_name),
                       ['RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast',
                        'RandomBrightness']);
      assert.deepEqual(layers[5].config.factor, [0.2, 0.2]);  // [1 - f, 1 + f] to every Keras
      assert.equal('value_range' in layers[5].config, false);  // tf.keras 2's RandomContrast has none
      assert.deepEqual(layers[6].config.value_range, [0, 1]);
      assert.deepEqual(layers[3].config.height_factor, [-0.1, 0.1]);
      assert.equal(layers[4].config.fill_mode, 'constant');
      assert.equal(layers[4].config.seed, 3);
      const a = model.predict(task.x), b = model.predict(task.x);
      assert.deepEqual(b.dataSync(), a.dataSync());
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      const history = await model.fit(task.x, task.y, { batchSize: 16, epochs: 2, seed: 1 });
      assert.ok(history.history.loss.every(Number.isFinite));
      assert.throws(() => cnn.layers.randomZoom({ heightFactor: 0.1, fill: 'constant' }), /unknown option 'fill'/);
      assert.throws(() => cnn.sequential([cnn.layers.randomZoom({ heightFactor: 2, inputShape: [4, 4, 1] })]),
                    /height_factor \[-2, 2\] must lie within \[-1, 1\]/);
      [a, b, task.x, task.y, model].forEach((o) => o.dispose());
    });
  });
}
