// Course section 8-9: a folder of class folders read like Keras's
// flow_from_directory (its message, class_indices, the validation split),
// the data settings, and augmentation toggles with a live preview.
import { request } from '../engine/client.js';
import { Requests } from '../engine/protocol.js';
import { el } from '../dom.js';
import { drawImage } from '../components/image-canvas.js';

/** Settings shared with the Model and Train sections. */
export const dataSettings = {
  targetSize: [28, 28], colorMode: 'grayscale', batchSize: 32, validationSplit: 0.25, seed: 12345, rescale: 1 / 255,
  preprocessing: '', augment: {},
};

const AUGMENTATIONS = [
  { key: 'horizontalFlip', label: 'horizontal flip', kind: 'flag' },
  { key: 'verticalFlip', label: 'vertical flip', kind: 'flag' },
  { key: 'rotate90', label: 'quarter turns', kind: 'flag' },
  { key: 'rotationRange', label: 'rotation (degrees)', kind: 'number', value: 15 },
  { key: 'widthShiftRange', label: 'width shift (fraction)', kind: 'number', value: 0.1 },
  { key: 'heightShiftRange', label: 'height shift (fraction)', kind: 'number', value: 0.1 },
  { key: 'zoomRange', label: 'zoom (± fraction)', kind: 'number', value: 0.1 },
  { key: 'brightnessRange', label: 'brightness (± fraction)', kind: 'range', value: 0.2 },
  { key: 'contrastRange', label: 'contrast (± fraction)', kind: 'range', value: 0.2 },
  { key: 'blur', label: 'blur (max sigma)', kind: 'number', value: 1 },
  { key: 'sharpen', label: 'sharpen (max amount)', kind: 'number', value: 1 },
  { key: 'noise', label: 'noise (stddev, 0–255)', kind: 'number', value: 8 },
];

/**
 * Files dropped as folders, with their paths inside the dropped folder, and
 * its first-level folders (an empty class folder is a class, as in Keras).
 */
async function droppedFiles(items) {
  const out = [];
  const folders = [];
  const walk = async (entry, prefix) => {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      out.push({ path: prefix + entry.name, file });
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const e of batch) await walk(e, `${prefix}${entry.name}/`);
      }
    }
  };
  const entries = Array.from(items).map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
  // One dropped folder is the dataset itself: its subfolders are the classes.
  if (entries.length === 1 && entries[0].isDirectory) {
    const reader = entries[0].createReader();
    for (;;) {
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      for (const e of batch) {
        if (e.isDirectory) folders.push(e.name);
        await walk(e, '');
      }
    }
  } else {
    for (const e of entries) await walk(e, '');
  }
  return { files: out, folders };
}

