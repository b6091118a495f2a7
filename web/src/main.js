// The page: a navigation bar over the course's sections. The engine runs in
// a Web Worker (engine/worker.js); this thread only draws.
import { request } from './engine/client.js';
import { Requests } from './engine/protocol.js';
import { el } from './dom.js';
import { convolutionSection } from './sections/convolution.js';
import { dataSection } from './sections/data.js';
import { modelSection } from './sections/model.js';

const sections = [
  { id: 'convolution', title: 'Convolution', build: convolutionSection },
  { id: 'data', title: 'Data', build: dataSection },
  { id: 'model', title: 'Model', build: modelSection },
];

const nav = document.getElementById('nav');
const main = document.getElementById('sections');
const show = (id) => {
  for (const s of main.children) s.hidden = s.id !== id;
  for (const b of nav.children) b.setAttribute('aria-current', b.dataset.section === id ? 'page' : 'false');
};
for (const s of sections) {
  main.append(el('div', { id: s.id, class: 'section', hidden: true }, el('h2', {}, s.title), s.build()));
  nav.append(el('button', { 'data-section': s.id, 'data-testid': `nav-${s.id}`, onclick: () => show(s.id) }, s.title));
}
show(sections[0].id);

request(Requests.INFO).then(
  (b) => {
    document.querySelector('[data-testid="engine-info"]').textContent =
      `engine: ${b.variant}${b.threads ? ` (${b.hardwareConcurrency} cores)` : ''}, ${b.simd}`;
  },
  (e) => {
    document.querySelector('[data-testid="engine-info"]').textContent = `the engine could not start: ${e.message}`;
  });
