// The JavaScript API of cnn-playground: Keras's names in camelCase (as
// tfjs-layers spells them) over the WebAssembly engine.
//
//   import { loadCnn } from 'cnn-playground';
//   const cnn = await loadCnn({ threads: 'auto' });
//   const model = cnn.sequential([cnn.layers.conv2d({ filters: 6, kernelSize: 5, inputShape: [28, 28, 1] }), ...]);
//   model.compile({ optimizer: cnn.optimizers.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy',
//                   metrics: ['accuracy'] });
//   const history = await model.fit(x, y, { batchSize: 32, epochs: 5, onEpochEnd: (epoch, logs) => ... });
//
// Memory: tensors and models live in wasm memory; dispose() frees them at
// once (they also support `using` via Symbol.dispose where available).
import { makeData } from './data.mjs';
import { isHdf5, isZip, readKeras3Archive, readKerasFile, writeKerasFile } from './keras-h5.mjs';
import { layers } from './layers.mjs';
import { checkOptions, optimizers, toKerasName } from './options.mjs';
import { checkWasmFeatures, hasRelaxedSimd } from './wasm-features.mjs';

const isNode = typeof process === 'object' && typeof process.versions === 'object' && !!process.versions.node;
const disposeSymbol = Symbol.dispose ?? Symbol.for('Symbol.dispose');

/**
 * Loads the engine. `threads`: 'auto' (threaded where SharedArrayBuffer is
 * usable: Node, or a cross-origin-isolated page), true, or false.
 * `memoryBudget`: bytes the engine's tensors may hold at once (default 2 GiB
 * in a browser, 3 GiB in Node; 0: none). A model or batch that would need
 * more is refused with an Error that gives the figures; see cnn.memory().
 * `simd`: 'auto' (the relaxed-SIMD build, whose kernels fuse their
 * multiply-adds, where the engine validates relaxed SIMD; else SIMD128),
 * 'relaxed' or 'simd128'.
 * @param {{threads?: 'auto'|boolean, simd?: 'auto'|'relaxed'|'simd128',
 *          locateFile?: (file: string, prefix: string) => string}} [options]
 * @returns {Promise<Cnn>}
 */
export async function loadCnn(options = {}) {
  const { threads = 'auto', simd = 'auto', locateFile, memoryBudget } = options;
  let useThreads;
  let reason;
  const sabUsable = typeof SharedArrayBuffer !== 'undefined' && (isNode || globalThis.crossOriginIsolated === true);
  if (threads === true) {
    if (!sabUsable)
      throw new Error('loadCnn: threads were requested, but SharedArrayBuffer is not available ' +
                      '(the page must be served with COOP/COEP headers to be cross-origin isolated)');
    useThreads = true;
    reason = 'requested';
  } else if (threads === false) {
    useThreads = false;
    reason = 'requested';
  } else if (threads === 'auto') {
    useThreads = sabUsable;
    reason = isNode ? 'Node.js has SharedArrayBuffer'
                    : sabUsable ? 'the page is cross-origin isolated'
                                : 'the page is not cross-origin isolated (no COOP/COEP headers)';
  } else {
    throw new Error(`loadCnn: threads must be 'auto', true or false, got ${JSON.stringify(threads)}`);
  }
  checkWasmFeatures(useThreads ? 'threaded' : 'single-thread');
  let relaxed;
  if (simd === 'auto') {
    relaxed = hasRelaxedSimd();
  } else if (simd === 'relaxed') {
    if (!hasRelaxedSimd())
      throw new Error('loadCnn: relaxed SIMD was requested, but this JavaScript engine does not validate it ' +
                      '(Chrome 114 or Firefox 146 or later; Node 20 needs --experimental-wasm-relaxed-simd)');
    relaxed = true;
  } else if (simd === 'simd128') {
    relaxed = false;
  } else {
    throw new Error(`loadCnn: simd must be 'auto', 'relaxed' or 'simd128', got ${JSON.stringify(simd)}`);
  }
  // Four literal imports, so that bundlers see every module.
  let factory;
  if (useThreads)
    factory = relaxed ? (await import('../../dist/wasm/cnn-mt-relaxed.mjs')).default
                      : (await import('../../dist/wasm/cnn-mt.mjs')).default;
  else
    factory = relaxed ? (await import('../../dist/wasm/cnn-st-relaxed.mjs')).default
                      : (await import('../../dist/wasm/cnn-st.mjs')).default;
  const module = await factory(locateFile ? { locateFile } : {});
  if (useThreads && isNode && module.PThread) {
    // Idle pool workers must not keep a Node program alive after its work.
    for (const w of module.PThread.unusedWorkers ?? []) w.unref?.();
  }
  // The tensors' budget, within the heap's 4 GiB limit: a browser may refuse
  // to grow a heap long before that, so pages get less than Node by default.
  check(module, module.setMemoryBudget(memoryBudget ?? (isNode ? 3 : 2) * 2 ** 30));
  return new Cnn(module, useThreads ? 'threaded' : 'single-thread', reason);
}

