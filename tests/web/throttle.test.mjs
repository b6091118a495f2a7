// The page's throttle for progress texts (web/src/throttle.js): the latest
// value lands, no more often than asked, and nothing is left waiting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { throttled } from '../../web/src/throttle.js';

test('the first value shows at once, a burst after it as its last value once, a window later', async () => {
  const shown = [];
  const update = throttled((v) => shown.push([v, performance.now()]), 40);
  const t0 = performance.now();
  update(1);
  update(2);
  update(3);
  assert.deepEqual(shown.map(([v]) => v), [1]);
  await sleep(80);
  assert.deepEqual(shown.map(([v]) => v), [1, 3]);
  assert.ok(shown[1][1] - t0 >= 39, `the trailing value came ${shown[1][1] - t0} ms after the first`);
  await sleep(80);
  assert.equal(shown.length, 2, 'nothing more was shown');
});

test('now() shows its value at once and drops the waiting one; flush() shows what waits', async () => {
  const shown = [];
  const update = throttled((v) => shown.push(v), 40);
  update('a');
  update('b');
  update.now('c');
  update.flush();  // nothing waits
  assert.deepEqual(shown, ['a', 'c']);
  update('d');
  update.flush();
  assert.deepEqual(shown, ['a', 'c', 'd']);
  await sleep(80);
  assert.deepEqual(shown, ['a', 'c', 'd'], 'no timer fired after the flush');
});
