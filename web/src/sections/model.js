// Course sections 3-6: build a model layer by layer (or from a preset or
// Keras JSON); every layer's output shape and parameter count update as you
// edit, and configurations that cannot work are explained in words.
import { request } from '../engine/client.js';
import { Requests } from '../engine/protocol.js';
import { el } from '../dom.js';
import { dataSettings } from './data.js';

const channels = () => ({ grayscale: 1, rgb: 3, rgba: 4 })[dataSettings.colorMode];
let classCount = 10;

// Layer kinds the editor offers, with the fields a learner may change.
const KINDS = {
  Conv2D: { fields: { filters: 8, kernel_size: 3, strides: 1, padding: 'valid', activation: 'relu' } },
  MaxPooling2D: { fields: { pool_size: 2, padding: 'valid' } },
  AveragePooling2D: { fields: { pool_size: 2, padding: 'valid' } },
  GlobalAveragePooling2D: { fields: {} },
  Flatten: { fields: {} },
  Dense: { fields: { units: 64, activation: 'relu' } },
  Dropout: { fields: { rate: 0.25 } },
  BatchNormalization: { fields: {} },
  // Keras's augmentation layers: random in training, passed through otherwise.
  RandomFlip: { fields: { mode: 'horizontal' } },
  RandomRotation: { fields: { factor: 0.1, fill_mode: 'reflect' } },
  RandomZoom: { fields: { height_factor: 0.1, fill_mode: 'reflect' } },
  RandomTranslation: { fields: { height_factor: 0.1, width_factor: 0.1, fill_mode: 'reflect' } },
  RandomContrast: { fields: { factor: 0.2 } },
  RandomBrightness: { fields: { factor: 0.2 } },
};
const CHOICES = {
  padding: ['valid', 'same'], activation: ['linear', 'relu', 'sigmoid', 'tanh', 'softmax'],
  mode: ['horizontal', 'vertical', 'horizontal_and_vertical'], fill_mode: ['reflect', 'wrap', 'constant', 'nearest'],
};
// Settings of the random layers the editor does not show: a Keras JSON that
// sets them otherwise cannot be edited here without losing them.
const RANDOM_DEFAULTS = { seed: null, interpolation: 'bilinear', fill_value: 0 };
const HIDDEN = {
  RandomFlip: { seed: null },
  RandomRotation: RANDOM_DEFAULTS,
  RandomZoom: { ...RANDOM_DEFAULTS, width_factor: null },
  RandomTranslation: RANDOM_DEFAULTS,
  RandomContrast: { seed: null, value_range: [0, 255] },
  RandomBrightness: { seed: null, value_range: [0, 255] },
};
// Fields between 0 and 1: a rate, or a factor f giving the range [-f, f].
const FRACTIONS = new Set(['rate', 'factor', 'height_factor', 'width_factor']);
const isRandom = (kind) => kind.startsWith('Random');

export const PRESETS = {
  lenet: { title: 'LeNet (small images, 20–30 px)', targetSize: [28, 28], colorMode: 'grayscale', layers: () => [
    ['Conv2D', { filters: 6, kernel_size: 5, padding: 'same', activation: 'relu' }], ['AveragePooling2D', { pool_size: 2 }],
    ['Conv2D', { filters: 16, kernel_size: 5, activation: 'relu' }], ['AveragePooling2D', { pool_size: 2 }],
    ['Flatten', {}], ['Dense', { units: 120, activation: 'relu' }], ['Dense', { units: 84, activation: 'relu' }],
    ['Dense', { units: classCount, activation: 'softmax' }]] },
  cnn150: { title: 'Small CNN for 150×150 photos', targetSize: [150, 150], colorMode: 'rgb', layers: () => [
    ['Conv2D', { filters: 16, kernel_size: 3, activation: 'relu' }], ['MaxPooling2D', { pool_size: 2 }],
    ['Conv2D', { filters: 32, kernel_size: 3, activation: 'relu' }], ['MaxPooling2D', { pool_size: 2 }],
    ['Conv2D', { filters: 64, kernel_size: 3, activation: 'relu' }], ['MaxPooling2D', { pool_size: 2 }],
    ['Flatten', {}], ['Dense', { units: classCount, activation: 'softmax' }]] },
};