/**
 * Lets the event loop run (UI, messages, an AbortSignal) without a timer's
 * clamp: nested setTimeout(0) waits at least 4 ms, a message-port round trip
 * (or Node's setImmediate) does not.
 */
const yieldToEventLoop = (() => {
  if (typeof setImmediate === 'function') return () => new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel !== 'function') return () => new Promise((resolve) => setTimeout(resolve, 0));
  const channel = new MessageChannel();
  const waiting = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return () => new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
})();

/** Throws the C++ error of the last call, if any, as a JS Error. */
function check(M, result) {
  const err = M.takeError();
  if (err) throw new Error(err);
  return result;
}

/** An object backed by wasm memory, freed by dispose(). */
class Disposable {
  /** @internal */
  constructor(cnn, handle, kind) {
    this._cnn = cnn;
    this._h = handle;
    this._kind = kind;
  }
  /** @internal */
  get handle() {
    if (!this._h) throw new Error(`${this._kind}: this ${this._kind.toLowerCase()} has been disposed`);
    return this._h;
  }
  get disposed() {
    return !this._h;
  }
  dispose() {
    if (this._h) {
      this._h.delete();
      this._h = null;
    }
  }
  [disposeSymbol]() {
    this.dispose();
  }
}

export class Tensor extends Disposable {
  /** @internal */
  constructor(cnn, handle) {
    super(cnn, handle, 'Tensor');
    this.shape = Array.from(handle.shape());
    this.size = this.shape.reduce((a, b) => a * b, 1);
  }
  /** A copy of the values (safe to keep). */
  dataSync() {
    return this.handle.view().slice();
  }
  /**
   * A Float32Array over wasm memory, without copying. It is invalidated by
   * any later engine call that grows memory, and by dispose(): read it at once.
   */
  view() {
    return this.handle.view();
  }
}

// fit's options: Keras's keywords (camelCase) and the JS API's own callbacks.
const FIT_OPTIONS = ['batchSize', 'epochs', 'validationSplit', 'validationData', 'shuffle', 'seed', 'stepsPerEpoch',
                     'validationSteps', 'onBatchEnd', 'onEpochEnd', 'signal', 'yieldEveryMs'];

