// Layer constructors, tfjs-layers style: cnn.layers.conv2d({filters, kernelSize, ...}).
// Each returns a spec that becomes one entry of Keras model JSON; the engine
// validates it (and explains what does not fit) when the model is built.
import { checkOptions, toKerasName } from './options.mjs';

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
const COMMON = ['name', 'trainable', 'inputShape'];
// The layer's own options and the common ones, Keras's snake_case spellings accepted.
const opts = (who, o, own) => checkOptions(who, o, [...own, ...COMMON]);
const init = (v) => toKerasName(v);
// The options of the random image layers that transform by a map.
const TRANSFORM = ['fillMode', 'interpolation', 'fillValue', 'seed'];
const transform = (o) => ({ fill_mode: o.fillMode ?? 'reflect', fill_value: o.fillValue ?? 0,
                            interpolation: o.interpolation ?? 'bilinear', seed: o.seed ?? null });

export const layers = {
  inputLayer({ shape, name } = {}) {
    if (!Array.isArray(shape)) throw new Error('inputLayer: shape (without the batch axis) is required');
    return new LayerSpec('InputLayer', { batch_input_shape: [null, ...shape] }, { name });
  },
  conv2d(o = {}) {
    o = opts('conv2d', o, ['filters', 'kernelSize', 'strides', 'padding', 'dilationRate', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer']);
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
    o = opts('dense', o, ['units', 'activation', 'useBias', 'kernelInitializer', 'biasInitializer']);
    return new LayerSpec('Dense', {
      units: o.units,
      activation: o.activation ?? 'linear',
      use_bias: o.useBias ?? true,
      kernel_initializer: init(o.kernelInitializer ?? 'glorotUniform'),
      bias_initializer: init(o.biasInitializer ?? 'zeros'),
    }, common(o));
  },
  maxPooling2d(o = {}) {
    o = opts('maxPooling2d', o, ['poolSize', 'strides', 'padding']);
    const poolSize = pair(o.poolSize ?? 2);
    return new LayerSpec('MaxPooling2D', { pool_size: poolSize, strides: pair(o.strides ?? poolSize),
                                           padding: o.padding ?? 'valid' }, common(o));
  },
  averagePooling2d(o = {}) {
    o = opts('averagePooling2d', o, ['poolSize', 'strides', 'padding']);
    const poolSize = pair(o.poolSize ?? 2);
    return new LayerSpec('AveragePooling2D', { pool_size: poolSize, strides: pair(o.strides ?? poolSize),
                                               padding: o.padding ?? 'valid' }, common(o));
  },
  globalAveragePooling2d(o = {}) {
    o = opts('globalAveragePooling2d', o, []);
    return new LayerSpec('GlobalAveragePooling2D', {}, common(o));
  },
  globalMaxPooling2d(o = {}) {
    o = opts('globalMaxPooling2d', o, []);
    return new LayerSpec('GlobalMaxPooling2D', {}, common(o));
  },
  flatten(o = {}) {
    o = opts('flatten', o, []);
    return new LayerSpec('Flatten', {}, common(o));
  },
  reshape(o = {}) {
    o = opts('reshape', o, ['targetShape']);
    return new LayerSpec('Reshape', { target_shape: o.targetShape }, common(o));
  },
  activation(o = {}) {
    o = opts('activation', o, ['activation']);
    return new LayerSpec('Activation', { activation: o.activation }, common(o));
  },
  zeroPadding2d(o = {}) {
    o = opts('zeroPadding2d', o, ['padding']);
    const p = o.padding ?? 1;
    const padding = Array.isArray(p) ? p.map((v) => pair(v)) : [[p, p], [p, p]];
    return new LayerSpec('ZeroPadding2D', { padding }, common(o));
  },
  batchNormalization(o = {}) {
    o = opts('batchNormalization', o, ['momentum', 'epsilon', 'center', 'scale']);
    return new LayerSpec('BatchNormalization', { momentum: o.momentum ?? 0.99, epsilon: o.epsilon ?? 1e-3,
                                                 center: o.center ?? true, scale: o.scale ?? true }, common(o));
  },
  dropout(o = {}) {
    o = opts('dropout', o, ['rate']);
    return new LayerSpec('Dropout', { rate: o.rate }, common(o));
  },
  rescaling(o = {}) {
    o = opts('rescaling', o, ['scale', 'offset']);
    return new LayerSpec('Rescaling', { scale: o.scale, offset: o.offset ?? 0 }, common(o));
  },
  // Keras's random image layers: a random transform of each image in
  // training, the input passed through in inference. A factor is one number
  // f (for [-f, f]) or [lower, upper].
  randomFlip(o = {}) {
    o = opts('randomFlip', o, ['mode', 'seed']);
    return new LayerSpec('RandomFlip', { mode: o.mode ?? 'horizontal_and_vertical', seed: o.seed ?? null },
                         common(o));
  },
  randomRotation(o = {}) {
    o = opts('randomRotation', o, ['factor', ...TRANSFORM]);
    return new LayerSpec('RandomRotation', { factor: o.factor, ...transform(o) }, common(o));
  },
  randomZoom(o = {}) {
    o = opts('randomZoom', o, ['heightFactor', 'widthFactor', ...TRANSFORM]);
    return new LayerSpec('RandomZoom', { height_factor: o.heightFactor, width_factor: o.widthFactor ?? null,
                                         ...transform(o) }, common(o));
  },
  // factor: the contrast drawn in [1 - lower, 1 + upper] (one number f: lower = upper = f).
  randomContrast(o = {}) {
    o = opts('randomContrast', o, ['factor', 'valueRange', 'seed']);
    return new LayerSpec('RandomContrast', { factor: o.factor, seed: o.seed ?? null,
                                             ...(o.valueRange ? { value_range: o.valueRange } : {}) }, common(o));
  },
  // factor: the delta drawn as a fraction of valueRange's span.
  randomBrightness(o = {}) {
    o = opts('randomBrightness', o, ['factor', 'valueRange', 'seed']);
    return new LayerSpec('RandomBrightness', { factor: o.factor, value_range: o.valueRange ?? [0, 255],
                                               seed: o.seed ?? null }, common(o));
  },
  randomTranslation(o = {}) {
    o = opts('randomTranslation', o, ['heightFactor', 'widthFactor', ...TRANSFORM]);
    return new LayerSpec('RandomTranslation', { height_factor: o.heightFactor, width_factor: o.widthFactor,
                                                ...transform(o) }, common(o));
  },
};
