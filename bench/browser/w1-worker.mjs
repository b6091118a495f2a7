// Runs W1 through the npm package's JS API inside a browser worker.
import { loadCnn } from '../../bindings/js/index.mjs';
import { runW1 } from '../workloads/w1.mjs';

self.onmessage = async ({ data: { threads, seconds } }) => {
  try {
    const cnn = await loadCnn({ threads });
    const r = await runW1(cnn, { seconds });
    self.postMessage({ ...r, variant: cnn.backend.variant, simd: cnn.backend.simd });
  } catch (e) {
    self.postMessage({ error: e.message });
  }
};