export class Model extends Disposable {
  /** @internal */
  constructor(cnn, handle) {
    super(cnn, handle, 'Model');
  }
  get name() {
    return this.handle.name();
  }
  /** Keras's summary table, as text. */
  summary() {
    return check(this._cnn.module, this.handle.summary());
  }
  /** Keras model JSON (model.to_json()). */
  toJSON() {
    return check(this._cnn.module, this.handle.toJson());
  }
  countParams() {
    return this.handle.countParams();
  }
  trainableParams() {
    return this.handle.trainableParams();
  }
  /** Layers (name, className, outputShape, params, trainable) and weights. */
  get layers() {
    return JSON.parse(check(this._cnn.module, this.handle.info())).layers;
  }
  get weightsInfo() {
    return JSON.parse(check(this._cnn.module, this.handle.info())).weights;
  }
  /** Freezes or unfreezes one layer (Keras's layer.trainable). */
  setTrainable(layerName, trainable) {
    check(this._cnn.module, this.handle.setLayerTrainable(layerName, !!trainable));
  }
  /**
   * Keras's model.trainable: false freezes every layer (its weights stop
   * training, its BatchNormalization runs in inference mode, nothing is
   * recorded for backward through it); true unfreezes them all.
   */
  set trainable(on) {
    check(this._cnn.module, this.handle.setTrainable(!!on));
  }
  get trainable() {
    return this.layers.some((l) => l.trainable && l.params > 0);
  }
  /** The input preprocessing the model's weights expect: '' or 'caffe' (ResNet50's). */
  get preprocessing() {
    return this.handle.preprocessing();
  }
  set preprocessing(mode) {
    check(this._cnn.module, this.handle.setPreprocessing(mode ?? ''));
  }
  /**
   * Loads a Keras weights file (.h5 bytes: model.save_weights, a model.save
   * file, or keras.applications' files) into this model, by layer order as
   * Keras's load_weights does, or by layer name with {byName: true}
   * ({allowMissing: true} leaves layers the file lacks as they are).
   * `onProgress(done, total)` hears how many of the file's layers were read.
   * @returns {Promise<{layers: number, values: number, legacyNames: boolean, notes: string[]}>}
   */
  async loadWeights(bytes, options = {}) {
    const { byName = false, allowMissing = false, onProgress = null } = checkOptions('loadWeights', options, ['byName', 'allowMissing', 'onProgress']);
    const M = this._cnn.module;
    const file = await readKerasFile(M, bytes, check, onProgress);
    try {
      return JSON.parse(check(M, this.handle.loadKerasWeights(file, !!byName, !!allowMissing)));
    } finally {
      file.delete();
    }
  }
  /**
   * The model in Keras's HDF5 layout (model.save('m.h5')): keras.models.load_model
   * reads it, and so does cnn.loadModel. With {weightsOnly: true}, model.save_weights's
   * layout. `metadata`: a JSON-able object stored beside it (Keras ignores it).
   * @returns {Promise<Uint8Array>}
   */
  async saveKeras(options = {}) {
    const { metadata, weightsOnly = false } = checkOptions('saveKeras', options, ['metadata', 'weightsOnly']);
    const M = this._cnn.module;
    const file = check(M, this.handle.saveKeras(metadata == null ? '' : JSON.stringify(metadata), !!weightsOnly));
    try {
      return await writeKerasFile(file);
    } finally {
      file.delete();
    }
  }
  /** Copies of every weight, in Keras's get_weights() order. */
  getWeights() {
    const M = this._cnn.module;
    const n = this.handle.weightCount();
    const out = [];
    for (let i = 0; i < n; i++) out.push(new Tensor(this._cnn, check(M, this.handle.getWeight(i))));
    return out;
  }
  /** A copy of weight `index` (in get_weights() order; see weightsInfo for names). */
  getWeight(index) {
    return new Tensor(this._cnn, check(this._cnn.module, this.handle.getWeight(index)));
  }
  setWeights(weights) {
    const M = this._cnn.module;
    if (weights.length !== this.handle.weightCount())
      throw new Error(`setWeights: the model has ${this.handle.weightCount()} weights, got ${weights.length}`);
    weights.forEach((w, i) => this._cnn._with(w, (t) => check(M, this.handle.setWeight(i, t.handle))));
  }

  /**
   * @param {{optimizer: string|{className: string, config: object}, loss: string, metrics?: string[]}} args
   */
  compile(args = {}) {
    const { optimizer = 'adam', loss, metrics = [] } = checkOptions('compile', args, ['optimizer', 'loss', 'metrics']);
    if (!loss) throw new Error('compile: a loss is required, e.g. "sparseCategoricalCrossentropy"');
    const opt = typeof optimizer === 'string' ? toKerasName(optimizer)
                                              : { class_name: optimizer.className, config: optimizer.config };
    check(this._cnn.module,
          this.handle.compile(JSON.stringify(opt), toKerasName(loss), JSON.stringify(metrics.map(toKerasName))));
  }

