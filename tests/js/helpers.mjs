// Shared helpers of the node:test suites: both engine variants, fixtures,
// comparisons.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadCnn } from '../../bindings/js/index.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The single-thread and the threaded engine, each with a name for test titles. */
export async function loadVariants() {
  return [
    { name: 'single-thread', cnn: await loadCnn({ threads: false }) },
    { name: 'threaded', cnn: await loadCnn({ threads: true }) },
  ];
}

export function readText(rel) {
  return fs.readFileSync(path.join(root, rel), 'utf8');
}

/** A PyTorch-made fixture: {params, tensors: {name: {data: Float32Array, shape}}}. */
export function loadFixture(name) {
  const j = JSON.parse(readText(`tests/fixtures/torch/${name}.json`));
  const tensors = {};
  for (const [k, v] of Object.entries(j.tensors)) {
    const bytes = Buffer.from(v.b64, 'base64');
    const data = new Float32Array(new Uint8Array(bytes).buffer);  // copy: Buffer may be unaligned
    tensors[k] = { data, shape: v.shape };
  }
  return { params: j.params, tensors };
}

/** max |a - b| / max |b|, the figure the native suite uses too. */
export function relError(a, b) {
  if (a.length !== b.length) throw new Error(`relError: lengths ${a.length} and ${b.length}`);
  let scale = 1e-12;
  let worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    worst = Math.max(worst, d);
  }
  return worst / scale;
}

/** Rows [begin, end) of a tensor, as a new tensor. */
export function takeRows(cnn, t, begin, end) {
  const row = t.size / t.shape[0];
  return cnn.tensor(t.view().slice(begin * row, end * row), [end - begin, ...t.shape.slice(1)]);
}
