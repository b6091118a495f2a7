// The engine's Web Worker: all computation runs here so the page stays
// responsive. It answers the requests of protocol.js.
import { loadCnn } from '../../../bindings/js/index.mjs';
import { Requests } from './protocol.js';

const ready = loadCnn({ threads: 'auto' });
// The dataset and the flows made from it (one training session at a time).
const data = { files: null, train: null, validation: null, plain: null, augmented: null };
let model = null;  // the model being built and trained
let settings = null;  // the data settings the flows were made with
// The TRAIN or COMPARE in progress: its AbortController and, while paused,
// the promise the batch loop waits on.
let running = null;
let compiledWith = '';  // the optimizer/loss the current model was compiled with (recompiling resets Adam)
// Image files a dataset may hold in all: they are copied into the engine's
// memory, whose 4 GiB also hold the decoded images and the model.
const MAX_DATASET_BYTES = 2 * 2 ** 30;
let loads = 0;  // LOAD_DATASET requests so far: a newer one supersedes one still reading its files
const PREVIEW_BATCH = 12;  // the preview flows' batch: the Data section shows that many images
let loadingWeights = false;  // LOAD_WEIGHTS is writing into the backbone: no training starts meanwhile
const disposeFlows = () => {
  for (const k of ['train', 'validation', 'plain', 'augmented']) {
    data[k]?.dispose();
    data[k] = null;
  }
};
const flowInfo = (f) => f && { foundMessage: f.foundMessage, classIndices: f.classIndices, classes: f.classes,
                               countsPerClass: f.countsPerClass, samples: f.samples, length: f.length,
                               skippedWarning: f.skippedWarning, emptyWarning: f.emptyWarning, unreadable: f.unreadable, augmenting: f.augmenting };
const modelInfo = (m) => ({ summary: m.summary(), layers: m.layers, params: m.countParams(),
                             trainableParams: m.trainableParams(), json: m.toJSON() });
const images = (batch, count) => {
  const { x, y } = batch;
  const [n, ...shape] = x.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const all = x.dataSync(), labels = y.dataSync();
  const out = [];
  for (let i = 0; i < Math.min(n, count); i++)
    out.push({ data: all.slice(i * size, (i + 1) * size), shape, label: labels[i], preprocessing: settings?.preprocessing ?? '' });
  x.dispose();
  y.dispose();
  return out;
};


/**
 * Image `index` of the validation images, else of the training ones, in
 * listing order (the training flow's own order is the current epoch's
 * shuffle), as {data, shape, label}.
 */
function flowImage(index) {
  if (!data.train) throw new Error('the data is not configured yet');
  const [flow, perBatch] = data.validation ? [data.validation, settings.batchSize] : [data.plain, PREVIEW_BATCH];
  const batch = flow.batch(Math.floor(index / perBatch));
  return images(batch, index % perBatch + 1).at(-1);
}

/** What the data gives and what the model takes must agree; says how they differ in words. */
function checkModelFitsData(m) {
  if (!m) throw new Error('there is no model yet: build one in the Model section');
  if (!data.train && data.loading) throw new Error('the data is still loading: try again in a moment');
  if (!data.train || !settings) throw new Error('there is no data yet: choose a folder (or the sample dataset) in the Data section');
  const ls = m.layers;
  const input = ls.find((l) => l.className === 'InputLayer')?.outputShape ?? [];
  const [h, w] = settings.targetSize;
  const c = { grayscale: 1, rgb: 3, rgba: 4 }[settings.colorMode];
  if (input.length !== 4 || input[1] !== h || input[2] !== w || input[3] !== c)
    throw new Error(`the model takes ${input.slice(1).join('×')} inputs, but the data gives ${h}×${w}×${c} images ` +
                    `(${settings.colorMode}): change the target size or colour mode in the Data section, or the model`);
  const units = ls.at(-1).outputShape.at(-1);
  const classes = data.train.classes.length;
  if (units === 1 ? classes !== 2 : units !== classes)
    throw new Error(`the model's last layer has ${units} output${units === 1 ? '' : 's'}, but the data has ${classes} ` +
                    `classes: set the last Dense layer's units to ${classes}`);
  return units === 1 ? 'binaryCrossentropy' : 'sparseCategoricalCrossentropy';
}

