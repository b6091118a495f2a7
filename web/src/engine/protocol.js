// The page <-> engine-worker protocol, in one place. Every request is
// {id, type, args}; every reply is {id, ok: true, result} or {id, ok: false,
// error}. Progress events during a request are {id, event, data}.
export const Requests = Object.freeze({
  /** -> {variant, reason, threads, hardwareConcurrency, simd} */
  INFO: 'info',
  /** {image: {data: Float32Array, shape: [h, w, c]}, kernel: {data, shape: [kh, kw, 1, 1]}, padding, strides}
   *  -> {data: Float32Array, shape} : a 2-D convolution of every channel by one kernel, summed (course section 2). */
  CONVOLVE: 'convolve',
  /** {files: [{path, file: File}]} | {sample: {samples, size, classes}} -> {files: number}
   *  Copies a dataset folder (or the generated sample dataset) into the engine. */
  LOAD_DATASET: 'loadDataset',
  /** {targetSize, colorMode, batchSize, validationSplit, seed, rescale, augment}
   *  -> {train: FlowInfo, validation: FlowInfo | null}; decodes every image once.
   *  Events: 'progress' {stage: 'decoding images', done, total}. */
  CONFIGURE_DATA: 'configureData',
  /** {json: Keras model JSON} -> ModelInfo = {summary, layers: [{name, className, outputShape, params, trainable}],
   *  params, trainableParams, json}; the engine checks every shape and explains what does not fit. */
  BUILD_MODEL: 'buildModel',
  /** {count, draw} -> {original: Image[], augmented: Image[]}, Image = {data: Float32Array, shape, label}:
   *  the first training images, as they are and as the augmentation changes them (`draw` picks the draws). */
  PREVIEW: 'preview',
  /** {optimizer: {className, config}, epochs, autosave = true} -> {history}; trains the current model on the
   *  configured data, continuing from its weights. Events: 'batch' {epoch, batch, steps, logs, samples, seconds},
   *  'epoch' {epoch, logs, seconds, modelBytes (with autosave)}, 'paused', 'resumed'. */
  TRAIN: 'train',
  /** {runs: [{label, optimizer}], epochs} -> {histories}; trains fresh copies of the current architecture (the
   *  same initial weights) with each optimizer in turn. Events: 'batch' and 'epoch' as TRAIN, with `label`. */
  COMPARE: 'compare',
  /** Pause / resume / stop the running TRAIN or COMPARE between batches (a stop closes the epoch as Keras does). */
  PAUSE: 'pause',
  RESUME: 'resume',
  STOP: 'stop',
  /** -> {layer, data: Float32Array, shape: [kh, kw, cin, cout]} : the first Conv2D layer's kernel. */
  FILTERS: 'filters',
  /** {index} (a validation image) | {bytes, name} (an image file)
   *  -> {image: Image, maps: [{layer, shape: [h, w, c], channels: number, data: Float32Array (c planes of h*w)}]} */
  FEATURE_MAPS: 'featureMaps',
  /** {maxExamples} -> {classes, matrix: number[][] (true x predicted), accuracy,
   *  misclassified: [{image: Image, label, predicted, confidence}]} over the validation data. */
  CONFUSION: 'confusion',
  /** {bytes, name} -> {image: Image, top: [{index, className, probability}]} (the 5 most likely classes). */
  PREDICT_IMAGE: 'predictImage',
  /** {metadata} -> {bytes: Uint8Array} : the current model with its weights, in Keras's HDF5 layout (model.save). */
  SAVE_MODEL: 'saveModel',
  /** {bytes} (Keras .h5 or the engine's .cnnp) -> ModelInfo & {metadata}; the loaded model replaces the current one. */
  LOAD_MODEL: 'loadModel',
  /** {network: 'resnet50'|'mini', inputShape: [h, w, 3], classes, freeze} -> TransferInfo = ModelInfo & {network,
   *  frozen, weights: null | {file, layers, values, notes}}: a new ResNet backbone (include_top=False, random
   *  weights) + GlobalAveragePooling2D + Dense(classes, softmax) becomes the current model. */
  BUILD_TRANSFER: 'buildTransfer',
  /** {bytes, name} -> TransferInfo : Keras weights (e.g. ..._notop.h5) into the backbone, by layer name.
   *  Events: 'progress' {stage, fraction}. */
  LOAD_WEIGHTS: 'loadWeights',
  /** {freeze} -> TransferInfo : backbone.trainable = !freeze. */
  SET_FREEZE: 'setFreeze',
  /** -> {used, heapSize, budget, tensors, peakTensors} : the engine's memory (the soak test samples it). */
  HEAP: 'heap',
  /** {classes} -> TransferInfo : a new head for another class count, the backbone (and its weights) kept. */
  NEW_HEAD: 'newHead',
});
