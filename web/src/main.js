// The page: a navigation bar over the course's sections. The engine runs in
// a Web Worker (engine/worker.js); this thread only draws.
//
// URL parameters (used by the <cnn-playground> element and iframes):
//   sections=data,model,train   which sections to show, in the course's order
//   preset=lenet|cnn150|resnet50  the model preset to start from (resnet50: the ResNet50 section's transfer model)
//   session=NAME                the IndexedDB key of the saved session (default "default")
//   persist=0                   neither restore nor save a session
import { request } from './engine/client.js';
import { Requests } from './engine/protocol.js';
import { el } from './dom.js';
import { loadSession } from './store.js';
import { convolutionSection } from './sections/convolution.js';
import { dataSection, dataSettings } from './sections/data.js';
import { inspectSection } from './sections/inspect.js';
import { PRESETS, choosePreset, modelSection, restoreModel, setEditorLayers } from './sections/model.js';
import { resnet50Section } from './sections/resnet50.js';
import { saveSection } from './sections/save.js';
import { trainSection } from './sections/train.js';

const params = new URLSearchParams(location.search);
const sessionKey = params.get('session') || 'default';
const persist = params.get('persist') !== '0';

let saved = null;
if (persist) {
  try {
    saved = await loadSession(sessionKey);
  } catch (e) {
    console.warn(`the saved session could not be read: ${e.message}`);
  }
}
const preset = params.get('preset');
if (saved) {
  Object.assign(dataSettings, saved.settings);
  setEditorLayers(saved.layers);
  if (saved.modelBytes) restoreModel(saved.modelBytes);
} else if (preset && PRESETS[preset]) {
  choosePreset(preset);
}

const save = saveSection({ sessionKey });
const train = trainSection({ onEpochSaved: persist ? (bytes) => save.autosave(bytes) : null });
if (saved) {
  train.restoreCurves(saved.curves);
  save.restored(saved);
}

const all = [
  { id: 'convolution', title: 'Convolution', element: () => convolutionSection() },
  { id: 'data', title: 'Data', element: () => dataSection() },
  { id: 'model', title: 'Model', element: () => modelSection() },
  { id: 'resnet50', title: 'ResNet50', element: () => resnet50Section() },
  { id: 'train', title: 'Train', element: () => train.element },
  { id: 'inspect', title: 'Inspect', element: () => inspectSection() },
  { id: 'save', title: 'Save', element: () => save.element },
];
// Data and Model always run (the others need them); a section list hides the rest.
const wanted = params.get('sections')?.split(',').map((s) => s.trim()).filter(Boolean);
const visible = (id) => !wanted?.length || wanted.includes(id);

const nav = document.getElementById('nav');
const main = document.getElementById('sections');
const show = (id) => {
  for (const s of main.children) s.hidden = s.id !== id;
  for (const b of nav.children) b.setAttribute('aria-current', b.dataset.section === id ? 'page' : 'false');
};
// What a running training must not see change under it: these sections'
// controls are disabled while it runs (the engine refuses such requests too).
const LOCKED = ['data', 'model', 'resnet50', 'save'];
for (const s of all) {
  const needed = ['data', 'model'].includes(s.id) || (s.id === 'resnet50' && preset === 'resnet50');
  if (!visible(s.id) && !needed) continue;
  const content = LOCKED.includes(s.id)
    ? el('fieldset', { class: 'lockable' },
      el('p', { class: 'note lock-note' }, 'Training is running: stop it in the Train section to change this.'),
      s.element())
    : s.element();
  main.append(el('div', { id: s.id, class: 'section', hidden: true }, el('h2', {}, s.title), content));
  if (visible(s.id))
    nav.append(el('button', { 'data-section': s.id, 'data-testid': `nav-${s.id}`, onclick: () => show(s.id) }, s.title));
}
show(nav.firstChild?.dataset.section ?? 'data');
document.addEventListener('cnn-training', (e) => {
  for (const f of main.querySelectorAll('fieldset.lockable')) f.disabled = e.detail.on;
});
// A folder or image dropped beside a drop zone must not make the browser leave the page for it.
for (const type of ['dragover', 'drop']) window.addEventListener(type, (e) => e.preventDefault());
document.addEventListener('cnn-show-section', (e) => visible(e.detail) && show(e.detail));
if (!saved && preset === 'resnet50') {
  show(visible('resnet50') ? 'resnet50' : nav.firstChild?.dataset.section ?? 'data');
  document.dispatchEvent(new CustomEvent('cnn-preset-resnet50'));
}
if (params.get('embed') === '1') document.body.classList.add('embedded');

request(Requests.INFO).then(
  (b) => {
    document.querySelector('[data-testid="engine-info"]').textContent =
      `engine: ${b.variant}${b.threads ? ` (${b.hardwareConcurrency} cores)` : ''}, ${b.simd}`;
  },
  (e) => {
    document.querySelector('[data-testid="engine-info"]').textContent = `the engine could not start: ${e.message}`;
  });

// For measurements from outside the page (bench/soak.mjs): the engine's memory.
globalThis.cnnPlaygroundDiagnostics = Object.freeze({ heap: () => request(Requests.HEAP) });