/** Runs model.fit on the configured flows, reporting every batch and epoch through `emit`. */
async function fitWithEvents(m, { optimizer, epochs, label, emit, onEpoch }) {
  const loss = checkModelFitsData(m);
  const compileKey = JSON.stringify({ optimizer, loss });
  if (m !== model || compileKey !== compiledWith) {
    m.compile({ optimizer, loss, metrics: ['accuracy'] });
    if (m === model) compiledWith = compileKey;
  }
  let seconds = 0;  // training time, pauses and validation excluded
  let t = performance.now();
  const tick = () => {
    const now = performance.now();
    seconds += (now - t) / 1000;
    t = now;
  };
  return m.fit(data.train, {
    validationData: data.validation ?? undefined, epochs, signal: running.controller.signal,
    onBatchEnd: async (batch, logs, { epoch, steps, samples }) => {
      tick();
      emit('batch', { label, epoch, batch, steps, samples, logs, seconds });
      if (running.pause) {
        emit('paused', { label });
        await running.pause.promise;
        t = performance.now();
        emit('resumed', { label });
      }
    },
    onEpochEnd: async (epoch, logs) => {
      emit('epoch', { label, epoch, logs, seconds, ...(onEpoch ? onEpoch() : {}) });
      t = performance.now();
    },
  });
}

/** Runs one training request at a time; pause/resume/stop act on it. */
async function exclusive(f) {
  if (running) throw new Error('training is already running: stop it first');
  if (loadingWeights) throw new Error('the backbone\'s weights are still loading: train once they are loaded');
  running = { controller: new AbortController(), pause: null };
  try {
    return await f();
  } finally {
    running = null;
  }
}

// The ResNet backbone under the current model when the ResNet50 section built
// it (its layers are shared with the model), with what was loaded into it.
let transfer = null;  // {backbone, network, inputShape, weights: null | {file, layers, values, notes}}
const replaceModel = (next) => {
  if (running) {
    next.dispose();
    throw new Error('the model cannot change while training runs: stop the training first');
  }
  model?.dispose();
  model = next;
  compiledWith = '';
  modelClassNames = null;
  modelRescale = null;
};
const dropTransfer = () => {
  transfer?.backbone.dispose();
  transfer = null;
};
const transferInfo = () => ({ ...modelInfo(model), network: transfer.network, frozen: !transfer.backbone.trainable,
                              weights: transfer.weights });
// The mini network: ResNet50's stem, blocks and layer names with 2-1-1-1
// blocks of 4-16 filters (about 30 thousand parameters): quick to try.
const MINI_RESNET = { stemFilters: 8, blocks: [2, 1, 1, 1], filters: [4, 8, 8, 16] };
const transferHead = (cnn, classes) => cnn.sequential([transfer.backbone, cnn.layers.globalAveragePooling2d(),
  cnn.layers.dense({ units: classes, activation: 'softmax' })]);

let modelClassNames = null;  // the classes the current model was trained on (data or its saved file)
let modelRescale = null;  // the rescale its saved file was trained with

/**
 * An uploaded image file as the model's input: load_img at the model's input
 * size and colour mode, scaled as the data is (or as the saved model's data was).
 */
function loadImage(cnn, bytes, name) {
  if (!model) throw new Error('there is no model yet');
  const input = model.layers.find((l) => l.className === 'InputLayer')?.outputShape ?? [];
  if (input.length !== 4) throw new Error('the model does not take images');
  const [, h, w, c] = input;
  const colorMode = { 1: 'grayscale', 3: 'rgb', 4: 'rgba' }[c];
  if (!colorMode) throw new Error(`the model takes images with ${c} channels; images have 1, 3 or 4`);
  // The data's scaling (0 is Keras's None), and the model's own preprocessing (ResNet50: 'caffe').
  const rescale = modelRescale ?? settings?.rescale ?? 1 / 255;
  const t = cnn.data.loadImage(bytes, { targetSize: [h, w], colorMode, rescale: rescale || 1, name,
                                        preprocessing: model.preprocessing });
  try {
    return { data: t.dataSync(), shape: t.shape.slice(1), label: -1, preprocessing: model.preprocessing };
  } finally {
    t.dispose();
  }
}

