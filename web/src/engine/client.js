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
worker.onerror = (e) => {
  for (const p of pending.values()) p.reject(new Error(`the engine stopped: ${e.message}`));
  pending.clear();
};

export function request(type, args, onEvent) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onEvent });
    worker.postMessage({ id, type, args });
  });
}
