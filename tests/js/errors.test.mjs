// Bad input reaches JS as an Error carrying the engine's message; the engine
// keeps working after it.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { checkWasmFeatures, missingWasmFeatures } from '../../bindings/js/wasm-features.mjs';
import { loadVariants } from './helpers.mjs';

const variants = await loadVariants();
after(() => variants.forEach((v) => v.cnn.dispose()));

for (const { name, cnn } of variants) {
  describe(`errors (${name})`, () => {
    const small = () => cnn.sequential([
      cnn.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1] }),
      cnn.layers.flatten(),
      cnn.layers.dense({ units: 3, activation: 'softmax' }),
    ]);

    test('wrong input shapes name the shapes', async () => {
      const model = small();
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      assert.throws(() => model.predict({ data: new Float32Array(2 * 9 * 9), shape: [2, 9, 9, 1] }),
                    { message: /\(2, 9, 9, 1\).*expected \(None, 8, 8, 1\)/ });
      await assert.rejects(model.fit({ data: new Float32Array(2 * 64), shape: [2, 8, 8] }, { data: [0, 1], shape: [2] }),
                           { message: /\(2, 8, 8\)/ });
      await assert.rejects(model.fit({ data: new Float32Array(2 * 64), shape: [2, 8, 8, 1] }, { data: [0, 5], shape: [2] }),
                           { message: /label 5 at index 1/ });
      assert.throws(() => cnn.tensor([1, 2, 3], [2, 2]), { message: /3 values given for shape \[2, 2\]/ });
      // The engine still works after the errors.
      const p = model.predict({ data: new Float32Array(64), shape: [1, 8, 8, 1] });
      assert.deepEqual(p.shape, [1, 3]);
      p.dispose();
      model.dispose();
    });

    test('bad model JSON and impossible layers are explained', () => {
      assert.throws(() => cnn.modelFromJSON('{oops'), { message: /not valid JSON/ });
      assert.throws(() => cnn.modelFromJSON({ class_name: 'Sequential', config: { name: 's', layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 4], name: 'in' } },
        { class_name: 'LSTM', config: { name: 'lstm' } }] } }), { message: /'LSTM', which is not supported/ });
      assert.throws(() => cnn.sequential([cnn.layers.conv2d({ filters: 2, kernelSize: 5, inputShape: [3, 3, 1] })]),
                    { message: /larger than the input/ });
      assert.throws(() => cnn.loadModel(new Uint8Array([1, 2, 3])), { message: /not a CNN Playground model/ });
      assert.throws(() => small().compile({ optimizer: 'rmsprop', loss: 'mse' }), { message: /rmsprop/ });
    });

    test('the memory budget refuses in words, and the engine goes on', async () => {
      const { budget } = cnn.memory();
      try {
        cnn.setMemoryBudget(64 * 2 ** 20);
        assert.throws(() => cnn.tensor(null, [4096, 8192]), { message: /out of memory budget: .* needs 128\.0 MiB/ });
        const model = small();
        model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
        const x = cnn.tensor(null, [4, 8, 8, 1]), y = cnn.tensor([0, 1, 2, 0], [4]);
        cnn.setMemoryBudget(cnn.memory().tensors + 1024);  // not even the gradients fit now
        await assert.rejects(model.fit(x, y, { batchSize: 4 }), { message: /more than the memory budget/ });
        cnn.setMemoryBudget(budget);
        const h = await model.fit(x, y, { batchSize: 4, epochs: 1 });  // the same call works within the budget
        assert.ok(Number.isFinite(h.history.loss[0]));
        [x, y, model].forEach((o) => o.dispose());
      } finally {
        cnn.setMemoryBudget(budget);
      }
      assert.throws(() => cnn.setMemoryBudget(-1), { message: /0 \(no budget\) or more/ });
    });

    test('disposed objects refuse to be used', () => {
      const model = small();
      model.dispose();
      assert.throws(() => model.summary(), { message: /disposed/ });
      model.dispose();  // twice is harmless
      const t = cnn.tensor([1, 2], [2]);
      t.dispose();
      assert.throws(() => t.dataSync(), { message: /disposed/ });
    });
  });
}

// A browser without what the build needs gets told what is missing, instead
// of a CompileError about an opcode; each build asks only for what it uses.
describe('wasm features', () => {
  test('this runtime has what both builds need', () => {
    assert.deepEqual(missingWasmFeatures('single-thread'), []);
    assert.deepEqual(missingWasmFeatures('threaded'), []);
  });
  test('a missing feature is named with the browsers that have it', () => {
    const noSimd = (bytes) => !bytes.includes(0xfd);  // the v128.const prefix
    assert.deepEqual(missingWasmFeatures('threaded', noSimd), ['WebAssembly SIMD']);
    const noExceptions = (bytes) => !bytes.includes(0x0d);  // the tag section
    assert.deepEqual(missingWasmFeatures('single-thread', noExceptions), ['WebAssembly exception handling']);
    assert.deepEqual(missingWasmFeatures('threaded', noExceptions), []);  // -fexceptions: JS-based
    assert.throws(() => checkWasmFeatures('single-thread', noExceptions),
                  /lacks WebAssembly exception handling, which the engine's single-thread build needs \(Chrome 95/);
  });
});
