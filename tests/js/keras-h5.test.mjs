// Keras HDF5 files through the npm API (h5wasm at the edge, the core's
// mapping): the PyTorch-made reduced ResNet fixture, round trips, errors and
// the frozen-backbone transfer model, in both builds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { loadVariants, relError, root } from './helpers.mjs';

const variants = await loadVariants();
after(() => variants.forEach((v) => v.cnn.dispose()));

const fixtureDir = path.join(root, 'tests/fixtures/keras_h5');
const readFixture = (name) => new Uint8Array(fs.readFileSync(path.join(fixtureDir, name)));
const reference = (() => {
  const j = JSON.parse(fs.readFileSync(path.join(fixtureDir, 'reduced_resnet_reference.json'), 'utf8'));
  const out = {};
  for (const [k, v] of Object.entries(j.tensors))
    out[k] = { data: new Float32Array(new Uint8Array(Buffer.from(v.b64, 'base64')).buffer), shape: v.shape };
  return out;
})();
const reduced = { stemFilters: 8, blocks: [2, 1, 1, 1], filters: [4, 8, 8, 16] };

for (const { name, cnn } of variants) {
  const resnet = (opts = {}) => cnn.presets.resnet50({ inputShape: [32, 32, 3], classes: 5, architecture: reduced,
                                                       ...opts });
  // The fixture's images after preprocess_input('caffe'), through loadImage's path.
  const preprocessed = () => {
    const img = reference.images;
    const x = cnn.tensor(img.data, img.shape);
    const bgr = x.dataSync();
    for (let i = 0; i < bgr.length; i += 3) {
      const r = bgr[i];
      bgr[i] = bgr[i + 2] - 103.939;
      bgr[i + 1] -= 116.779;
      bgr[i + 2] = r - 123.68;
    }
    x.dispose();
    return cnn.tensor(bgr, img.shape);
  };

  describe(`Keras HDF5 files (${name})`, () => {
    test('the reduced ResNet file loads by order and matches PyTorch', async () => {
      const model = resnet();
      const report = await model.loadWeights(readFixture('reduced_resnet.h5'));
      assert.equal(report.values, model.countParams());
      assert.match(report.notes[0], /'probs' -> 'predictions'/);
      assert.equal(model.preprocessing, 'caffe');
      const x = preprocessed();
      const [features, probs] = model.layerOutputs(x, ['conv5_block1_out', 'predictions']);
      assert.ok(relError(features.dataSync(), reference.conv5_out.data) < 1e-4);
      assert.ok(relError(probs.dataSync(), reference.predictions.data) < 1e-4);
      [x, features, probs, model].forEach((t) => t.dispose());
    });

    test('keras-applications 0.2 names map onto the same network', async () => {
      const model = resnet();
      const report = await model.loadWeights(readFixture('reduced_resnet_legacy.h5'));
      assert.equal(report.legacyNames, true);
      const x = preprocessed();
      const y = model.predict(x);
      assert.ok(relError(y.dataSync(), reference.legacy_predictions.data) < 1e-4);
      [x, y, model].forEach((t) => t.dispose());
    });

    test('Keras 3 .keras archives and .weights.h5 files load and match PyTorch', async () => {
      const k3 = (file) => new Uint8Array(fs.readFileSync(path.join(root, 'tests/fixtures/keras3', file)));
      const ref = JSON.parse(fs.readFileSync(path.join(root, 'tests/fixtures/keras3/reference.json'), 'utf8')).tensors;
      const tensorOf = (v) => ({ data: new Float32Array(new Uint8Array(Buffer.from(v.b64, 'base64')).buffer), shape: v.shape });
      const seq = await cnn.loadKerasModel(k3('cnn.keras'));
      const y = seq.predict(tensorOf(ref.cnn_input));
      assert.ok(relError(y.dataSync(), tensorOf(ref.cnn_output).data) < 1e-5);
      // The nested, frozen backbone of Sequential([backbone, GAP, Dense]).
      const nested = await cnn.loadKerasModel(k3('nested.keras'));
      assert.equal(nested.trainableParams(), 4 * 3 + 3);
      const z = nested.predict(tensorOf(ref.nested_input));
      assert.ok(relError(z.dataSync(), tensorOf(ref.nested_output).data) < 1e-5);
      // model.save_weights('w.weights.h5') into the same architecture, by its structure.
      const fresh = cnn.modelFromJSON(JSON.parse(seq.toJSON()), { seed: 3 });
      const report = await fresh.loadWeights(k3('cnn.weights.h5'));
      assert.equal(report.layers, 4);
      const w = fresh.predict(tensorOf(ref.cnn_input));
      assert.deepEqual(w.dataSync(), y.dataSync());
      // A damaged archive is named; the engine's own loader points to loadKerasModel.
      const damaged = k3('cnn.keras').slice(0, 5000);
      await assert.rejects(cnn.loadKerasModel(damaged), { message: /zip archive: no end of central directory/ });
      assert.throws(() => cnn.loadModel(k3('cnn.keras')), { message: /Keras 3 \.keras archive; use await cnn\.loadKerasModel/ });
      await assert.rejects(seq.loadWeights(k3('cnn.keras')), { message: /Keras 3 \.keras archive/ });
      [y, z, w, seq, nested, fresh].forEach((t) => t.dispose());
    });

    test('non-ASCII names in a file h5py wrote (UTF-8 under HDF5\'s ASCII set) read as written', async () => {
      const model = await cnn.loadKerasModel(readFixture('utf8_names.h5'));
      assert.deepEqual(model.metadata, { class_names: ['café', '猫'] });
      assert.equal(model.layers.at(-1).name, 'couche_été');
      const y = model.predict({ data: new Float32Array([1, 1]), shape: [1, 2] });
      assert.deepEqual(Array.from(y.dataSync()), [4.5, 5.5]);
      [y, model].forEach((o) => o.dispose());
    });

    test('float16 weights (tf.keras under set_floatx(\'float16\')) read exactly, in the file\'s byte order', async () => {
      const model = await cnn.loadKerasModel(readFixture('half_weights.h5'));
      const [kernel, bias] = model.getWeights();
      assert.deepEqual(Array.from(kernel.dataSync()), [1.5, -2.25, 2 ** -14, 65504, 2 ** -24, -0.5]);
      assert.deepEqual(Array.from(bias.dataSync()), [0.125, -3]);
      [kernel, bias, model].forEach((o) => o.dispose());
    });

    test('Keras 3 bfloat16 weights (h5py\'s 2-byte opaque values) widen exactly; other types are named', async () => {
      const model = cnn.sequential([cnn.layers.dense({ units: 2, inputShape: [3] })]);
      const largest = new Float32Array(new Uint32Array([0x7f7f0000]).buffer)[0];
      // h5py's opaque values, and HDF5 2.0's 2-byte float with bfloat16's fields (Keras's mark tells it from a half).
      for (const file of ['bfloat16.weights.h5', 'bfloat16_float.weights.h5']) {
        await model.loadWeights(readFixture(`../keras3/${file}`));
        const [kernel, bias] = model.getWeights();
        assert.deepEqual(Array.from(kernel.dataSync()), [1.5, -2.25, 2 ** -126, largest, 2 ** -133, -0.5], file);
        assert.deepEqual(Array.from(bias.dataSync()), [0.125, -3], file);
        [kernel, bias].forEach((t) => t.dispose());
      }
      await assert.rejects(model.loadWeights(readFixture('../keras3/opaque4.weights.h5')),
                           { message: /dataset '\/layers\/dense\/vars\/0' holds neither floats nor integers/ });
      // A scalar variable is read (as the native reader reads it), so a file with a third one is named.
      await assert.rejects(model.loadWeights(readFixture('../keras3/scalar_var.weights.h5')),
                           { message: /layer 'dense' has 2 weights, the file 3/ });
      model.dispose();
    });

    test('a wrong file says which layer and which shapes', async () => {
      const model = resnet({ architecture: { ...reduced, stemFilters: 16 } });
      await assert.rejects(model.loadWeights(readFixture('reduced_resnet.h5')),
                           /'conv1_conv'.*\(7, 7, 3, 16\).*\(7, 7, 3, 8\)/);
      await assert.rejects(model.loadWeights(new TextEncoder().encode('not a file')), /not an HDF5 file/);
      model.dispose();
      // The engine still works after the errors.
      const ok = resnet();
      await ok.loadWeights(readFixture('reduced_resnet.h5'));
      ok.dispose();
    });

    test('frozen backbone + GAP + Dense: Keras file round trip and the backbone untouched by training', async () => {
      const backbone = resnet({ includeTop: false });
      await backbone.loadWeights(readFixture('reduced_resnet.h5'), { byName: true });
      const loaded = backbone.getWeights().map((t) => { const d = t.dataSync(); t.dispose(); return d; });
      backbone.trainable = false;
      const model = cnn.sequential([backbone, cnn.layers.globalAveragePooling2d(),
                                    cnn.layers.dense({ units: 3, activation: 'softmax' })]);
      assert.equal(model.trainableParams(), 64 * 3 + 3);
      assert.equal(model.preprocessing, 'caffe');
      const task = cnn.data.syntheticTask({ samples: 48, height: 32, width: 32, channels: 3, classes: 3, seed: 4 });
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      await model.fit(task.x, task.y, { batchSize: 16, epochs: 1 });
      const after = backbone.getWeights().map((t) => { const d = t.dataSync(); t.dispose(); return d; });
      after.forEach((w, i) => assert.deepEqual(w, loaded[i], `backbone weight ${i}`));

      const bytes = await model.saveKeras({ metadata: { classNames: ['a', 'b', 'c'] } });
      assert.equal(bytes[1], 0x48);  // 'H' of the HDF5 signature
      // h5wasm's file, read by h5py as Keras reads it (where python3-h5py is installed).
      if (spawnSync('/usr/bin/python3', ['-c', 'import h5py']).status === 0) {
        const file = path.join(os.tmpdir(), `cnnp-js-${process.pid}-${name}.h5`);
        fs.writeFileSync(file, bytes);
        const r = spawnSync('/usr/bin/python3', [path.join(fixtureDir, 'check_keras_layout.py'), file], { encoding: 'utf8' });
        fs.rmSync(file);
        assert.equal(r.status, 0, r.stderr);
      }
      // Written as Keras writes Sequential([backbone, GAP, Dense]): the backbone one nested layer.
      const config = JSON.parse(model.toJSON());
      assert.equal(config.class_name, 'Sequential');
      assert.deepEqual(config.config.layers.map((l) => l.class_name),
                       ['InputLayer', 'Functional', 'GlobalAveragePooling2D', 'Dense']);
      assert.equal(config.config.layers[1].config.trainable, false);
      const back = await cnn.loadKerasModel(bytes);
      assert.match(back.summary(), /^Model: "sequential"\n[^]*\n resnet \(Functional\) +\(None, 1, 1, 64\) +13248 /);
      assert.deepEqual(back.metadata, { classNames: ['a', 'b', 'c'] });
      assert.equal(back.trainableParams(), model.trainableParams());
      const a = model.predict(task.x);
      const b = back.predict(task.x);
      assert.deepEqual(b.dataSync(), a.dataSync());
      // Weights alone, into a fresh model of the same architecture.
      const weights = await model.saveKeras({ weightsOnly: true });
      await assert.rejects(cnn.loadKerasModel(weights), /weights only/);
      [a, b, back, task.x, task.y, model, backbone].forEach((t) => t.dispose());
    });

    test('transfer learning on a generated folder: the frozen backbone\'s head learns', async () => {
      // Four colour schemes under noise and a random distractor patch, as PNG files in class folders.
      const palette = [[200, 60, 60], [60, 170, 70], [70, 80, 200], [210, 200, 60]];
      let seed = 11;
      const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
      const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
      const records = [];
      for (let i = 0; i < 160; i++) {
        const label = i % 4;
        const px = Math.floor(rand() * 22), py = Math.floor(rand() * 22);
        const patch = [rand() * 255, rand() * 255, rand() * 255];
        const values = new Float32Array(32 * 32 * 3);
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++)
            for (let c = 0; c < 3; c++) {
              const inPatch = y >= py && y < py + 10 && x >= px && x < px + 10;
              const v = (inPatch ? patch[c] : palette[label][c]) + gauss() * 40;
              values[(y * 32 + x) * 3 + c] = Math.min(255, Math.max(0, v)) / 255;  // encodePng takes [0, 1]
            }
        records.push({ path: `class_${label}/img_${i}.png`, bytes: cnn.data.encodePng({ data: values, shape: [32, 32, 3] }) });
      }
      const files = await cnn.data.files(records);
      const opts = { targetSize: [32, 32], classMode: 'sparse', batchSize: 16, validationSplit: 0.25, seed: 3,
                     preprocessing: 'caffe' };
      const train = files.flow({ ...opts, subset: 'training' });
      const val = files.flow({ ...opts, subset: 'validation', shuffle: false });

      const backbone = resnet({ includeTop: false });
      await backbone.loadWeights(readFixture('reduced_resnet.h5'), { byName: true });
      // A short "pretraining" so the BatchNormalization statistics fit these images.
      const pre = cnn.sequential([backbone, cnn.layers.globalAveragePooling2d(),
                                  cnn.layers.dense({ units: 4, activation: 'softmax' })], { seed: 5 });
      pre.compile({ optimizer: cnn.optimizers.adam({ learningRate: 0.001 }), loss: 'sparseCategoricalCrossentropy' });
      await pre.fit(train, { epochs: 20, seed: 1 });
      pre.dispose();
      backbone.trainable = false;
      const model = cnn.sequential([backbone, cnn.layers.globalAveragePooling2d(),
                                    cnn.layers.dense({ units: 4, activation: 'softmax' })], { seed: 6 });
      model.compile({ optimizer: cnn.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy',
                      metrics: ['accuracy'] });
      const history = await model.fit(train, { epochs: 10, seed: 2, validationData: val });
      const acc = history.history.val_accuracy.at(-1);
      assert.ok(acc > 0.6, `val_accuracy ${acc}, chance 0.25`);
      [train, val, files, model, backbone].forEach((o) => o.dispose());
    });
  });
}
