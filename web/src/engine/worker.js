// The engine's Web Worker: all computation runs here so the page stays
// responsive. It answers the requests of protocol.js.
import { loadCnn } from '../../../bindings/js/index.mjs';
import { Requests } from './protocol.js';

const ready = loadCnn({ threads: 'auto' });

const handlers = {
  async [Requests.INFO]() {
    return (await ready).backend;
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
