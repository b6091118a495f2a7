// Course section 12: look inside the trained network. The first layer's
// filters as images, the feature maps of every Conv2D layer for one image,
// the validation confusion matrix with the misclassified images, and the
// top-5 predictions for any image the learner drops.
import { request } from '../engine/client.js';
import { Requests } from '../engine/protocol.js';
import { el } from '../dom.js';
import { drawImage, drawPlane } from '../components/image-canvas.js';

/** Reads a dropped or chosen file as {bytes, name}. */
const fileBytes = async (file) => ({ bytes: new Uint8Array(await file.arrayBuffer()), name: file.name });

function filtersView({ layer, data, shape }) {
  const [kh, kw, cin, cout] = shape;
  // Averaged over input channels, except RGB inputs, which show in colour.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const span = hi - lo || 1;
  const tiles = [];
  for (let o = 0; o < cout; o++) {
    const canvas = el('canvas', { width: kw, height: kh, style: `width:${Math.max(40, kw * 8)}px;height:${Math.max(40, kh * 8)}px`,
                                  title: `filter ${o}` });
    const img = new ImageData(kw, kh);
    for (let p = 0; p < kh * kw; p++) {
      const at = (ci) => (data[(p * cin + ci) * cout + o] - lo) / span * 255;
      let rgb;
      if (cin === 3) rgb = [at(0), at(1), at(2)];
      else {
        let sum = 0;
        for (let ci = 0; ci < cin; ci++) sum += data[(p * cin + ci) * cout + o];
        const g = ((sum / cin - lo) / span) * 255;
        rgb = [g, g, g];
      }
      img.data.set([...rgb.map(Math.round), 255], 4 * p);
    }
    canvas.getContext('2d').putImageData(img, 0, 0);
    tiles.push(el('figure', {}, canvas, el('figcaption', {}, String(o))));
  }
  return el('div', {}, el('p', { class: 'note' }, `${layer}: ${cout} filters of ${kh}×${kw}×${cin}; dark = negative, light = positive weights.`),
    el('div', { class: 'thumbs wide' }, tiles));
}

function featureMapsView({ image, maps }) {
  return el('div', {},
    el('figure', { class: 'inline' }, drawImage(image, Math.max(1, Math.round(96 / image.shape[0]))), el('figcaption', {}, 'input')),
    maps.map(({ layer, shape: [h, w, c], channels, data }) => el('div', { class: 'maps' },
      el('h4', {}, `${layer}: ${h}×${w}×${c}${channels < c ? ` (the first ${channels} channels)` : ''}`),
      el('div', { class: 'thumbs wide' }, Array.from({ length: channels }, (_, ch) =>
        drawPlane(data, h, w, { offset: ch * h * w, size: 64, title: `channel ${ch}` }))))));
}

function confusionView({ classes, matrix, accuracy, misclassified }) {
  const max = Math.max(1, ...matrix.flat());
  return el('div', {},
    el('p', {}, `Validation accuracy ${(accuracy * 100).toFixed(1)}% · rows: true class, columns: predicted class.`),
    el('table', { class: 'confusion', 'data-testid': 'confusion-matrix' },
      el('tr', {}, el('th', {}, ''), classes.map((c) => el('th', {}, c))),
      matrix.map((row, i) => el('tr', {}, el('th', {}, classes[i]), row.map((n, j) => el('td', {
        class: i === j ? 'diag' : '', style: `--heat:${(n / max).toFixed(3)}` }, String(n)))))),
    el('h4', {}, misclassified.length ? 'Misclassified' : 'No validation image was misclassified.'),
    el('div', { class: 'thumbs wide' }, misclassified.map((m) => el('figure', {},
      drawImage(m.image, Math.max(1, Math.round(64 / m.image.shape[0]))),
      el('figcaption', {}, `${classes[m.label]} → ${classes[m.predicted]} (${(m.confidence * 100).toFixed(0)}%)`)))));
}

export function inspectSection() {
  const filters = el('div', { 'data-testid': 'filters' });
  const maps = el('div', { 'data-testid': 'feature-maps' });
  const confusion = el('div', {});
  const top5 = el('div', { 'data-testid': 'predict-top5' });
  const problem = el('p', { class: 'error', role: 'alert', 'data-testid': 'inspect-problem' });
  const attempt = (target, f) => async (...args) => {
    problem.textContent = '';
    try {
      await f(...args);
    } catch (e) {
      target.replaceChildren();
      problem.textContent = e.message;
    }
  };

  const showFilters = attempt(filters, async () => filters.replaceChildren(filtersView(await request(Requests.FILTERS))));
  const index = el('input', { type: 'number', value: 0, min: 0 });
  const showMaps = attempt(maps, async (source) =>
    maps.replaceChildren(featureMapsView(await request(Requests.FEATURE_MAPS, source ?? { index: Number(index.value) }))));
  const mapsFile = el('input', { type: 'file', accept: 'image/*',
    onchange: (e) => e.target.files[0] && fileBytes(e.target.files[0]).then(showMaps) });
  const showConfusion = attempt(confusion, async () =>
    confusion.replaceChildren(confusionView(await request(Requests.CONFUSION, { maxExamples: 24 }))));
  const predict = attempt(top5, async (file) => {
    const r = await request(Requests.PREDICT_IMAGE, await fileBytes(file));
    top5.replaceChildren(el('div', { class: 'pair' },
      el('figure', {}, drawImage(r.image, Math.max(1, Math.round(96 / r.image.shape[0]))), el('figcaption', {}, file.name)),
      el('ol', {}, r.top.map((t) => el('li', {}, el('span', { class: 'bar', style: `--p:${t.probability.toFixed(4)}` }),
        ` ${t.className} ${(t.probability * 100).toFixed(1)}%`)))));
  });
  const predictInput = el('input', { type: 'file', accept: 'image/*', 'data-testid': 'predict-input',
    onchange: (e) => e.target.files[0] && predict(e.target.files[0]) });
  const drop = el('div', { class: 'dropzone', ondragover: (e) => e.preventDefault(),
    ondrop: (e) => {
      e.preventDefault();
      const f = e.dataTransfer.files[0];
      if (f) predict(f);
    } }, 'or drop an image here');

  return el('div', { class: 'section-body' }, problem,
    el('section', { class: 'card' }, el('h3', {}, 'The first layer’s filters'),
      el('button', { 'data-testid': 'show-filters', onclick: () => showFilters() }, 'Show filters'), filters),
    el('section', { class: 'card' }, el('h3', {}, 'Feature maps of every Conv2D layer'),
      el('div', { class: 'fields' }, el('label', {}, 'validation image # ', index),
        el('button', { 'data-testid': 'show-maps', onclick: () => showMaps() }, 'Show'), el('label', {}, 'or your image ', mapsFile)),
      maps),
    el('section', { class: 'card' }, el('h3', {}, 'Confusion matrix (validation data)'),
      el('button', { 'data-testid': 'show-confusion', onclick: () => showConfusion() }, 'Evaluate'), confusion),
    el('section', { class: 'card' }, el('h3', {}, 'Predict an image'),
      el('div', { class: 'fields' }, el('label', {}, 'image ', predictInput)), drop, top5));
}