  /**
   * Keras's fit. Runs one batch at a time and yields to the event loop
   * between batches (at least every `yieldEveryMs`), so callbacks, UI and an
   * AbortSignal are served while training.
   * @returns {Promise<{epoch: number[], history: Object<string, number[]>}>}
   */
  async fit(x, y, options = {}) {
    const M = this._cnn.module;
    const flowMode = x instanceof this._cnn.data.Flow;
    if (flowMode) options = y ?? {};  // fit(trainFlow, {validationData: valFlow, epochs, ...})
    options = checkOptions('fit', options, FIT_OPTIONS);
    const { validationData, onBatchEnd, onEpochEnd, signal, yieldEveryMs = 16 } = options;
    const opts = {
      batchSize: options.batchSize ?? 32,
      epochs: options.epochs ?? 1,
      validationSplit: options.validationSplit ?? 0,
      shuffle: options.shuffle ?? true,
      seed: options.seed ?? 0,
      stepsPerEpoch: options.stepsPerEpoch ?? -1,
      validationSteps: options.validationSteps ?? -1,
    };
    const h = this.handle;
    if (flowMode) {
      if (validationData && !(validationData instanceof this._cnn.data.Flow))
        throw new Error('fit: with a flow, validationData must be a flow too');
      check(M, h.fitBeginFlow(x.handle, validationData ? validationData.handle : null, JSON.stringify(opts)));
    } else {
      this._cnn._withAll([x, y, ...(validationData ?? [])], ([tx, ty, vx, vy]) => {
        if (validationData)
          check(M, h.fitBeginValidated(tx.handle, ty.handle, vx.handle, vy.handle, JSON.stringify(opts)));
        else check(M, h.fitBegin(tx.handle, ty.handle, JSON.stringify(opts)));
      });
    }
    const state = () => JSON.parse(check(M, h.fitState()));
    let reported = 0;  // epochs passed to onEpochEnd so far
    const reportEpoch = async () => {
      if (!onEpochEnd) return;
      const s = state();
      if (s.closedEpochs > reported) {
        reported = s.closedEpochs;
        await onEpochEnd(s.closedEpochs - 1, s.epochLogs);
      }
    };
    // Closes the epoch in progress when the signal has fired; the closed
    // epoch is reported like any other.
    const stopIfAborted = async () => {
      if (!signal?.aborted) return false;
      check(M, h.fitStop());
      await reportEpoch();
      return true;
    };
    let last = Date.now();
    let history;
    try {
      while (!(await stopIfAborted()) && check(M, h.fitStep())) {
        if (onBatchEnd) {
          const s = state();
          // The step that closes an epoch has already moved the loop on to the next.
          const epoch = s.epochEnded ? s.closedEpochs - 1 : s.epoch;
          await onBatchEnd(s.batch - 1, s.batchLogs, { epoch, steps: s.steps, samples: s.samples });
        }
        if (signal?.aborted) continue;  // stopIfAborted reports the epoch it closes
        await reportEpoch();
        if (Date.now() - last >= yieldEveryMs) {
          await yieldToEventLoop();
          last = Date.now();
        }
      }
    } finally {
      history = JSON.parse(check(M, h.fitEnd()));
    }
    return history;
  }

  /** Loss and metrics, in batches, in inference mode. */
  evaluate(x, y, options = {}) {
    const { batchSize = 32 } = checkOptions('evaluate', options, ['batchSize']);
    return this._cnn._withAll([x, y], ([tx, ty]) =>
      JSON.parse(check(this._cnn.module, this.handle.evaluate(tx.handle, ty.handle, batchSize))));
  }

  /** Outputs for x, in batches, in inference mode. */
  predict(x, options = {}) {
    const { batchSize = 32 } = checkOptions('predict', options, ['batchSize']);
    return this._cnn._with(x, (t) => new Tensor(this._cnn, check(this._cnn.module, this.handle.predict(t.handle, batchSize))));
  }

  /** Gradients of sum(output * outputGrad) w.r.t. the input and every weight. */
  vjp(x, outputGrad, options = {}) {
    const { training = false } = checkOptions('vjp', options, ['training']);
    return this._cnn._withAll([x, outputGrad], ([tx, tg]) =>
      this._cnn._gradients(check(this._cnn.module, this.handle.vjp(tx.handle, tg.handle, training))));
  }

  /** The compiled loss on (x, y) and its gradients, without an update. */
  lossGradients(x, y, options = {}) {
    const { training = true } = checkOptions('lossGradients', options, ['training']);
    return this._cnn._withAll([x, y], ([tx, ty]) =>
      this._cnn._gradients(check(this._cnn.module, this.handle.lossGradients(tx.handle, ty.handle, training))));
  }

  /**
   * The model (architecture and weights) as bytes; cnn.loadModel reads them.
   * `metadata`: a JSON-able object stored beside it (class names, data settings).
   */
  save(options = {}) {
    const { metadata } = checkOptions('save', options, ['metadata']);
    return check(this._cnn.module, this.handle.save(metadata == null ? '' : JSON.stringify(metadata)));
  }

  /** The metadata stored with a loaded model (see save), or null. */
  get metadata() {
    const text = this.handle.metadata();
    return text ? JSON.parse(text) : null;
  }

  /**
   * The outputs of the named layers for x, in one inference pass (Keras's
   * Model(model.input, [layer.output, ...]).predict(x)).
   * @returns {Tensor[]}
   */
  layerOutputs(x, layerNames) {
    if (!Array.isArray(layerNames)) throw new Error('layerOutputs: layerNames must be an array of layer names');
    const M = this._cnn.module;
    const list = this._cnn._with(x, (t) => check(M, this.handle.layerOutputs(t.handle, JSON.stringify(layerNames))));
    try {
      const out = [];
      for (let i = 0; i < list.count(); i++) out.push(new Tensor(this._cnn, list.at(i)));
      return out;
    } finally {
      list.delete();
    }
  }

}

