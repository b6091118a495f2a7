// Course section 13: keep the work. Download the trained model and load it
// back; the session (settings, layers, weights, curves) is also saved in this
// browser at every epoch end and restored when the page opens again.
import { request } from '../engine/client.js';
import { Requests } from '../engine/protocol.js';
import { el } from '../dom.js';
import { clearSession, saveSession } from '../store.js';
import { dataSettings } from './data.js';
import { editorLayers } from './model.js';
import { curves } from './train.js';

const stamp = (t) => new Date(t).toLocaleTimeString();

export function saveSection({ sessionKey }) {
  const status = el('p', { class: 'note', role: 'status', 'data-testid': 'autosave-status' }, 'Nothing saved in this browser yet.');
  const problem = el('p', { class: 'error', role: 'alert', 'data-testid': 'save-problem' });
  const loaded = el('p', { class: 'note', role: 'status', 'data-testid': 'model-file-status' });

  const download = async () => {
    problem.textContent = '';
    try {
      const { bytes } = await request(Requests.SAVE_MODEL, { metadata: { curves } });
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/x-hdf5' }));
      const a = el('a', { href: url, download: 'model.h5' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      problem.textContent = e.message;
    }
  };
  const load = async (file) => {
    problem.textContent = '';
    loaded.textContent = `reading ${file.name}…`;
    try {
      const m = await request(Requests.LOAD_MODEL, { bytes: new Uint8Array(await file.arrayBuffer()) });
      const meta = m.metadata ?? {};
      loaded.textContent = `Loaded ${file.name}: ${m.params.toLocaleString('en-US')} parameters` +
        (meta.classNames ? `, classes ${meta.classNames.join(', ')}` : '') + '.';
      document.dispatchEvent(new CustomEvent('cnn-model-loaded', { detail: m }));
      document.dispatchEvent(new CustomEvent('cnn-curves-loaded', { detail: meta.curves }));
      if (meta.targetSize) {
        Object.assign(dataSettings, { targetSize: meta.targetSize, colorMode: meta.colorMode ?? dataSettings.colorMode,
                                      rescale: meta.rescale ?? dataSettings.rescale,
                                      preprocessing: meta.preprocessing ?? '' });
        document.dispatchEvent(new CustomEvent('cnn-data-settings-changed'));
      }
    } catch (e) {
      loaded.textContent = '';
      problem.textContent = `${file.name}: ${e.message}`;
    }
  };
  const fileInput = el('input', { type: 'file', accept: '.h5,.hdf5,.keras,.cnnp', 'data-testid': 'model-file-input',
    onchange: (e) => e.target.files[0] && load(e.target.files[0]) });

  return {
    element: el('div', { class: 'section-body' },
      el('section', { class: 'card' }, el('h3', {}, 'Download and load'),
        el('p', {}, 'The model downloads as a Keras HDF5 file (model.h5, the layout of Keras’s model.save): ',
          'keras.models.load_model reads it, and so does this page (as it reads Keras 3’s .keras files). It holds the architecture, every weight, the ',
          'optimizer settings, and (for this page) the class names and data settings, so a loaded model predicts ',
          'exactly as the saved one.'),
        el('div', { class: 'fields' }, el('button', { 'data-testid': 'download-model', onclick: download }, 'Download the model'),
          el('label', {}, 'load a model file ', fileInput)), loaded, problem),
      el('section', { class: 'card' }, el('h3', {}, 'Saved in this browser'),
        el('p', {}, 'At the end of every epoch the page saves the settings, the layers, the trained weights and the ',
          'curves here (IndexedDB); opening the page again restores them. Your images stay on your computer.'),
        status,
        el('button', { 'data-testid': 'forget-session', onclick: async () => {
          await clearSession(sessionKey);
          status.textContent = 'The saved session was deleted; a reload starts fresh.';
        } }, 'Forget the saved session'))),
    /** Saves the session after an epoch; a failure is shown, never swallowed. */
    async autosave(modelBytes) {
      try {
        await saveSession(sessionKey, { settings: JSON.parse(JSON.stringify(dataSettings)), layers: editorLayers(),
                                        modelBytes, curves: JSON.parse(JSON.stringify(curves)) });
        status.textContent = `Saved in this browser at ${stamp(Date.now())} (${curves.epochs} epochs).`;
        status.classList.remove('error');
      } catch (e) {
        status.textContent = `Could not save the session in this browser: ${e.message}`;
        status.classList.add('error');
      }
    },
    restored(session) {
      status.textContent = `Restored the session saved at ${stamp(session.savedAt)} (${session.curves?.epochs ?? 0} epochs).`;
    },
  };
}