let layers = PRESETS.lenet.layers().map(([kind, cfg]) => ({ kind, cfg: { ...KINDS[kind].fields, ...cfg } }));
// The model in the engine: whether it has been trained (then data changes do
// not silently replace it), and a saved model waiting to be restored.
// `external`: the current model was built by another section (ResNet50).
const state = { trained: false, pendingBytes: null, lastJson: '', external: false };

/** The editor's layers (for the saved session). */
export const editorLayers = () => JSON.parse(JSON.stringify(layers));
/** Sets the editor's layers (a restored session); the next build uses them. */
export function setEditorLayers(saved) {
  if (Array.isArray(saved) && saved.every((l) => KINDS[l.kind]))
    layers = saved.map((l) => ({ kind: l.kind, cfg: { ...KINDS[l.kind].fields, ...l.cfg } }));
}
/** Sets the input size, colour mode and layers of a preset; the next build uses them. */
export function choosePreset(name) {
  const p = PRESETS[name];
  dataSettings.targetSize = [...p.targetSize];
  dataSettings.colorMode = p.colorMode;
  layers = p.layers().map(([kind, cfg]) => ({ kind, cfg: { ...KINDS[kind].fields, ...cfg } }));
}
/** The next build loads these model bytes (trained weights) instead of drawing new weights. */
export function restoreModel(bytes) {
  state.pendingBytes = bytes;
}

/** Editor layers from Keras model JSON; throws naming a layer kind the editor does not offer. */
function layersFromKeras(j) {
  const ls = j.config?.layers ?? [];
  return ls.filter((l) => l.class_name !== 'InputLayer').map((l) => {
    if (!KINDS[l.class_name]) throw new Error(`the editor does not offer ${l.class_name} layers yet`);
    const cfg = { ...KINDS[l.class_name].fields };
    for (const [k, v] of Object.entries(HIDDEN[l.class_name] ?? {}))
      if (l.config[k] != null && JSON.stringify(l.config[k]) !== JSON.stringify(v))
        throw new Error(`the editor does not show ${l.class_name}'s ${k} (${JSON.stringify(l.config[k])})`);
    for (const k of Object.keys(cfg)) {
      if (!(k in l.config)) continue;
      const v = l.config[k];
      // A factor range [-f, f] is shown as f (RandomContrast's [f, f]); another range cannot be.
      const contrast = l.class_name === 'RandomContrast';
      if (FRACTIONS.has(k) && Array.isArray(v) && v[0] !== (contrast ? v[1] : -v[1]))
        throw new Error(`the editor shows ${k} as one number f for ${contrast ? '[f, f]' : '[-f, f]'}, not [${v.join(', ')}]`);
      cfg[k] = Array.isArray(v) ? v.at(FRACTIONS.has(k) ? 1 : 0) : v;
    }
    return { kind: l.class_name, cfg };
  });
}

/** Keras model JSON for the current layers and data settings. */
export function modelJson() {
  const [h, w] = dataSettings.targetSize;
  const keras = layers.map(({ kind, cfg }, i) => {
    const config = { ...cfg };
    if ('kernel_size' in config) config.kernel_size = [config.kernel_size, config.kernel_size];
    if ('strides' in config) config.strides = [config.strides, config.strides];
    if ('pool_size' in config) config.pool_size = [config.pool_size, config.pool_size];
    if (i === 0) config.batch_input_shape = [null, h, w, channels()];
    return { class_name: kind, config };
  });
  return { class_name: 'Sequential', config: { name: 'sequential', layers: keras } };
}

