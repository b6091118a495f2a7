// Course section 10: ResNet50 as a pretrained backbone. The learner's own
// Keras weights file (resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5)
// goes into ResNet50 without its top, the backbone is frozen, and
// GlobalAveragePooling2D + Dense(classes, softmax) on top is trained in the
// Train section like any other model.
import { request } from '../engine/client.js';
import { Requests } from '../engine/protocol.js';
import { el } from '../dom.js';
import { dataSettings } from './data.js';

const NETWORKS = {
  resnet50: { title: 'ResNet50 (keras.applications, 23.6 million parameters)', size: 150 },
  mini: { title: 'Mini ResNet (ResNet50’s blocks and names, 8–64 filters: quick to try)', size: 32 },
};
const count = (n) => n.toLocaleString('en-US');

/** The data settings a ResNet backbone wants: RGB photos, 'caffe' preprocessing, no rescale. */
export function resnetDataSettings(size) {
  Object.assign(dataSettings, { targetSize: [size, size], colorMode: 'rgb', rescale: 0, preprocessing: 'caffe' });
}

export function resnet50Section() {
  let network = 'resnet50';
  let classes = null;  // of the configured data
  let current = null;  // the last TransferInfo while the ResNet model is the current model
  let trained = false;

  const sizeInput = el('input', { type: 'number', min: 32, value: NETWORKS[network].size, 'data-testid': 'resnet-size' });
  const networkSelect = el('select', { 'data-testid': 'resnet-network', onchange: (e) => {
    network = e.target.value;
    sizeInput.value = NETWORKS[network].size;
  } }, Object.entries(NETWORKS).map(([k, n]) => el('option', { value: k }, n.title)));
  const freeze = el('input', { type: 'checkbox', checked: true, 'data-testid': 'freeze-backbone',
                               onchange: () => setFreeze(freeze.checked) });
  const counts = el('p', { class: 'counts', 'data-testid': 'resnet-params' });
  const problem = el('p', { class: 'error', role: 'alert', 'data-testid': 'resnet-problem' });
  const progress = el('progress', { max: 1, value: 0, 'data-testid': 'weights-progress', hidden: true });
  const weightsStatus = el('p', { class: 'note', role: 'status', 'data-testid': 'weights-status' }, 'No weights loaded: the backbone has random weights.');
  const notes = el('ul', { class: 'notes' });

  // `fresh`: a new model (new weights or head), so the Train section starts new curves.
  const show = (info, fresh = false) => {
    current = info;
    freeze.checked = info.frozen;
    const nonTrainable = info.params - info.trainableParams;
    counts.replaceChildren(
      el('span', {}, `Total params: ${count(info.params)}`), ' · ',
      el('strong', {}, `Trainable params: ${count(info.trainableParams)}`), ' · ',
      el('span', {}, `Non-trainable params: ${count(nonTrainable)}`));
    document.dispatchEvent(new CustomEvent('cnn-model-external', { detail: { ...info, origin: 'the ResNet50 section', fresh } }));
  };
  const fail = (e) => {
    problem.textContent = e.message;
  };

  async function build() {
    problem.textContent = '';
    if (!classes) return fail(new Error('load a dataset in the Data section first: the head needs its number of classes'));
    const size = Number(sizeInput.value);
    // First, so that the Model section does not rebuild its own model for the new data settings meanwhile.
    document.dispatchEvent(new CustomEvent('cnn-external-model-building'));
    resnetDataSettings(size);
    document.dispatchEvent(new CustomEvent('cnn-data-settings-changed'));
    try {
      trained = false;
      show(await request(Requests.BUILD_TRANSFER, { network, inputShape: [size, size, 3], classes, freeze: freeze.checked }), true);
      weightsStatus.textContent = 'No weights loaded: the backbone has random weights.';
      notes.replaceChildren();
    } catch (e) {
      fail(e);
    }
  }

  async function loadWeights(file) {
    problem.textContent = '';
    if (!current) await build();
    if (!current) return;
    progress.hidden = false;
    progress.value = 0.05;
    weightsStatus.textContent = `reading ${file.name}…`;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const info = await request(Requests.LOAD_WEIGHTS, { bytes, name: file.name }, (event, data) => {
        if (event !== 'progress') return;
        progress.value = data.fraction;
        weightsStatus.textContent = data.stage;
      });
      progress.value = 1;
      const w = info.weights;
      weightsStatus.textContent = `Loaded ${file.name}: ${count(w.values)} weights of ${w.layers} layers into the backbone.`;
      notes.replaceChildren(...w.notes.map((n) => el('li', {}, n)));
      show(info, true);
    } catch (e) {
      progress.hidden = true;
      weightsStatus.textContent = 'No weights loaded.';
      fail(new Error(`${file.name}: ${e.message}`));
    }
  }

  async function setFreeze(on) {
    problem.textContent = '';
    if (!current) return;
    try {
      show(await request(Requests.SET_FREEZE, { freeze: on }));
    } catch (e) {
      freeze.checked = !on;
      fail(e);
    }
  }

  let pendingBuild = false;  // the preset was chosen before any data was ready
  document.addEventListener('cnn-data-ready', async (e) => {
    classes = e.detail.train.classes.length;
    if (pendingBuild) {
      pendingBuild = false;
      await build();
      return;
    }
    // An untrained transfer model follows the data's classes with a new head (the backbone is kept).
    if (current && !trained && current.layers.at(-1).outputShape.at(-1) !== classes) {
      try {
        show(await request(Requests.NEW_HEAD, { classes }), true);
      } catch (err) {
        fail(err);
      }
    }
  });
  document.addEventListener('cnn-model-ready', (e) => {
    if (e.detail.source !== 'external') current = null;  // the Model section built or loaded another model
  });
  document.addEventListener('cnn-model-trained', () => {
    trained = true;
  });
  // The Model section's preset: build the transfer model at once.
  document.addEventListener('cnn-preset-resnet50', () => {
    if (classes) build();
    else pendingBuild = true;
  });

  const weightsInput = el('input', { type: 'file', accept: '.h5,.hdf5', 'data-testid': 'weights-input',
    onchange: (e) => e.target.files[0] && loadWeights(e.target.files[0]) });

  return el('div', { class: 'section-body' },
    el('section', { class: 'card' }, el('h3', {}, 'The backbone'),
      el('p', {}, 'ResNet50 without its top (include_top=False) is the backbone; GlobalAveragePooling2D and ',
        'Dense(classes, softmax) go on top, as in the course. The data becomes RGB photos with ResNet50’s ',
        '“caffe” preprocessing.'),
      el('div', { class: 'fields' }, el('label', {}, 'network ', networkSelect),
        el('label', {}, 'input size ', sizeInput),
        el('button', { 'data-testid': 'resnet-build', onclick: build }, 'Build the transfer model'))),
    el('section', { class: 'card' }, el('h3', {}, 'Pretrained weights'),
      el('p', {}, 'Keras downloads ResNet50’s ImageNet weights as ',
        el('code', {}, 'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5'),
        ' (in ~/.keras/models after weights=\'imagenet\'). Choose that file; it is read here, in your browser.'),
      el('div', { class: 'fields' }, el('label', {}, 'weights file ', weightsInput), progress), weightsStatus, notes),
    el('section', { class: 'card' }, el('h3', {}, 'Freeze the backbone'),
      el('p', {}, '23 million parameters overfit a few hundred images. Frozen (backbone.trainable = False), the ',
        'backbone keeps its weights, its BatchNormalization layers use their moving statistics, and only the head ',
        'trains; it is also much faster.'),
      el('label', { class: 'toggle' }, freeze, ' backbone frozen'), counts),
    problem,
    el('div', { class: 'fields' }, el('span', { class: 'note' }, 'Then train the head in the Train section. '),
      el('button', { 'data-testid': 'resnet-to-train',
                     onclick: () => document.dispatchEvent(new CustomEvent('cnn-show-section', { detail: 'train' })) },
        'Go to Train')));
}