export class Cnn {
  /** @internal */
  constructor(module, variant, reason) {
    this.module = module;
    const info = JSON.parse(module.buildInfo());
    /** Which build runs and why: {variant, reason, threads, hardwareConcurrency, simd}. */
    this.backend = { variant, reason, ...info };
    this.layers = layers;
    this.optimizers = optimizers;
    this.presets = {
      /**
       * The course's LeNet (the engine's own definition, as natively): Conv2D(6, 5, same, relu) ->
       * AveragePooling2D -> Conv2D(16, 5, relu) -> AveragePooling2D -> Flatten -> Dense(120) -> Dense(84)
       * -> Dense(classes, softmax).
       */
      lenet: (options = {}) => {
        const { inputShape = [28, 28, 1], classes = 10, seed = 0 } =
          checkOptions('presets.lenet', options, ['inputShape', 'classes', 'seed']);
        const [h, w, c] = inputShape;
        return new Model(this, check(module, module.Model.lenet(h, w, c, classes, seed)));
      },
      /** The course's small CNN for 150x150 photos: Conv2D(16/32/64, 3, relu) + MaxPooling2D stages -> Dense. */
      courseCnn: (options = {}) => {
        const { inputShape = [150, 150, 3], classes = 12, seed = 0 } =
          checkOptions('presets.courseCnn', options, ['inputShape', 'classes', 'seed']);
        const [h, w, c] = inputShape;
        return new Model(this, check(module, module.Model.courseCnn(h, w, c, classes, seed)));
      },
      /**
       * keras.applications.ResNet50's architecture (Keras's layer names and order), randomly
       * initialised as Keras does; `pooling` is '', 'avg' or 'max' without the top. Load Keras's
       * weights with `await model.loadWeights(bytes)`; the model asks for 'caffe' preprocessing.
       * `architecture` ({stemFilters, blocks: [4], filters: [4]}) makes a smaller ResNet of the
       * same structure and names.
       */
      resnet50: (options = {}) => {
        const { includeTop = true, inputShape = [224, 224, 3], classes = 1000, pooling = '',
                classifierActivation = 'softmax', seed = 0, architecture = null } = checkOptions('presets.resnet50',
          options, ['includeTop', 'inputShape', 'classes', 'pooling', 'classifierActivation', 'seed', 'architecture']);
        return new Model(this, check(module, module.Model.resnet50(
          JSON.stringify({ includeTop, inputShape, classes, pooling, classifierActivation, seed, architecture }))));
      },
    };
    this.data = {
      ...makeData(this, check, Tensor),
      /** A generated, learnable image task (the engine's own, identical to native). */
      syntheticTask: (options = {}) => {
        const opts = checkOptions('data.syntheticTask', options,
                                  ['samples', 'height', 'width', 'channels', 'classes', 'noise', 'seed']);
        const task = check(module, module.syntheticTask(JSON.stringify(opts)));
        try {
          return { x: new Tensor(this, task.x()), y: new Tensor(this, task.y()) };
        } finally {
          task.delete();
        }
      },
    };
  }

  /** A tensor from values (copied into wasm memory once) and a shape. */
  tensor(values, shape) {
    if (!Array.isArray(shape)) throw new Error('tensor: shape must be an array of dimensions');
    const handle = check(this.module, this.module.Tensor.create(shape));
    const t = new Tensor(this, handle);
    if (values != null) {
      if (values.length !== t.size) {
        t.dispose();
        throw new Error(`tensor: ${values.length} values given for shape [${shape.join(', ')}], expected ${t.size}`);
      }
      t.view().set(values);
    }
    return t;
  }

  /**
   * A Sequential model from layer specs (cnn.layers.*). As in Keras, the first
   * entry may be a model (e.g. a ResNet50 backbone): the layers are stacked on
   * its output, and the backbone's layers are shared, so `backbone.trainable =
   * false` keeps them frozen in the new model.
   */
  sequential(layerSpecs, options = {}) {
    let { name, seed = 0 } = checkOptions('sequential', options, ['name', 'seed']);
    if (!Array.isArray(layerSpecs) || layerSpecs.length === 0)
      throw new Error('sequential: expected a non-empty array of layers');
    if (layerSpecs[0] instanceof Model) {
      const [backbone, ...head] = layerSpecs;
      if (head.some((l) => l instanceof Model))
        throw new Error('sequential: only the first entry may be a model');
      return new Model(this, check(this.module, this.module.Model.stackOn(
        backbone.handle, JSON.stringify(head.map((l) => l.toKeras())), name ?? 'sequential', seed)));
    }
    name ??= 'sequential';
    const json = { class_name: 'Sequential', config: { name, layers: layerSpecs.map((l) => l.toKeras()) } };
    return this.modelFromJSON(json, { seed });
  }

