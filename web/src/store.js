// The learner's session in IndexedDB: data settings, the model's layers, its
// trained weights (model bytes) and the training curves, saved at each epoch
// end so a reload (or a closed tab) loses nothing.
const DB = 'cnn-playground';
const STORE = 'session';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
  });
}

async function run(mode, f) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('the IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('the IndexedDB transaction was aborted (is the disk full?)'));
    });
  } finally {
    db.close();
  }
}

// Sessions are keyed so that several embedded playgrounds on one course page
// keep their own.

/** The session saved under `key`, or null. */
export async function loadSession(key) {
  if (typeof indexedDB === 'undefined') return null;
  return (await run('readonly', (s) => s.get(key))) ?? null;
}

/** Saves {settings, layers, modelBytes, curves} with savedAt; rejects with the reason when it cannot. */
export async function saveSession(key, session) {
  if (typeof indexedDB === 'undefined') throw new Error('this browser has no IndexedDB: the session is not saved');
  await run('readwrite', (s) => s.put({ ...session, savedAt: Date.now() }, key));
}

export async function clearSession(key) {
  if (typeof indexedDB === 'undefined') return;
  await run('readwrite', (s) => s.delete(key));
}
