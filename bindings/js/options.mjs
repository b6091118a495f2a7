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
  adam({ learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = {}) {
    return { className: 'Adam', config: { learning_rate: learningRate, beta_1: beta1, beta_2: beta2, epsilon } };
  },
  /** SGD(learning_rate=0.01, momentum=0.0, nesterov=False) */
  sgd({ learningRate = 0.01, momentum = 0, nesterov = false } = {}) {
    return { className: 'SGD', config: { learning_rate: learningRate, momentum, nesterov } };
  },
};
