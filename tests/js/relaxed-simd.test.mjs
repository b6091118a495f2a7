// The relaxed-SIMD builds (the kernels' multiply-adds fused) against the
// SIMD128 builds: the loader's choice, and the same models giving the same
// predictions and training within float rounding, single-thread and threaded.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import v8 from 'node:v8';

import { patchRelaxedSimd } from '../../bindings/patch_relaxed_simd.mjs';
import { loadCnn } from '../../bindings/js/index.mjs';
import { hasRelaxedSimd } from '../../bindings/js/wasm-features.mjs';
import { relError } from './helpers.mjs';

// Node 20 validates relaxed SIMD only behind this V8 flag (Chrome has it
// since 114); it takes effect for modules compiled after it is set.
const engineHadIt = hasRelaxedSimd();
if (!engineHadIt) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const pairs = [];
for (const threads of [false, true])
  pairs.push({
    name: threads ? 'threaded' : 'single-thread',
    plain: await loadCnn({ threads, simd: 'simd128' }),
    relaxed: await loadCnn({ threads, simd: 'relaxed' }),
  });
after(() => pairs.forEach((p) => { p.plain.dispose(); p.relaxed.dispose(); }));

// The same input for both engines: a smooth pattern with a little of every sign.
function input(cnn, shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37) + 0.3 * Math.cos(i * 1.91);
  return cnn.tensor(data, shape);
}

// Builds the model in both engines, with the SIMD128 one's weights in both,
// and predicts the same input.
function predictBoth(pair, build, shape) {
  const out = [];
  let weights;
  for (const cnn of [pair.plain, pair.relaxed]) {
    const model = build(cnn);
    if (weights) model.setWeights(weights);
    else weights = model.getWeights().map((w) => {
      const copy = { data: Float32Array.from(w.dataSync()), shape: w.shape };
      w.dispose();
      return copy;
    });
    const x = input(cnn, shape);
    const y = model.predict(x);
    out.push(Float32Array.from(y.dataSync()));
    y.dispose();
    x.dispose();
    model.dispose();
  }
  return out;
}

// () -> v128: three v128.const (the first holding the prototype opcode's
// bytes as data), then the prototype f32x4.fma.
function prototypeFmaModule() {
  const konst = (first) => [0xfd, 0x0c, ...first, ...new Array(16 - first.length).fill(0)];
  const body = [0x00, ...konst([0xfd, 0xaf, 0x01]), ...konst([]), ...konst([]), 0xfd, 0xaf, 0x01, 0x0b];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
                         0x03, 0x02, 0x01, 0x00, 0x0a, body.length + 2, 0x01, body.length, ...body]);
}

test('the post-link patch rewrites the prototype f32x4.fma, and nothing else', () => {
  const bytes = prototypeFmaModule();
  const before = Uint8Array.from(bytes);
  assert.deepEqual(patchRelaxedSimd(bytes), { patched: 1, standard: 0 });
  const at = bytes.length - 4;  // the instruction, before the body's end
  assert.deepEqual([...bytes.subarray(at, at + 3)], [0xfd, 0x85, 0x02]);
  assert.deepEqual([...bytes.subarray(0, at)], [...before.subarray(0, at)]);  // the constant's bytes too
  assert.equal(WebAssembly.validate(bytes), true);
  assert.deepEqual(patchRelaxedSimd(bytes), { patched: 0, standard: 1 });  // idempotent
  // A body that does not decode to its end is refused, not half patched.
  const cut = prototypeFmaModule();
  cut[cut.length - 1] = 0x01;  // the body's end becomes a nop: its block never closes
  assert.throws(() => patchRelaxedSimd(cut), /did not decode to its end/);
});

test('the loader picks relaxed SIMD where the engine validates it, and says so', async () => {
  assert.equal(hasRelaxedSimd(), true);
  for (const { plain, relaxed } of pairs) {
    assert.equal(plain.backend.simd, 'wasm-simd128');
    assert.equal(relaxed.backend.simd, 'wasm-relaxed-simd');
  }
  const auto = await loadCnn({ threads: false });
  assert.equal(auto.backend.simd, 'wasm-relaxed-simd');
  auto.dispose();
  await assert.rejects(loadCnn({ simd: 'fma' }), /simd must be 'auto', 'relaxed' or 'simd128', got "fma"/);
});

