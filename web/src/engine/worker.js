// The engine's Web Worker: all computation runs here so the page stays
// responsive. It answers the requests of protocol.js.
import { loadCnn } from '../../../bindings/js/index.mjs';
import { Requests } from './protocol.js';

const ready = loadCnn({ threads: 'auto' });
// The dataset and the flows made from it (one training session at a time).
const data = { files: null, train: null, validation: null, plain: null, augmented: null };
let model = null;  // the model being built and trained
const disposeFlows = () => {
  for (const k of ['train', 'validation', 'plain', 'augmented']) {
    data[k]?.dispose();
    data[k] = null;
  }
};
const flowInfo = (f) => f && { foundMessage: f.foundMessage, classIndices: f.classIndices, classes: f.classes,
                               countsPerClass: f.countsPerClass, samples: f.samples, length: f.length,
                               skippedWarning: f.skippedWarning, unreadable: f.unreadable, augmenting: f.augmenting };
const images = (batch, count) => {
  const { x, y } = batch;
  const [n, ...shape] = x.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const all = x.dataSync(), labels = y.dataSync();
  const out = [];
  for (let i = 0; i < Math.min(n, count); i++)
    out.push({ data: all.slice(i * size, (i + 1) * size), shape, label: labels[i] });
  x.dispose();
  y.dispose();
  return out;
};

const handlers = {
  async [Requests.INFO]() {
    return (await ready).backend;
  },
  async [Requests.LOAD_DATASET]({ files, sample }) {
    const cnn = await ready;
    disposeFlows();
    data.files?.dispose();
    data.files = null;
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
      records = await Promise.all(files.map(async ({ path, file }) => ({ path, bytes: new Uint8Array(await file.arrayBuffer()) })));
    }
    data.files = await cnn.data.files(records);
    return { files: records.length };
  },
  async [Requests.CONFIGURE_DATA](options) {
    if (!data.files) throw new Error('no dataset is loaded yet: choose a folder or the sample dataset');
    disposeFlows();
    const split = options.validationSplit ?? 0;
    const common = { ...options, classMode: 'sparse' };
    delete common.augment;
    data.train = data.files.flow({ ...common, subset: split > 0 ? 'training' : undefined, augment: options.augment });
    data.train.prepare();
    if (split > 0) data.validation = data.files.flow({ ...common, subset: 'validation', shuffle: false }).prepare();
    // Previews decode only the images they show.
    const preview = { ...common, subset: split > 0 ? 'training' : undefined, shuffle: false, batchSize: 12,
                      memoryBudget: 0, decodeUpfront: false };
    data.plain = data.files.flow(preview);
    data.augmented = data.files.flow({ ...preview, augment: options.augment });
    return { train: flowInfo(data.train), validation: flowInfo(data.validation) };
  },
  async [Requests.BUILD_MODEL]({ json, seed = 0 }) {
    const cnn = await ready;
    const next = cnn.modelFromJSON(json, { seed });  // throws with the engine's explanation
    model?.dispose();
    model = next;
    return { summary: model.summary(), layers: model.layers, params: model.countParams(),
             trainableParams: model.trainableParams(), json: model.toJSON() };
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
    const result = await handler(args ?? {});
    self.postMessage({ id, ok: true, result });
  } catch (e) {
    self.postMessage({ id, ok: false, error: e?.message ?? String(e) });
  }
};
