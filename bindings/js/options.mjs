// Option names between the JS API (tfjs-layers' camelCase) and Keras's
// snake_case, and the optimizer constructors.

/** 'sparseCategoricalCrossentropy' -> 'sparse_categorical_crossentropy'; snake_case passes through. */
export function toKerasName(name) {
  if (typeof name !== 'string') throw new Error(`expected a name, got ${JSON.stringify(name)}`);
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Keras optimizers with Keras's defaults. */
export const optimizers = {
  /** Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7) */
  adam(options = {}) {
    const { learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } =
      checkOptions('optimizers.adam', options, ['learningRate', 'beta1', 'beta2', 'epsilon']);
    return { className: 'Adam', config: { learning_rate: learningRate, beta_1: beta1, beta_2: beta2, epsilon } };
  },
  /** SGD(learning_rate=0.01, momentum=0.0, nesterov=False) */
  sgd(options = {}) {
    const { learningRate = 0.01, momentum = 0, nesterov = false } =
      checkOptions('optimizers.sgd', options, ['learningRate', 'momentum', 'nesterov']);
    return { className: 'SGD', config: { learning_rate: learningRate, momentum, nesterov } };
  },
};

const snakeToCamel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

/**
 * `options` with Keras's snake_case spellings taken as their camelCase names
 * (target_size -> targetSize); a key that `who` does not take is refused by
 * name, so that a mistyped option is never silently left at its default.
 */
export function checkOptions(who, options, known) {
  if (options == null) return {};
  if (typeof options !== 'object' || Array.isArray(options))
    throw new Error(`${who}: options must be an object, got ${JSON.stringify(options)}`);
  const out = {};
  for (const [key, value] of Object.entries(options)) {
    const name = known.includes(key) ? key : snakeToCamel(key);
    if (!known.includes(name))
      throw new Error(`${who}: unknown option '${key}', expected one of ${known.join(', ')}`);
    if (name !== key && name in options)
      throw new Error(`${who}: '${key}' and '${name}' are the same option, given twice`);
    out[name] = value;
  }
  return out;
}
