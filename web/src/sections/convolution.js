// Course sections 1-3: 1D and 2D convolution stepped cell by cell, the
// output-size formula, and Sobel (or your own) kernels on an image.
import { request } from '../engine/client.js';
import { Requests } from '../engine/protocol.js';
import { el } from '../dom.js';

// The course's example (COURSE.md section 2).
const S = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]];
const W = [[1, 0, 1], [0, 1, 0], [1, 0, 1]];
const SOBEL = { horizontal: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]], vertical: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] };

function grid(values, { highlight = null, testid } = {}) {
  return el('table', { class: 'grid', 'data-testid': testid },
    values.map((row, r) => el('tr', {}, row.map((v, c) => el('td', {
      class: highlight && r >= highlight.r && r < highlight.r + highlight.h && c >= highlight.c && c < highlight.c + highlight.w
        ? 'hot' : null,
    }, v === null ? '' : String(v))))));
}

function oneD() {
  const seq = [1, 3, 0, 2, 5, 1, 4];
  const weights = [1, 0, -1];
  const m = seq.length, n = weights.length;
  let k = 0;
  const out = Array(m - n + 1).fill(null);
  const view = el('div', { class: 'stepper' });
  const render = () => {
    const terms = weights.map((w, t) => `${seq[k + t]}·${w}`).join(' + ');
    view.replaceChildren(
      el('div', { class: 'row' }, seq.map((s, i) => el('span', { class: i >= k && i < k + n ? 'cell hot' : 'cell' }, s))),
      el('div', { class: 'row offset', style: `--shift:${k}` }, weights.map((w) => el('span', { class: 'cell weight' }, w))),
      el('p', {}, `c${k} = ${terms} = ${out[k]}`),
      el('div', { class: 'row' }, out.map((v) => el('span', { class: 'cell out' }, v ?? '·'))),
      el('p', { class: 'note' }, `output length m − n + 1 = ${m} − ${n} + 1 = ${m - n + 1}`));
  };
  const step = () => {
    out[k] = weights.reduce((s, w, t) => s + seq[k + t] * w, 0);
    render();
    k = (k + 1) % out.length;
  };
  step();
  return el('section', { class: 'card' }, el('h3', {}, '1D convolution'),
    el('p', {}, 'c_k = Σ s_{k+t} · w_t: the weights slide along the sequence.'), view,
    el('button', { onclick: step }, 'Step'));
}

function twoD() {
  const out = Array.from({ length: 3 }, () => Array(3).fill(null));
  let pos = 0;
  const view = el('div', {});
  const explain = el('p', { class: 'sum' });
  const render = (r, c) => {
    view.replaceChildren(el('div', { class: 'pair' },
      el('figure', {}, grid(S, { highlight: { r, c, h: 3, w: 3 } }), el('figcaption', {}, 'S (5×5)')),
      el('figure', {}, grid(W), el('figcaption', {}, 'W (3×3)')),
      el('figure', {}, grid(out, { testid: 'conv-result' }), el('figcaption', {}, 'result (3×3)'))));
  };
  const step = () => {
    const r = Math.floor(pos / 3), c = pos % 3;
    const products = [];
    let sum = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      products.push(`${S[r + i][c + j]}·${W[i][j]}`);
      sum += S[r + i][c + j] * W[i][j];
    }
    out[r][c] = sum;
    explain.textContent = `result[${r}][${c}] = ${products.join(' + ')} = ${sum}`;
    render(r, c);
    pos = (pos + 1) % 9;
  };
  const all = () => {
    for (let i = 0; i < 9; i++) step();
  };
  render(0, 0);
  return el('section', { class: 'card' }, el('h3', {}, '2D convolution'),
    el('p', {}, 'The 3×3 kernel W steps over the 5×5 matrix S; each result cell is the sum of the products.'),
    view, explain, el('button', { onclick: step, 'data-testid': 'conv-step' }, 'Step'),
    el('button', { onclick: all, 'data-testid': 'conv-run' }, 'Run all'));
}

function outputSize() {
  const inputs = { W: 32, K: 3, P: 0, S: 1 };
  const result = el('p', { class: 'formula', 'data-testid': 'output-size' });
  const update = () => {
    const { W: w, K, P, S: s } = inputs;
    const span = w - K + 2 * P;
    result.textContent = span < 0
      ? `The kernel (${K}) is larger than the padded input (${w + 2 * P}): no output.`
      : `W' = (W − K + 2P) / S + 1 = (${w} − ${K} + 2·${P}) / ${s} + 1 = ${Math.floor(span / s) + 1}` +
        (span % s ? ` (rounded down: the last ${span % s} column(s) are not reached)` : '');
  };
  const field = (name, label, min) => el('label', {}, `${label} `, el('input', {
    type: 'number', min, value: inputs[name], 'data-testid': `size-${name}`,
    oninput: (e) => { inputs[name] = Math.max(min, Number(e.target.value) || min); update(); },
  }));
  update();
  return el('section', { class: 'card' }, el('h3', {}, 'Output size'),
    el('div', { class: 'fields' }, field('W', 'input W', 1), field('K', 'kernel K', 1), field('P', 'padding P', 0),
      field('S', 'stride S', 1)), result);
}