const metadata = () => ({
  classNames: modelClassNames ?? data.train?.classes,
  ...(settings && { targetSize: settings.targetSize, colorMode: settings.colorMode, rescale: settings.rescale,
                    preprocessing: settings.preprocessing ?? '' }),
});

const handlers = {
  async [Requests.INFO]() {
    return (await ready).backend;
  },
  async [Requests.HEAP]() {
    return (await ready).heap();
  },
  async [Requests.LOAD_DATASET]({ files, folders = [], sample }) {
    if (running) throw new Error('the dataset cannot change while training runs: stop the training first');
    const load = ++loads;
    data.loading = true;
    try {
      const cnn = await ready;
      let records;
      if (sample) {
        const { samples = 600, size = 28, classes = 10, seed = 1 } = sample;
        const task = cnn.data.syntheticTask({ samples, height: size, width: size, classes, seed });
        const px = task.x.dataSync(), labels = task.y.dataSync();
        const plane = size * size;
        records = [];
        for (let i = 0; i < samples; i++) {
          const bytes = cnn.data.encodePng({ data: px.subarray(i * plane, (i + 1) * plane), shape: [size, size, 1] });
          records.push({ path: `shape_${labels[i]}/${String(i).padStart(4, '0')}.png`, bytes });
        }
        task.x.dispose();
        task.y.dispose();
      } else {
        // Only the files Keras would read are read: a video or a phone's HEIC
        // beside the images is named as skipped from its path alone.
        const image = /\.(png|jpe?g|bmp|ppm|tiff?)$/i;
        const bytes = files.reduce((sum, { path, file }) => sum + (image.test(path) ? file.size : 0), 0);
        if (bytes > MAX_DATASET_BYTES)
          throw new Error(`the folder's images take ${(bytes / 2 ** 30).toFixed(1)} GiB; the page holds at most ` +
                          `${MAX_DATASET_BYTES / 2 ** 30} GiB of image files: choose fewer or smaller images`);
        records = await Promise.all(files.map(async ({ path, file }) =>
          ({ path, bytes: image.test(path) ? new Uint8Array(await file.arrayBuffer()) : new Uint8Array(0) })));
      }
      if (load !== loads) throw new Error('superseded: another dataset was chosen while this one was read');
      if (running) throw new Error('the dataset cannot change while training runs: stop the training first');
      const next = await cnn.data.files(records, { folders });
      if (load !== loads) {
        next.dispose();
        throw new Error('superseded: another dataset was chosen while this one was read');
      }
      disposeFlows();
      settings = null;
      data.files?.dispose();
      data.files = next;
      return { files: records.length };
    } finally {
      if (load === loads) data.loading = false;
    }
  },
  async [Requests.CONFIGURE_DATA](options, emit) {
    if (!data.files) throw new Error('no dataset is loaded yet: choose a folder or the sample dataset');
    if (running) throw new Error('the data cannot change while training runs: stop the training first');
    disposeFlows();
    settings = { ...options };
    const split = options.validationSplit ?? 0;
    const common = { ...options, classMode: 'sparse' };
    delete common.augment;
    try {
      data.train = data.files.flow({ ...common, subset: split > 0 ? 'training' : undefined, augment: options.augment });
      if (split > 0) data.validation = data.files.flow({ ...common, subset: 'validation', shuffle: false });
      // Decoding a big folder takes a while: the page shows how far it is.
      const trainFiles = data.train.samples;
      const total = trainFiles + (data.validation?.samples ?? 0);
      data.train.prepare({ onProgress: (n) => emit('progress', { stage: 'decoding images', done: n, total }) });
      data.validation?.prepare({
        onProgress: (n) => emit('progress', { stage: 'decoding images', done: trainFiles + n, total }) });
      // Previews decode only the images they show.
      const preview = { ...common, subset: split > 0 ? 'training' : undefined, shuffle: false,
                        batchSize: PREVIEW_BATCH, memoryBudget: 0, decodeUpfront: false };
      data.plain = data.files.flow(preview);
      data.augmented = data.files.flow({ ...preview, augment: options.augment });
      return { train: flowInfo(data.train), validation: flowInfo(data.validation) };
    } catch (e) {
      disposeFlows();  // no half-made data for a later Train or preview
      settings = null;
      throw e;
    }
  },
  async [Requests.BUILD_MODEL]({ json, seed = 0 }) {
    const cnn = await ready;
    const next = cnn.modelFromJSON(json, { seed });  // throws with the engine's explanation
    replaceModel(next);
    dropTransfer();
    return modelInfo(model);
  },
  async [Requests.BUILD_TRANSFER]({ network = 'resnet50', inputShape = [150, 150, 3], classes, freeze = true }) {
    const cnn = await ready;
    if (running) throw new Error('the model cannot change while training runs: stop the training first');
    if (!(classes >= 1)) throw new Error('load a dataset first: the head needs its number of classes');
    const backbone = cnn.presets.resnet50({ includeTop: false, inputShape,
                                            architecture: network === 'mini' ? MINI_RESNET : null });
    backbone.trainable = !freeze;
    dropTransfer();
    transfer = { backbone, network, inputShape, weights: null };
    replaceModel(transferHead(cnn, classes));
    return transferInfo();
  },
  async [Requests.LOAD_WEIGHTS]({ bytes, name }, emit) {
    if (!transfer) throw new Error('build the ResNet backbone first');
    if (running) throw new Error('weights cannot change while training runs: stop the training first');
    if (loadingWeights) throw new Error('weights are already loading: wait for them');
    emit('progress', { stage: `reading ${name} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MB of HDF5)`, fraction: 0.2 });
    // By name: a file with or without the top fits the backbone, and the legacy names map onto it.
    let last = 0;
    loadingWeights = true;  // until they are in: a Train sent meanwhile (across this await) is refused
    let report;
    try {
      report = await transfer.backbone.loadWeights(bytes, { byName: true, onProgress: (done, total) => {
        const now = performance.now();
        if (now - last < 100 && done < total) return;  // a few updates a second are enough
        last = now;
        emit('progress', { stage: `reading layer ${done} of ${total}`, fraction: 0.2 + 0.7 * (done / Math.max(total, 1)) });
      } });
    } finally {
      loadingWeights = false;
    }
    emit('progress', { stage: 'loaded', fraction: 1 });
    transfer.weights = { file: name, layers: report.layers, values: report.values, notes: report.notes };
    compiledWith = '';  // a fresh optimizer for the new starting point
    return transferInfo();
  },
  async [Requests.SET_FREEZE]({ freeze }) {
    if (!transfer) throw new Error('build the ResNet backbone first');
    if (running) throw new Error('the backbone cannot be frozen or unfrozen while training runs: stop the training first');
    transfer.backbone.trainable = !freeze;
    compiledWith = '';  // the optimizer's set of trained weights changed
    return transferInfo();
  },
  async [Requests.NEW_HEAD]({ classes }) {
    const cnn = await ready;
    if (!transfer) throw new Error('build the ResNet backbone first');
    replaceModel(transferHead(cnn, classes));
    return transferInfo();
  },
  async [Requests.TRAIN]({ optimizer, epochs, autosave = true }, emit) {
    return exclusive(async () => {
      checkModelFitsData(model);  // before the model takes the data's class names and scaling as its own
      modelClassNames = data.train?.classes ?? null;
      modelRescale = settings.rescale;
      const history = await fitWithEvents(model, { optimizer, epochs, emit,
        // Each closed epoch's weights, for the page's autosave.
        onEpoch: autosave ? () => ({ modelBytes: model.save({ metadata: metadata() }) }) : null });
      return { history };
    });
  },
  async [Requests.COMPARE]({ runs, epochs }, emit) {
    const cnn = await ready;
    checkModelFitsData(model);
    const json = model.toJSON();
    return exclusive(async () => {
      const histories = {};
      for (const { label, optimizer } of runs) {
        if (running.controller.signal.aborted) break;
        const m = cnn.modelFromJSON(json, { seed: 7 });  // the same initial weights for every run
        try {
          histories[label] = await fitWithEvents(m, { optimizer, epochs, label, emit });
        } finally {
          m.dispose();
        }
      }
      return { histories };
    });
  },
  async [Requests.PAUSE]() {
    if (running && !running.pause) {
      let resolve;
      const promise = new Promise((r) => { resolve = r; });
      running.pause = { promise, resolve };
    }
    return { paused: !!running };
  },
  async [Requests.RESUME]() {
    running?.pause?.resolve();
    if (running) running.pause = null;
    return { resumed: !!running };
  },
  async [Requests.STOP]() {
    if (!running) return { stopped: false };
    running.controller.abort();
    running.pause?.resolve();
    running.pause = null;
    return { stopped: true };
  },
  async [Requests.FILTERS]() {
    if (!model) throw new Error('there is no model yet');
    const conv = model.layers.find((l) => l.className === 'Conv2D');
    if (!conv) throw new Error('the model has no Conv2D layer');
    const index = model.weightsInfo.findIndex((w) => w.name === `${conv.name}/kernel`);
    const k = model.getWeight(index);
    try {
      return { layer: conv.name, data: k.dataSync(), shape: k.shape };
    } finally {
      k.dispose();
    }
  },
  async [Requests.FEATURE_MAPS]({ index, bytes, name }) {
    const cnn = await ready;
    if (!model) throw new Error('there is no model yet');
    // Every conv layer of a course CNN; a ResNet's first 16 (of 53), enough to see the features grow.
    const convs = model.layers.filter((l) => l.className === 'Conv2D').map((l) => l.name).slice(0, 16);
    if (!convs.length) throw new Error('the model has no Conv2D layer');
    const image = bytes ? loadImage(cnn, bytes, name) : flowImage(index ?? 0);
    const outs = model.layerOutputs({ data: image.data, shape: [1, ...image.shape] }, convs);
    const maxChannels = 32;  // enough to see what a layer reacts to; bounded for big layers
    try {
      const maps = outs.map((t, i) => {
        const [, h, w, c] = t.shape;
        const shown = Math.min(c, maxChannels);
        const v = t.view();
        const planes = new Float32Array(shown * h * w);
        for (let p = 0; p < h * w; p++) for (let ch = 0; ch < shown; ch++) planes[ch * h * w + p] = v[p * c + ch];
        return { layer: convs[i], shape: [h, w, c], channels: shown, data: planes };
      });
      return { image, maps };
    } finally {
      outs.forEach((t) => t.dispose());
    }
  },
  async [Requests.CONFUSION]({ maxExamples = 24 }) {
    if (!model) throw new Error('there is no model yet');
    if (!data.validation) throw new Error('there is no validation data: set a validation split in the Data section');
    checkModelFitsData(model);
    const classes = data.validation.classes;
    const k = classes.length;
    const matrix = Array.from({ length: k }, () => new Array(k).fill(0));
    const misclassified = [];
    let right = 0;
    let total = 0;
    for (let b = 0; b < data.validation.length; b++) {
      const { x, y } = data.validation.batch(b);
      let p = null;
      try {
        p = model.predict(x);
        const probs = p.dataSync(), labels = y.dataSync();
        // Pixels are copied out of wasm memory only for the misclassified images (no engine call runs meanwhile).
        const pixels = x.view();
        const [n, ...shape] = x.shape;
        const size = shape.reduce((a, c) => a * c, 1);
        const units = p.shape.at(-1);
        for (let i = 0; i < n; i++) {
          const row = probs.subarray(i * units, (i + 1) * units);
          let predicted = 0;
          let confidence = row[0];
          if (units === 1) {
            predicted = row[0] > 0.5 ? 1 : 0;
            confidence = predicted ? row[0] : 1 - row[0];
          } else {
            for (let j = 1; j < units; j++) if (row[j] > confidence) { predicted = j; confidence = row[j]; }
          }
          const label = labels[i];
          matrix[label][predicted]++;
          total++;
          if (predicted === label) right++;
          else if (misclassified.length < maxExamples)
            misclassified.push({ image: { data: pixels.slice(i * size, (i + 1) * size), shape, label,
                                          preprocessing: settings.preprocessing ?? '' }, label, predicted,
                                 confidence });
        }
      } finally {
        [x, y, p].forEach((t) => t?.dispose());
      }
    }
    return { classes, matrix, accuracy: total ? right / total : 0, misclassified };
  },
  async [Requests.PREDICT_IMAGE]({ bytes, name }) {
    const cnn = await ready;
    if (!model) throw new Error('there is no model yet');
    const image = loadImage(cnn, bytes, name);
    const p = model.predict({ data: image.data, shape: [1, ...image.shape] });
    const probs = p.dataSync();
    p.dispose();
    const names = modelClassNames ?? data.train?.classes ?? [];
    const scores = probs.length === 1 ? [1 - probs[0], probs[0]] : Array.from(probs);
    const top = scores.map((probability, index) => ({ index, probability, className: names[index] ?? `class ${index}` }))
      .sort((a, b) => b.probability - a.probability).slice(0, 5);
    return { image, top };
  },
  async [Requests.SAVE_MODEL]({ metadata: extra = {} }) {
    if (!model) throw new Error('there is no model to save yet');
    return { bytes: await model.saveKeras({ metadata: { ...metadata(), ...extra } }) };
  },
  async [Requests.LOAD_MODEL]({ bytes }) {
    const cnn = await ready;
    if (running) throw new Error('a model cannot be loaded while training runs: stop the training first');
    const isHdf5 = bytes[0] === 0x89 && bytes[1] === 0x48 && bytes[2] === 0x44 && bytes[3] === 0x46;
    const isZip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4;
    // Keras .h5 (what the page downloads, or tf.keras's model.save), Keras 3's .keras archive, or the
    // engine's own bytes (the autosave).
    const next = isHdf5 || isZip ? await cnn.loadKerasModel(bytes) : cnn.loadModel(bytes);  // errors name what is wrong
    replaceModel(next);
    dropTransfer();
    const meta = model.metadata;
    modelClassNames = meta?.classNames ?? null;
    modelRescale = meta?.rescale ?? null;
    return { ...modelInfo(model), metadata: meta };
  },
  async [Requests.PREVIEW]({ count = 12, draw = 0 }) {
    if (!data.plain) throw new Error('the data is not configured yet');
    return { original: images(data.plain.batch(0), count), augmented: images(data.augmented.batch(0, { epoch: draw }), count) };
  },
  async [Requests.CONVOLVE]({ image, kernel, padding = 'valid', strides = 1 }) {
    const cnn = await ready;
    const [h, w, c] = image.shape;
    const [kh, kw] = kernel.shape;
    // One Conv2D filter whose kernel repeats over the input channels.
    const model = cnn.sequential([cnn.layers.conv2d({ filters: 1, kernelSize: [kh, kw], strides, padding, useBias: false,
                                                      inputShape: [h, w, c] })]);
    try {
      const k = new Float32Array(kh * kw * c);
      for (let i = 0; i < kh * kw; i++) for (let ch = 0; ch < c; ch++) k[i * c + ch] = kernel.data[i];
      model.setWeights([{ data: k, shape: [kh, kw, c, 1] }]);
      const out = model.predict({ data: image.data, shape: [1, h, w, c] });
      const result = { data: out.dataSync(), shape: out.shape.slice(1) };
      out.dispose();
      return result;
    } finally {
      model.dispose();
    }
  },
};

self.onmessage = async ({ data: { id, type, args } }) => {
  try {
    const handler = handlers[type];
    if (!handler) throw new Error(`engine worker: unknown request '${type}'`);
    const emit = (event, data) => self.postMessage({ id, event, data });
    const result = await handler(args ?? {}, emit);
    self.postMessage({ id, ok: true, result });
  } catch (e) {
    self.postMessage({ id, ok: false, error: e?.message ?? String(e) });
  }
};