export function modelSection() {
  const table = el('div', { class: 'layers' });
  const summary = el('pre', { class: 'summary', 'data-testid': 'model-summary' });
  const problem = el('p', { class: 'error', role: 'alert' });
  const jsonBox = el('textarea', { rows: 6, class: 'json', 'aria-label': 'Keras model JSON' });

  const notice = el('p', { class: 'warning', role: 'status', 'data-testid': 'model-notice' });
  const show = (m, source) => {
    problem.textContent = '';
    summary.textContent = m.summary;
    jsonBox.value = m.json;
    const shapes = m.layers.filter((l) => l.className !== 'InputLayer');
    table.querySelectorAll('[data-shape]').forEach((cell, i) => {
      const l = shapes[i];
      cell.textContent = l ? `(${l.outputShape.map((d) => (d < 0 ? 'None' : d)).join(', ')})` : '';
      cell.nextSibling.textContent = l ? String(l.params) : '';
    });
    document.dispatchEvent(new CustomEvent('cnn-model-ready', { detail: { ...m, source } }));
  };

  const rebuild = async ({ keepTable = false } = {}) => {
    if (!keepTable) render();
    notice.textContent = '';
    state.external = false;
    try {
      if (state.pendingBytes) {
        const bytes = state.pendingBytes;
        state.pendingBytes = null;
        const m = await request(Requests.LOAD_MODEL, { bytes });
        state.trained = true;
        state.lastJson = JSON.stringify(modelJson());
        show(m, 'restored');
        return;
      }
      const json = modelJson();
      const m = await request(Requests.BUILD_MODEL, { json });
      state.trained = false;
      state.lastJson = JSON.stringify(json);
      show(m, 'built');
    } catch (e) {
      problem.textContent = e.message;
      summary.textContent = '';
    }
  };

  /** A model file the learner loaded (Save section): its layers in the editor where it can show them. */
  document.addEventListener('cnn-model-loaded', (e) => {
    const m = e.detail;
    state.external = false;
    try {
      layers = layersFromKeras(JSON.parse(m.json));
    } catch (err) {
      notice.textContent = `Loaded ${m.layers.length - 1} layers; ${err.message}, so editing starts a new model.`;
    }
    state.trained = true;
    render();
    state.lastJson = JSON.stringify(modelJson());
    show(m, 'loaded');
  });
  document.addEventListener('cnn-model-trained', () => {
    state.trained = true;
  });
  // A model built elsewhere (the ResNet50 section): shown here, and kept when
  // the data changes (that section gives it a new head itself).
  document.addEventListener('cnn-external-model-building', () => {
    state.external = true;
    state.trained = true;
  });
  document.addEventListener('cnn-model-external', (e) => {
    const m = e.detail;
    state.trained = true;
    state.external = true;
    state.pendingBytes = null;
    state.lastJson = JSON.stringify(modelJson());
    notice.textContent = `The model comes from ${m.origin}; editing the layers here starts a new model.`;
    problem.textContent = '';
    summary.textContent = m.summary;
    jsonBox.value = m.json;
    document.dispatchEvent(new CustomEvent('cnn-model-ready', { detail: { ...m, source: 'external' } }));
  });

  const field = (layer, key) => {
    const value = layer.cfg[key];
    const onchange = (e) => {
      layer.cfg[key] = typeof value === 'number' ? Number(e.target.value) : e.target.value;
      // The table stays (only its shapes and counts change): rendering it anew
      // took away the control that keyboard focus was moving to.
      rebuild({ keepTable: true });
    };
    if (CHOICES[key]) return el('select', { onchange }, CHOICES[key].map((c) => el('option', { value: c, selected: c === value }, c)));
    const fraction = FRACTIONS.has(key);
    return el('input', { type: 'number', value, min: fraction ? 0 : 1, max: fraction ? 1 : undefined, step: fraction ? 0.05 : 1, onchange });
  };

  function render() {
    table.replaceChildren(el('table', {},
      el('tr', {}, ['layer', 'settings', 'output shape', 'params', ''].map((h) => el('th', {}, h))),
      layers.map((layer, i) => el('tr', {},
        el('td', {}, layer.kind),
        el('td', { class: 'cfg' }, Object.keys(layer.cfg).map((k) => el('label', {}, `${k} `, field(layer, k)))),
        el('td', { 'data-shape': i }), el('td', {}),
        el('td', {}, el('button', { 'aria-label': `remove layer ${i + 1} (${layer.kind})`,
                                    onclick: () => { layers.splice(i, 1); rebuild(); } }, '✕'))))));
  }

  const kindSelect = el('select', { 'aria-label': 'kind of layer to add' }, Object.keys(KINDS).map((k) => el('option', { value: k }, k)));
  const add = () => {
    const kind = kindSelect.value;
    // Augmentation goes first, after any there already; other new layers
    // before the classifier at the end.
    const at = isRandom(kind) ? layers.findIndex((l) => !isRandom(l.kind)) : layers.length - 1;
    layers.splice(Math.max(0, at < 0 ? layers.length : at), 0, { kind, cfg: { ...KINDS[kind].fields } });
    rebuild();
  };
  const usePreset = (name) => {
    choosePreset(name);
    document.dispatchEvent(new CustomEvent('cnn-data-settings-changed'));
    rebuild();
  };
  const importJson = () => {
    try {
      layers = layersFromKeras(JSON.parse(jsonBox.value));
      rebuild();
    } catch (e) {
      problem.textContent = `Could not import the JSON: ${e.message}`;
    }
  };
  // New data: an untrained model follows it (class count, input size); a
  // trained one is kept, and the learner is told when it no longer fits.
  document.addEventListener('cnn-data-ready', (e) => {
    const classes = e.detail.train.classes.length;
    classCount = classes;
    if (state.external) return;  // its own section looks after it
    const last = layers.at(-1);
    const units = last?.kind === 'Dense' && last.cfg.activation === 'softmax' ? classes : null;
    if (state.trained || state.pendingBytes) {
      const next = { ...modelJson() };
      if (units != null) next.config.layers.at(-1).config.units = units;
      notice.textContent = '';
      if (JSON.stringify(next) !== state.lastJson && !state.pendingBytes) {
        const was = JSON.parse(state.lastJson).config.layers;
        const [, h, w, c] = was[0].config.batch_input_shape;
        const [th, tw] = dataSettings.targetSize;
        notice.textContent = `The trained model takes ${h}×${w}×${c} images and predicts ${was.at(-1).config.units} ` +
          `classes; the data now gives ${th}×${tw}×${channels()} images of ${classes} classes. Load the same folder ` +
          'to go on training it, or press “New model” to start over for this data.';
      }
      return;
    }
    if (units != null) last.cfg.units = units;
    if (JSON.stringify(modelJson()) !== state.lastJson) rebuild();
  });
  queueMicrotask(rebuild);
  const newModel = () => {
    state.trained = false;
    state.pendingBytes = null;
    const last = layers.at(-1);
    if (last?.kind === 'Dense' && last.cfg.activation === 'softmax') last.cfg.units = classCount;
    rebuild();
  };

  return el('div', { class: 'section-body' },
    el('section', { class: 'card' }, el('h3', {}, 'Presets'),
      el('div', { class: 'fields' },
        el('button', { 'data-testid': 'preset-lenet', onclick: () => usePreset('lenet') }, PRESETS.lenet.title),
        el('button', { 'data-testid': 'preset-cnn150', onclick: () => usePreset('cnn150') }, PRESETS.cnn150.title),
        el('button', { 'data-testid': 'preset-resnet50', onclick: () => {
          document.dispatchEvent(new CustomEvent('cnn-show-section', { detail: 'resnet50' }));
          document.dispatchEvent(new CustomEvent('cnn-preset-resnet50'));
        } }, 'ResNet50 transfer (150×150 photos)'))),
    el('section', { class: 'card' }, el('h3', {}, 'Layers'), table,
      el('div', { class: 'fields' }, kindSelect, el('button', { onclick: add }, 'Add layer'),
        el('button', { 'data-testid': 'new-model', onclick: newModel, title: 'new, untrained weights' }, 'New model')),
      problem, notice),
    el('section', { class: 'card' }, el('h3', {}, 'model.summary()'), summary),
    el('section', { class: 'card' }, el('h3', {}, 'Keras model JSON'), jsonBox,
      el('div', { class: 'fields' }, el('button', { onclick: importJson }, 'Import JSON'),
        el('button', { onclick: () => navigator.clipboard?.writeText(jsonBox.value) }, 'Copy'))));
}