function sobel() {
  const kernelInputs = Array.from({ length: 9 }, (_, i) => el('input', { type: 'number', step: 'any',
    value: SOBEL.vertical[Math.floor(i / 3)][i % 3], class: 'k',
    'aria-label': `kernel row ${Math.floor(i / 3) + 1}, column ${(i % 3) + 1}` }));
  const source = el('canvas', { width: 160, height: 120, 'aria-label': 'input image' });
  const result = el('canvas', { width: 160, height: 120, 'aria-label': 'filtered image' });
  const status = el('p', { class: 'note', role: 'status' });
  const setKernel = (k) => kernelInputs.forEach((inp, i) => { inp.value = k[Math.floor(i / 3)][i % 3]; });
  const drawSample = () => {  // a built-in picture with horizontal and vertical edges
    const g = source.getContext('2d');
    g.fillStyle = '#223';
    g.fillRect(0, 0, 160, 120);
    g.fillStyle = '#eee';
    g.fillRect(30, 20, 60, 50);
    g.beginPath();
    g.arc(115, 75, 28, 0, 2 * Math.PI);
    g.fill();
  };
  const apply = async () => {
    const g = source.getContext('2d');
    const { width: w, height: h } = source;
    const rgba = g.getImageData(0, 0, w, h).data;
    const grey = new Float32Array(w * h);
    for (let i = 0; i < w * h; i++) grey[i] = (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255;
    const kernel = new Float32Array(kernelInputs.map((inp) => Number(inp.value) || 0));
    try {
      const out = await request(Requests.CONVOLVE, { image: { data: grey, shape: [h, w, 1] },
                                                      kernel: { data: kernel, shape: [3, 3, 1, 1] }, padding: 'same' });
      const [oh, ow] = out.shape;
      let max = 1e-6;
      for (const v of out.data) max = Math.max(max, Math.abs(v));
      const img = new ImageData(ow, oh);
      for (let i = 0; i < ow * oh; i++) {
        const v = Math.round((Math.abs(out.data[i]) / max) * 255);
        img.data.set([v, v, v, 255], 4 * i);
      }
      result.width = ow;
      result.height = oh;
      result.getContext('2d').putImageData(img, 0, 0);
      status.textContent = `Convolved ${w}×${h} pixels with the kernel (|response|, scaled to the brightest).`;
    } catch (e) {
      status.textContent = `Could not apply the kernel: ${e.message}`;
    }
  };
  const upload = el('input', { type: 'file', accept: 'image/*', onchange: async (e) => {
    const file = e.target.files[0];
    e.target.value = '';  // the same file chosen again is a change too
    if (!file) return;
    try {
      const bitmap = await createImageBitmap(file);
      try {
        const scale = Math.min(1, 320 / Math.max(bitmap.width, bitmap.height));
        source.width = Math.max(1, Math.round(bitmap.width * scale));
        source.height = Math.max(1, Math.round(bitmap.height * scale));
        source.getContext('2d').drawImage(bitmap, 0, 0, source.width, source.height);
      } finally {
        bitmap.close();  // a phone photo's decoded pixels, freed now rather than at collection
      }
      await apply();
    } catch {
      status.textContent = `"${file.name}" is not an image this browser can open.`;
    }
  } });
  drawSample();
  queueMicrotask(apply);
  return el('section', { class: 'card' }, el('h3', {}, 'Edges with Sobel–Feldman kernels'),
    el('div', { class: 'fields' }, el('label', {}, 'Your image ', upload),
      el('button', { onclick: () => { setKernel(SOBEL.horizontal); apply(); } }, 'Sobel: horizontal edges'),
      el('button', { onclick: () => { setKernel(SOBEL.vertical); apply(); } }, 'Sobel: vertical edges'),
      el('button', { onclick: apply }, 'Apply my kernel')),
    el('div', { class: 'pair' }, el('div', { class: 'kernel' }, kernelInputs), source, result), status);
}

export function convolutionSection() {
  return el('div', { class: 'section-body' }, oneD(), twoD(), outputSize(), sobel());
}