  /** A model from Keras model JSON (text or object). Weights are drawn from `seed`. */
  modelFromJSON(json, options = {}) {
    const { seed = 0 } = checkOptions('modelFromJSON', options, ['seed']);
    const text = typeof json === 'string' ? json : JSON.stringify(json);
    return new Model(this, check(this.module, this.module.Model.fromJson(text, seed)));
  }

  /** A model saved with model.save() (the engine's own bytes). */
  loadModel(bytes) {
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    if (isHdf5(u8))
      throw new Error('loadModel: this is a Keras .h5 file; use await cnn.loadKerasModel(bytes)');
    if (isZip(u8))
      throw new Error('loadModel: this is a Keras 3 .keras archive; use await cnn.loadKerasModel(bytes)');
    return new Model(this, check(this.module, this.module.Model.load(u8)));
  }

  /**
   * keras.models.load_model of a Keras model file: a .h5 (model.save layout, as
   * model.saveKeras() and tf.keras write it) or Keras 3's .keras archive.
   * Architecture, weights, and the compile settings when the file has them.
   * @returns {Promise<Model>}
   */
  async loadKerasModel(bytes) {
    if (isZip(bytes)) {
      const { config, file } = await readKeras3Archive(this.module, bytes, check);
      try {
        return new Model(this, check(this.module, this.module.Model.loadKeras3(file, config)));
      } finally {
        file.delete();
      }
    }
    const file = await readKerasFile(this.module, bytes, check);
    try {
      if (!file.isModel())
        throw new Error('loadKerasModel: this file holds weights only (model.save_weights); build the model, ' +
                        'then await model.loadWeights(bytes)');
      return new Model(this, check(this.module, this.module.Model.loadKeras(file)));
    } finally {
      file.delete();
    }
  }

  /** Threads the engine computes on (1 in the single-thread build). */
  get threads() {
    return this.module.numThreads();
  }
  /** Sets the engine's thread count, 1 to maxThreads (between calls, not during a fit). */
  setThreads(n) {
    check(this.module, this.module.setNumThreads(n));
  }
  /** The most threads this build can use. */
  get maxThreads() {
    return this.module.maxThreads();
  }

  /** Bytes in use by the engine's allocator and the wasm heap's size. */
  heap() {
    return JSON.parse(this.module.heapInfo());
  }

  /** The engine's tensor memory: {budget, tensors (in use), peakTensors}, in bytes. */
  memory() {
    const { budget, tensors, peakTensors } = this.heap();
    return { budget, tensors, peakTensors };
  }
  /** Bytes the engine's tensors may hold at once (0: no budget). */
  setMemoryBudget(bytes) {
    check(this.module, this.module.setMemoryBudget(bytes));
  }

  /** Stops the engine's worker threads (threaded build); the object is unusable after. */
  dispose() {
    this.module.PThread?.terminateAllThreads?.();
  }

  /** @internal Runs f with x as a Tensor, converting a {data, shape} record for the call only. */
  _with(x, f) {
    return this._withAll([x], ([t]) => f(t));
  }
  /** @internal */
  _withAll(xs, f) {
    const owned = [];
    try {
      const ts = xs.map((x) => {
        if (x instanceof Tensor) return x;
        if (x && x.data && Array.isArray(x.shape)) {
          const t = this.tensor(x.data, x.shape);
          owned.push(t);
          return t;
        }
        throw new Error('expected a Tensor or a {data, shape} record');
      });
      return f(ts);
    } finally {
      owned.forEach((t) => t.dispose());
    }
  }
  /** @internal */
  _gradients(g) {
    try {
      const weightGrads = [];
      for (let i = 0; i < g.weightCount(); i++) weightGrads.push(new Tensor(this, g.weightGrad(i)));
      return { output: new Tensor(this, g.output()), inputGrad: new Tensor(this, g.inputGrad()), weightGrads,
               loss: g.loss() };
    } finally {
      g.delete();
    }
  }
}

export { layers, optimizers };
