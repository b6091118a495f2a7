// The PyTorch-made fixtures of the native suite, through the JS API of both
// wasm variants: forward values and gradients within 1e-4 relative.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { loadFixture, loadVariants, relError } from './helpers.mjs';

const TOL = 1e-4;
const variants = await loadVariants();
after(() => variants.forEach((v) => v.cnn.dispose()));

function close(actual, expected, what) {
  const data = actual.dataSync ? actual.dataSync() : actual;
  const err = relError(data, expected.data);
  assert.ok(err < TOL, `${what}: relative error ${err}`);
}

const input = (shape) => ({ class_name: 'InputLayer', config: { batch_input_shape: [null, ...shape], name: 'in' } });
const seq = (...layers) => ({ class_name: 'Sequential', config: { name: 's', layers } });

for (const { name, cnn } of variants) {
  describe(`fixtures (${name})`, () => {
    for (const c of ['conv2d_valid', 'conv2d_same_s2', 'conv2d_same_5x5', 'conv2d_dilated',
                     'conv2d_s2_valid_even_kernel', 'conv2d_same_s2_even', 'conv2d_same_s2_even_asym',
                     'conv2d_same_even_s1', 'conv2d_gray_same_5x5', 'conv2d_gray_valid_even']) {
      test(c, () => {
        const { params: p, tensors: t } = loadFixture(c);
        const model = cnn.modelFromJSON(seq(input(t.x.shape.slice(1)), {
          class_name: 'Conv2D',
          config: { name: 'conv', filters: t.w.shape[3], kernel_size: p.kernel_size, strides: p.strides,
                    padding: p.padding, dilation_rate: p.dilation },
        }));
        model.setWeights([t.w, t.b]);
        const g = model.vjp(t.x, t.gy);
        close(g.output, t.y, 'y');
        close(g.inputGrad, t.dx, 'dx');
        close(g.weightGrads[0], t.dw, 'dw');
        close(g.weightGrads[1], t.db, 'db');
        model.dispose();
      });
    }

    for (const c of ['maxpool_valid', 'maxpool_same_s2', 'avgpool_valid', 'avgpool_same_s2', 'global_avg_pool',
                     'global_max_pool']) {
      test(c, () => {
        const { params: p, tensors: t } = loadFixture(c);
        const cls = { max_pool2d: 'MaxPooling2D', avg_pool2d: 'AveragePooling2D',
                      global_avg_pool2d: 'GlobalAveragePooling2D', global_max_pool2d: 'GlobalMaxPooling2D' }[p.op];
        const config = { name: 'pool' };
        if (p.pool_size) Object.assign(config, { pool_size: p.pool_size, strides: p.strides, padding: p.padding });
        const model = cnn.modelFromJSON(seq(input(t.x.shape.slice(1)), { class_name: cls, config }));
        const g = model.vjp(t.x, t.gy);
        close(g.output, t.y, 'y');
        close(g.inputGrad, t.dx, 'dx');
        model.dispose();
      });
    }

    test('dense', () => {
      const { tensors: t } = loadFixture('dense');
      const model = cnn.modelFromJSON(seq(input([5]), { class_name: 'Dense', config: { name: 'd', units: 3 } }));
      model.setWeights([t.w, t.b]);
      const g = model.vjp(t.x, t.gy);
      close(g.output, t.y, 'y');
      close(g.inputGrad, t.dx, 'dx');
      close(g.weightGrads[0], t.dw, 'dw');
      close(g.weightGrads[1], t.db, 'db');
      model.dispose();
    });

    for (const training of [true, false]) {
      test(`batch normalization, ${training ? 'training' : 'inference'}`, () => {
        const { tensors: t } = loadFixture(training ? 'batchnorm_train' : 'batchnorm_infer');
        const model = cnn.modelFromJSON(seq(input([3, 3, 2]), {
          class_name: 'BatchNormalization', config: { name: 'bn', epsilon: 1e-3, momentum: 0.99 } }));
        model.setWeights([t.gamma, t.beta, t.moving_mean, t.moving_var]);
        const g = model.vjp(t.x, t.gy, { training });
        close(g.output, t.y, 'y');
        close(g.inputGrad, t.dx, 'dx');
        close(g.weightGrads[0], t.dgamma, 'dgamma');
        close(g.weightGrads[1], t.dbeta, 'dbeta');
        const w = model.getWeights();
        close(w[2], training ? t.moving_mean_new : t.moving_mean, 'moving_mean');
        close(w[3], training ? t.moving_var_new_unbiased : t.moving_var, 'moving_variance');
        w.forEach((x) => x.dispose());
        model.dispose();
      });
    }

    test('softmax', () => {
      const { tensors: t } = loadFixture('softmax');
      const model = cnn.modelFromJSON(seq(input([5]), { class_name: 'Activation',
                                                        config: { name: 'a', activation: 'softmax' } }));
      const g = model.vjp(t.x, t.gy);
      close(g.output, t.y, 'y');
      close(g.inputGrad, t.dx, 'dx');
      model.dispose();
    });

    for (const [c, act, loss, target] of [['sparse_cce_softmax', 'softmax', 'sparseCategoricalCrossentropy', 'labels'],
                                          ['cce_softmax', 'softmax', 'categoricalCrossentropy', 'targets'],
                                          ['bce_sigmoid', 'sigmoid', 'binaryCrossentropy', 'targets']]) {
      test(`${c} (fused softmax/sigmoid + cross-entropy)`, () => {
        const { tensors: t } = loadFixture(c);
        const k = t.logits.shape[1];
        const model = cnn.modelFromJSON(seq(input([k]), { class_name: 'Activation', config: { name: 'a', activation: act } }));
        model.compile({ optimizer: 'sgd', loss });
        const g = model.lossGradients(t.logits, t[target]);
        assert.ok(Math.abs(g.loss - t.loss.data[0]) < TOL * Math.abs(t.loss.data[0]), `loss ${g.loss}`);
        close(g.output, t.p, 'p');
        close(g.inputGrad, t.dlogits, 'dlogits');
        model.dispose();
      });
    }

    test('mean squared error', () => {
      const { tensors: t } = loadFixture('mse');
      const model = cnn.modelFromJSON(seq(input([3]), { class_name: 'Activation', config: { name: 'a', activation: 'linear' } }));
      model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const g = model.lossGradients(t.y_pred, t.y_true);
      assert.ok(Math.abs(g.loss - t.loss.data[0]) < TOL * t.loss.data[0]);
      close(g.inputGrad, t.dp, 'dp');
      model.dispose();
    });

    test('a whole LeNet step', () => {
      const { tensors: t } = loadFixture('lenet_step');
      const model = cnn.presets.lenet();
      const names = model.weightsInfo.map((w) => w.name);
      model.setWeights(names.map((n) => t[n]));
      model.compile({ optimizer: cnn.optimizers.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const g = model.lossGradients(t.x, t.labels);
      assert.ok(Math.abs(g.loss - t.loss.data[0]) < TOL * t.loss.data[0], `loss ${g.loss} vs ${t.loss.data[0]}`);
      close(g.output, t.probs, 'probs');
      names.forEach((n, i) => close(g.weightGrads[i], t[`grad/${n}`], `grad/${n}`));
      model.dispose();
    });
  });
}