export function dataSection() {
  const status = el('p', { class: 'note', role: 'status' });
  const found = el('pre', { class: 'found', 'data-testid': 'found-message' });
  const classes = el('div', { class: 'classes', 'data-testid': 'class-indices' });
  const previewGrid = el('div', { class: 'preview' });
  const problems = el('div', { class: 'problems', role: 'alert' });
  let draw = 0;

  const showPreview = async () => {
    try {
      const p = await request(Requests.PREVIEW, { count: 12, draw: draw++ });
      previewGrid.replaceChildren(
        el('div', {}, el('h4', {}, 'original'), el('div', { class: 'thumbs' }, p.original.map((i) => drawImage(i)))),
        el('div', {}, el('h4', {}, 'augmented (training only)'),
          el('div', { class: 'thumbs' }, p.augmented.map((i) => drawImage(i)))));
    } catch (e) {
      previewGrid.replaceChildren(el('p', { class: 'error' }, e.message));
    }
  };

  const configure = async () => {
    problems.replaceChildren();
    const before = status.textContent;  // the folder's line, back once its images are decoded
    try {
      const info = await request(Requests.CONFIGURE_DATA, dataSettings, (event, d) => {
        if (event === 'progress') status.textContent = `decoding images: ${d.done} of ${d.total}…`;
      }).finally(() => { status.textContent = before; });
      found.textContent = [info.train.foundMessage, info.validation?.foundMessage].filter(Boolean).join('\n');
      const val = info.validation;
      classes.replaceChildren(el('table', {}, el('tr', {}, el('th', {}, 'class'), el('th', {}, 'index'),
        el('th', {}, 'training'), el('th', {}, 'validation')),
        info.train.classes.map((name, i) => el('tr', {}, el('td', {}, name), el('td', {}, String(info.train.classIndices[name])),
          el('td', {}, String(info.train.countsPerClass[i])), el('td', {}, String(val ? val.countsPerClass[i] : 0))))));
      for (const w of [info.train.skippedWarning, info.train.emptyWarning, ...info.train.unreadable, ...(val?.unreadable ?? [])])
        if (w) problems.append(el('p', { class: 'warning' }, w));
      document.dispatchEvent(new CustomEvent('cnn-data-ready', { detail: info }));
      await showPreview();
    } catch (e) {
      found.textContent = '';
      classes.replaceChildren();
      previewGrid.replaceChildren();
      problems.replaceChildren(el('p', { class: 'error' }, e.message));
    }
  };

  let latest = 0;  // the last folder asked for: an earlier one still being read gives way to it
  // `args`: the request's, or a function that finds them (a dropped folder is walked first).
  const load = async (args, what) => {
    const mine = ++latest;
    status.textContent = `reading ${what}…`;
    try {
      const r = await request(Requests.LOAD_DATASET, typeof args === 'function' ? await args() : args);
      if (mine !== latest) return;
      status.textContent = `${what}: ${r.files} files`;
      await configure();
    } catch (e) {
      if (mine !== latest) return;
      status.textContent = '';
      problems.replaceChildren(el('p', { class: 'error' }, e.message));
    }
  };

  const folderInput = el('input', { type: 'file', webkitdirectory: true, multiple: true, 'data-testid': 'folder-input',
    onchange: (e) => {
      const files = Array.from(e.target.files).map((file) => {
        const p = file.webkitRelativePath || file.name;
        return { path: p.includes('/') ? p.slice(p.indexOf('/') + 1) : p, file };
      });
      e.target.value = '';  // so that choosing the same folder again (after an error) is seen
      load({ files }, 'your folder');
    } });
  const drop = el('div', { class: 'dropzone', ondragover: (e) => e.preventDefault(),
    ondrop: (e) => {
      e.preventDefault();
      // The entries are taken now: the DataTransfer is emptied once this handler returns.
      const walking = droppedFiles(e.dataTransfer.items);
      load(() => walking, 'the dropped folder');
    } }, 'or drop a folder of class folders here');

  const number = (label, get, set, attrs = {}) => el('label', {}, `${label} `, el('input', { type: 'number', value: get(), ...attrs,
    onchange: (e) => { set(Number(e.target.value)); configure(); } }));
  const settingsFields = () => [
    number('height', () => dataSettings.targetSize[0], (v) => { dataSettings.targetSize[0] = v; }, { min: 1 }),
    number('width', () => dataSettings.targetSize[1], (v) => { dataSettings.targetSize[1] = v; }, { min: 1 }),
    el('label', {}, 'colour mode ', el('select', { onchange: (e) => { dataSettings.colorMode = e.target.value; configure(); } },
      ['grayscale', 'rgb', 'rgba'].map((m) => el('option', { value: m, selected: m === dataSettings.colorMode }, m)))),
    number('batch size', () => dataSettings.batchSize, (v) => { dataSettings.batchSize = v; }, { min: 1 }),
    number('validation split', () => dataSettings.validationSplit, (v) => { dataSettings.validationSplit = v; },
      { min: 0, max: 0.9, step: 0.05 }),
    number('seed', () => dataSettings.seed, (v) => { dataSettings.seed = v; }),
    number('rescale', () => dataSettings.rescale, (v) => { dataSettings.rescale = v; }, { step: 'any' }),
    // keras.applications' preprocess_input, before rescale as in Keras; ResNet50's weights expect 'caffe'.
    el('label', { title: "ResNet50's ImageNet weights expect 'caffe': RGB to BGR, ImageNet means subtracted, rescale 0 (none)" },
      'preprocessing ', el('select', { 'data-testid': 'preprocessing', onchange: (e) => { dataSettings.preprocessing = e.target.value; configure(); } },
        [['', 'none'], ['caffe', 'caffe (ResNet50)']].map(([v, t]) => el('option', { value: v, selected: v === dataSettings.preprocessing }, t))))];
  const settings = el('div', { class: 'fields' }, settingsFields());
  // A model preset may change the input size and colour mode.
  document.addEventListener('cnn-data-settings-changed', () => {
    settings.replaceChildren(...settingsFields());
    configure();
  });

  const augmentControls = el('div', { class: 'fields augment' }, AUGMENTATIONS.map((a) => {
    const box = el('input', { type: 'checkbox', 'data-testid': `augment-${a.key}` });
    const amount = a.kind === 'flag' ? null : el('input', { type: 'number', step: 'any', value: a.value, min: 0,
                                                           'aria-label': `${a.label}: amount` });
    const update = () => {
      if (!box.checked) delete dataSettings.augment[a.key];
      else if (a.kind === 'flag') dataSettings.augment[a.key] = true;
      else if (a.kind === 'range') dataSettings.augment[a.key] = [1 - Number(amount.value), 1 + Number(amount.value)];
      else if (a.key === 'zoomRange') dataSettings.augment[a.key] = [1 - Number(amount.value), 1 + Number(amount.value)];
      else dataSettings.augment[a.key] = Number(amount.value);
      configure();
    };
    box.addEventListener('change', update);
    amount?.addEventListener('change', () => box.checked && update());
    return el('label', { class: 'toggle' }, box, ` ${a.label} `, amount);
  }));

  // A newcomer starts with the built-in sample dataset.
  queueMicrotask(() => load({ sample: { samples: 600, size: 28, classes: 10 } }, 'the sample dataset'));

  return el('div', { class: 'section-body' },
    el('section', { class: 'card' }, el('h3', {}, 'Your images'),
      el('p', {}, 'Choose a folder with one subfolder per class (cats/, dogs/, …), as Keras’s flow_from_directory reads it.'),
      el('div', { class: 'fields' }, el('label', {}, 'folder ', folderInput),
        el('button', { onclick: () => load({ sample: { samples: 600, size: 28, classes: 10 } }, 'the sample dataset') },
          'Use the sample dataset')),
      drop, status, found, problems, classes),
    el('section', { class: 'card' }, el('h3', {}, 'Settings'), settings),
    el('section', { class: 'card' }, el('h3', {}, 'Augmentation (training data only)'), augmentControls,
      el('button', { onclick: showPreview }, 'New random draws'), previewGrid));
}
