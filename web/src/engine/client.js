// The page's side of the engine worker: request(type, args) -> Promise.
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;

worker.onmessage = ({ data }) => {
  const p = pending.get(data.id);
  if (!p) return;
  if ('event' in data) {
    p.onEvent?.(data.event, data.data);
    return;
  }
  pending.delete(data.id);
  if (data.ok) p.resolve(data.result);
  else p.reject(new Error(data.error));
};
let dead = null;  // why the worker will never answer, once that is known
const rejectAll = (error) => {
  for (const p of pending.values()) p.reject(error);
  pending.clear();
};
worker.onerror = (e) => {
  // An uncaught error inside a running worker comes as an ErrorEvent with its
  // message; a worker that could not load at all (its script not fetched, or
  // a browser without module workers) as a bare Event, and never answers.
  if (e instanceof ErrorEvent && e.message) {
    rejectAll(new Error(`the engine stopped: ${e.message}`));
    return;
  }
  dead = new Error('the engine could not be started: its worker did not load (this page needs a browser with ' +
                   'module workers: Chrome or Edge 95+, Firefox 114+, Safari 16.4+)');
  rejectAll(dead);
};
worker.onmessageerror = () => rejectAll(new Error('a reply of the engine could not be read'));

export function request(type, args, onEvent) {
  if (dead) return Promise.reject(dead);
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onEvent });
    worker.postMessage({ id, type, args });
  });
}