test('asking for relaxed SIMD where the engine lacks it says what is missing', () => {
  // A fresh node without V8's flag: Node 20 lacks relaxed SIMD there, later ones have it.
  const url = (rel) => new URL(rel, import.meta.url).href;
  const script = `const { hasRelaxedSimd } = await import('${url('../../bindings/js/wasm-features.mjs')}');
    const { loadCnn } = await import('${url('../../bindings/js/index.mjs')}');
    let result;
    try { const cnn = await loadCnn({ threads: false, simd: 'relaxed' }); result = cnn.backend.simd; cnn.dispose(); }
    catch (e) { result = e.message; }
    console.log(JSON.stringify({ has: hasRelaxedSimd(), result }));`;
  const { has, result } = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script],
                                                  { encoding: 'utf8' }));
  if (has) assert.equal(result, 'wasm-relaxed-simd');
  else assert.match(result, /^loadCnn: relaxed SIMD was requested, but this JavaScript engine does not validate it/);
});

for (const pair of pairs) {
  describe(`relaxed SIMD against SIMD128 (${pair.name})`, () => {
    // Convs of every path: the single-channel direct conv, im2col and in-place
    // GEMMs with odd sizes (tails), 3x3 by Winograd, 1x1 straight to GEMM,
    // batch norm folded into the epilogue.
    test('LeNet predicts the same', () => {
      const [a, b] = predictBoth(pair, (cnn) => cnn.presets.lenet({ seed: 3 }), [5, 28, 28, 1]);
      assert.ok(relError(b, a) < 1e-5, `relative error ${relError(b, a)}`);
    });

    test('odd conv shapes and widths predict the same', () => {
      const build = (cnn) => cnn.sequential([
        cnn.layers.conv2d({ filters: 7, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [19, 23, 5],
                            kernelInitializer: 'heNormal' }),
        cnn.layers.conv2d({ filters: 13, kernelSize: 5, strides: 2, activation: 'relu' }),
        cnn.layers.conv2d({ filters: 33, kernelSize: 1 }),
        cnn.layers.flatten(),
        cnn.layers.dense({ units: 17, activation: 'tanh' }),
      ]);
      const [a, b] = predictBoth(pair, build, [3, 19, 23, 5]);
      assert.ok(relError(b, a) < 1e-5, `relative error ${relError(b, a)}`);
    });

    // Its pooled features: a softmax over random logits saturates to one-hot.
    test('a small ResNet (7x7 stem, bottlenecks, batch norm) predicts the same', () => {
      const build = (cnn) => cnn.presets.resnet50({
        includeTop: false, pooling: 'avg', inputShape: [48, 48, 3], seed: 2,
        architecture: { stemFilters: 8, blocks: [1, 1, 1, 1], filters: [4, 8, 8, 16] },
      });
      const [a, b] = predictBoth(pair, build, [2, 48, 48, 3]);
      assert.ok(relError(b, a) < 1e-5, `relative error ${relError(b, a)}`);
    });

    test('LeNet trains the same for an epoch', async () => {
      const losses = [];
      const weights = [];
      for (const cnn of [pair.plain, pair.relaxed]) {
        const { x, y } = cnn.data.syntheticTask({ samples: 96, height: 28, width: 28, classes: 10, seed: 5 });
        const model = cnn.presets.lenet({ seed: 4 });
        model.compile({ optimizer: cnn.optimizers.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy' });
        const h = await model.fit(x, y, { batchSize: 32, epochs: 1, shuffle: false });
        losses.push(h.history.loss[0]);
        weights.push(model.getWeights().map((w) => {
          const values = Float32Array.from(w.dataSync());
          w.dispose();
          return values;
        }));
        model.dispose(); x.dispose(); y.dispose();
      }
      assert.ok(Math.abs(losses[1] - losses[0]) <= 1e-5 * Math.abs(losses[0]), `losses ${losses}`);
      for (let i = 0; i < weights[0].length; i++)
        assert.ok(relError(weights[1][i], weights[0][i]) < 1e-4, `weight ${i}: ${relError(weights[1][i], weights[0][i])}`);
    });
  });
}
