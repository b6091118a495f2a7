// Layer constructors, tfjs-layers style: cnn.layers.conv2d({filters, kernelSize, ...}).
// Each returns a spec that becomes one entry of Keras model JSON; the engine
// validates it (and explains what does not fit) when the model is built.
import { toKerasName } from './options.mjs';

const pair = (v) => (Array.isArray(v) ? v : [v, v]);

class LayerSpec {
  constructor(className, config, common) {
    this.className = className;
    this.config = { ...config };
    if (common.name) this.config.name = common.name;
    if (common.trainable === false) this.config.trainable = false;
    if (common.inputShape) this.config.batch_input_shape = [null, ...common.inputShape];
  }
  /** The {class_name, config} entry of Keras model JSON. */
  toKeras() {
    return { class_name: this.className, config: this.config };
  }
}

const common = ({ name, trainable, inputShape }) => ({ name, trainable, inputShape });
const init = (v) => toKerasName(v);

export const layers = {
  inputLayer({ shape, name } = {}) {
    if (!Array.isArray(shape)) throw new Error('inputLayer: shape (without the batch axis) is required');
    return new LayerSpec('InputLayer', { batch_input_shape: [null, ...shape] }, { name });
  },
  conv2d(o = {}) {
    return new LayerSpec('Conv2D', {
      filters: o.filters,
      kernel_size: pair(o.kernelSize),
      strides: pair(o.strides ?? 1),
      padding: o.padding ?? 'valid',
      dilation_rate: pair(o.dilationRate ?? 1),
      activation: o.activation ?? 'linear',
      use_bias: o.useBias ?? true,
      kernel_initializer: init(o.kernelInitializer ?? 'glorotUniform'),
      bias_initializer: init(o.biasInitializer ?? 'zeros'),
    }, common(o));
  },
  dense(o = {}) {
    return new LayerSpec('Dense', {
      units: o.units,
      activation: o.activation ?? 'linear',
      use_bias: o.useBias ?? true,
      kernel_initializer: init(o.kernelInitializer ?? 'glorotUniform'),
      bias_initializer: init(o.biasInitializer ?? 'zeros'),
    }, common(o));
  },
  maxPooling2d(o = {}) {
    const poolSize = pair(o.poolSize ?? 2);
    return new LayerSpec('MaxPooling2D', { pool_size: poolSize, strides: pair(o.strides ?? poolSize),
                                           padding: o.padding ?? 'valid' }, common(o));
  },
  averagePooling2d(o = {}) {
    const poolSize = pair(o.poolSize ?? 2);
    return new LayerSpec('AveragePooling2D', { pool_size: poolSize, strides: pair(o.strides ?? poolSize),
                                               padding: o.padding ?? 'valid' }, common(o));
  },
  globalAveragePooling2d(o = {}) {
    return new LayerSpec('GlobalAveragePooling2D', {}, common(o));
  },
  globalMaxPooling2d(o = {}) {
    return new LayerSpec('GlobalMaxPooling2D', {}, common(o));
  },
  flatten(o = {}) {
    return new LayerSpec('Flatten', {}, common(o));
  },
  reshape(o = {}) {
    return new LayerSpec('Reshape', { target_shape: o.targetShape }, common(o));
  },
  activation(o = {}) {
    return new LayerSpec('Activation', { activation: o.activation }, common(o));
  },
  zeroPadding2d(o = {}) {
    const p = o.padding ?? 1;
    const padding = Array.isArray(p) ? p.map((v) => pair(v)) : [[p, p], [p, p]];
    return new LayerSpec('ZeroPadding2D', { padding }, common(o));
  },
  batchNormalization(o = {}) {
    return new LayerSpec('BatchNormalization', { momentum: o.momentum ?? 0.99, epsilon: o.epsilon ?? 1e-3,
                                                 center: o.center ?? true, scale: o.scale ?? true }, common(o));
  },
  dropout(o = {}) {
    return new LayerSpec('Dropout', { rate: o.rate }, common(o));
  },
  rescaling(o = {}) {
    return new LayerSpec('Rescaling', { scale: o.scale, offset: o.offset ?? 0 }, common(o));
  },
};
