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

test('after a trailing value, the next value past the window shows at once', async () => {
  const shown = [];
  const update = throttled((v) => shown.push(v), 40);
  update(1);
  update(2);
  await sleep(60);  // 2 landed at 40 ms
  await sleep(60);  // past its window
  update(3);
  assert.deepEqual(shown, [1, 2, 3]);
});

test('a value after now() waits a whole window from it', async () => {
  const shown = [];
  const update = throttled((v) => shown.push(v), 200);
  update('a');
  await sleep(100);
  update('b');  // due 200 ms after 'a'
  update.now('c');  // shows now, and 'b''s timer is dropped
  update('x');  // due 200 ms after 'c'
  await sleep(150);  // Node runs timers in order of due time: this one comes first
  assert.deepEqual(shown, ['a', 'c']);
  await sleep(100);
  assert.deepEqual(shown, ['a', 'c', 'x']);
});
