// The course's numbers through the JS API: its convolution example and the
// LeNet summary, identical to the native text (and to Keras's).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { loadVariants, readText } from './helpers.mjs';

const variants = await loadVariants();
after(() => variants.forEach((v) => v.cnn.dispose()));

function lenet(cnn) {
  return cnn.sequential([
    cnn.layers.inputLayer({ shape: [28, 28, 1] }),
    cnn.layers.conv2d({ filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }),
    cnn.layers.averagePooling2d({ poolSize: 2 }),
    cnn.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'relu' }),
    cnn.layers.averagePooling2d({ poolSize: 2 }),
    cnn.layers.flatten(),
    cnn.layers.dense({ units: 120, activation: 'relu' }),
    cnn.layers.dense({ units: 84, activation: 'relu' }),
    cnn.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
}

for (const { name, cnn } of variants) {
  describe(`course (${name})`, () => {
    test('the 2D convolution example gives [[4,3,4],[2,4,3],[2,3,4]]', () => {
      const model = cnn.sequential([cnn.layers.conv2d({ filters: 1, kernelSize: 3, useBias: false, inputShape: [5, 5, 1] })]);
      model.setWeights([{ data: [1, 0, 1, 0, 1, 0, 1, 0, 1], shape: [3, 3, 1, 1] }]);
      const s = [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0];
      const r = model.predict({ data: s, shape: [1, 5, 5, 1] });
      assert.deepEqual(r.shape, [1, 3, 3, 1]);
      assert.deepEqual(Array.from(r.dataSync()), [4, 3, 4, 2, 4, 3, 2, 3, 4]);
      r.dispose();
      model.dispose();
    });

    test('Conv2D(4, 3x3) on 32x32x3 gives (None, 30, 30, 4), then Flatten (None, 3600)', () => {
      const model = cnn.sequential([cnn.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [32, 32, 3] }),
                                    cnn.layers.flatten()]);
      assert.deepEqual(model.layers.map((l) => l.outputShape), [[-1, 32, 32, 3], [-1, 30, 30, 4], [-1, 3600]]);
      model.dispose();
    });

    test('LeNet summary text equals the native/Keras table, 61,706 params', () => {
      const model = lenet(cnn);
      assert.equal(model.countParams(), 61706);
      assert.equal(model.summary(), readText('tests/fixtures/keras/lenet_summary.txt'));
      assert.equal(model.toJSON(), readText('tests/fixtures/keras/lenet_sequential.json'));
      model.dispose();
    });

    test('Keras JSON with a residual Add loads and summarises like Keras', () => {
      const model = cnn.modelFromJSON(readText('tests/fixtures/keras/functional_add.json'));
      assert.equal(model.summary(), readText('tests/fixtures/keras/functional_add_summary.txt'));
      assert.equal(model.trainableParams(), 146);
      model.dispose();
    });

    test('save and load as bytes give identical predictions', () => {
      const model = lenet(cnn);
      const x = cnn.data.syntheticTask({ samples: 4, seed: 3 }).x;
      const before = model.predict(x);
      const bytes = model.save();
      assert.ok(bytes instanceof Uint8Array && bytes.length > 61706 * 4);
      const again = cnn.loadModel(bytes);
      const after = again.predict(x);
      assert.deepEqual(Array.from(after.dataSync()), Array.from(before.dataSync()));
      assert.equal(again.summary(), model.summary());
      [x, before, after, model, again].forEach((o) => o.dispose());
    });

    test('metadata travels with the saved bytes', () => {
      const model = lenet(cnn);
      assert.equal(model.metadata, null);
      const again = cnn.loadModel(model.save({ metadata: { classNames: ['a', 'b'], targetSize: [28, 28] } }));
      assert.deepEqual(again.metadata, { classNames: ['a', 'b'], targetSize: [28, 28] });
      [model, again].forEach((o) => o.dispose());
    });

    test('layerOutputs gives every named layer in one pass', () => {
      const model = lenet(cnn);
      const { x } = cnn.data.syntheticTask({ samples: 3, seed: 5 });
      const names = model.layers.map((l) => l.name);
      const [conv, out] = model.layerOutputs(x, [names[1], names.at(-1)]);
      assert.deepEqual(conv.shape, [3, 28, 28, 6]);
      const p = model.predict(x);
      assert.deepEqual(Array.from(out.dataSync()), Array.from(p.dataSync()));
      // ReLU output: nothing negative, something positive.
      const v = conv.dataSync();
      assert.ok(v.every((a) => a >= 0) && v.some((a) => a > 0));
      assert.throws(() => model.layerOutputs(x, ['nope']), { message: /no layer named 'nope'/ });
      [conv, out, p, x, model].forEach((o) => o.dispose());
    });

    test('loadImage decodes, resizes and rescales like load_img', () => {
      // A 2x2 grayscale PNG made by the engine, read back at 4x4 nearest.
      const png = cnn.data.encodePng({ data: [0, 1, 0.5, 0.25], shape: [2, 2, 1] });
      const t = cnn.data.loadImage(png, { targetSize: [4, 4], colorMode: 'grayscale', rescale: 1 / 255 });
      assert.deepEqual(t.shape, [1, 4, 4, 1]);
      const v = Array.from(t.dataSync(), (a) => Math.round(a * 255));
      assert.deepEqual(v.slice(0, 4), [0, 0, 255, 255]);
      assert.deepEqual(v.slice(8, 12), [128, 128, 64, 64]);
      t.dispose();
      assert.throws(() => cnn.data.loadImage(new Uint8Array([1, 2, 3]), { targetSize: [4, 4], name: 'cat.png' }),
                    { message: /cat\.png/ });
    });

    test('reports which build runs', () => {
      assert.equal(cnn.backend.variant, name);
      assert.equal(cnn.backend.threads, name === 'threaded');
      assert.equal(cnn.backend.simd, 'wasm-simd128');
    });
  });
}
