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
   *  -> {train: FlowInfo, validation: FlowInfo | null}; decodes every image once. */
  CONFIGURE_DATA: 'configureData',
  /** {json: Keras model JSON} -> {summary, layers: [{name, className, outputShape, params, trainable}], params,
   *  trainableParams} ; the engine checks every shape and explains what does not fit. */
  BUILD_MODEL: 'buildModel',
  /** {count, draw} -> {original: Image[], augmented: Image[]}, Image = {data: Float32Array, shape, label}:
   *  the first training images, as they are and as the augmentation changes them (`draw` picks the draws). */
  PREVIEW: 'preview',
});
