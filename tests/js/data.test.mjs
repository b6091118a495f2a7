// The folder pipeline through the JS API: Keras's messages, class_indices,
// splits and batches, bad files, and LeNet trained from a folder of PNGs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, test } from 'node:test';

import { loadVariants, root } from './helpers.mjs';

const variants = await loadVariants();
after(() => variants.forEach((v) => v.cnn.dispose()));

const image = (name) => new Uint8Array(fs.readFileSync(`${root}/tests/fixtures/images/${name}`));

for (const { name, cnn } of variants) {
  describe(`data (${name})`, () => {
    test('flow_from_directory: message, class_indices, split, batches', async () => {
      const png = image('rgb.png');
      const records = [];
      for (let i = 0; i < 7; i++) records.push({ path: `dogs/${i}.png`, bytes: png });
      for (let i = 0; i < 3; i++) records.push({ path: `cats/sub/${i}.png`, bytes: png });
      records.push({ path: 'cats/notes.txt', bytes: new Uint8Array([1]) });
      const files = await cnn.data.files(records, { folders: ['empty'] });
      const opts = { targetSize: [8, 10], batchSize: 4, classMode: 'sparse', validationSplit: 0.25, seed: 1, rescale: 1 / 255 };
      const train = files.flow({ ...opts, subset: 'training', augment: { horizontalFlip: true } });
      const val = files.flow({ ...opts, subset: 'validation', augment: { horizontalFlip: true } });
      assert.equal(train.foundMessage, 'Found 9 images belonging to 3 classes.');  // 3 - int(0.75) + 7 - int(1.75)
      assert.equal(val.foundMessage, 'Found 1 images belonging to 3 classes.');
      assert.deepEqual(train.classIndices, { cats: 0, dogs: 1, empty: 2 });
      assert.equal(train.length, 3);
      assert.ok(train.augmenting && !val.augmenting);
      const per = files.flow({ ...opts, subset: 'training', augment: { noise: { value: 5, probability: 0.3 }, zoomRange: [0.9, 1.1] } });
      assert.ok(per.augmenting);
      per.dispose();
      assert.throws(() => files.flow({ ...opts, augment: { mixup: true } }), { message: /unknown option 'mixup'/ });
      assert.match(train.skippedWarning, /cats\/notes\.txt/);
      const { x, y } = train.next();
      assert.deepEqual(x.shape, [4, 8, 10, 3]);
      assert.deepEqual(y.shape, [4]);
      assert.ok(x.dataSync().every((v) => v >= 0 && v <= 1));
      [x, y, train, val, files].forEach((o) => o.dispose());
    });

    test('unreadable and missing data are reported, not swallowed', async () => {
      const files = await cnn.data.files([
        { path: 'a/1.png', bytes: image('rgb.png') },
        { path: 'a/2.jpg', bytes: image('truncated.jpg') },
        { path: 'b/1.png', bytes: image('not_an_image.png') },
      ]);
      const flow = files.flow({ targetSize: [4, 4] });
      assert.throws(() => flow.prepare(), { message: /class 'b' has no readable image.*b\/1\.png/ });
      await assert.rejects(cnn.data.fromFiles([{ path: 'x.png', bytes: image('rgb.png') }]), { message: /no class folders/ });
      assert.throws(() => files.flow({ targetSize: [0, 4] }), { message: /target_size/ });
      [flow, files].forEach((o) => o.dispose());
    });

    test('LeNet trains from a folder of PNGs to >= 90% validation accuracy', async () => {
      const task = cnn.data.syntheticTask({ samples: 2000, seed: 21 });
      const labels = task.y.dataSync();
      const pixels = task.x.dataSync();
      const records = [];
      for (let i = 0; i < 2000; i++) {
        const png = cnn.data.encodePng({ data: pixels.subarray(i * 784, (i + 1) * 784), shape: [28, 28, 1] });
        records.push({ path: `class_${labels[i]}/${String(i).padStart(5, '0')}.png`, bytes: png });
      }
      const files = await cnn.data.files(records);
      const opts = { targetSize: [28, 28], colorMode: 'grayscale', batchSize: 32, classMode: 'sparse',
                     validationSplit: 0.2, seed: 3, rescale: 1 / 255 };
      const train = files.flow({ ...opts, subset: 'training' });
      const val = files.flow({ ...opts, subset: 'validation', shuffle: false });
      const model = cnn.presets.lenet({ inputShape: [28, 28, 1], classes: 10, seed: 5 });
      model.compile({ optimizer: cnn.optimizers.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const h = await model.fit(train, { validationData: val, epochs: 5, seed: 3 });
      const acc = h.history.val_accuracy.at(-1);
      console.log(`${name}: folder LeNet val_accuracy ${acc}`);
      assert.ok(acc >= 0.9, `val_accuracy ${acc}`);
      [task.x, task.y, train, val, files, model].forEach((o) => o.dispose());
    });
  });
}
