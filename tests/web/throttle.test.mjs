// The page's throttle for progress texts (web/src/throttle.js): the latest
// value lands, no more often than asked, and nothing is left waiting. The
// throttle runs on a fake clock here, so every time it is checked at is
// exact and the host's timer slack cannot fail a test.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { throttled } from '../../web/src/throttle.js';

// A clock whose time moves only by advance(), firing the timers that fall
// due in order of due time (and of setting, for the same time), as hosts do.
function fakeClock() {
  let time = 0;
  let nextId = 1;
  const timers = new Map();  // id -> {at, fn}
  return {
    now: () => time,
    setTimeout: (fn, ms) => {
      timers.set(nextId, { at: time + Math.max(0, ms), fn });
      return nextId++;
    },
    clearTimeout: (id) => timers.delete(id),
    advance(ms) {
      const end = time + ms;
      for (;;) {
        let due = null;
        for (const [id, t] of timers) if (t.at <= end && (!due || t.at < due[1].at)) due = [id, t];
        if (!due) break;
        timers.delete(due[0]);
        time = due[1].at;
        due[1].fn();
      }
      time = end;
    },
    get waiting() {
      return timers.size;
    },
  };
}

// A throttle on a fake clock, and what it showed: [value, time] pairs.
function setup(ms) {
  const clock = fakeClock();
  const shown = [];
  const update = throttled((v) => shown.push([v, clock.now()]), ms, clock);
  return { clock, shown, update };
}

test('the first value shows at once, a burst after it as its last value once, a window later', () => {
  const { clock, shown, update } = setup(40);
  update(1);
  clock.advance(5);
  update(2);
  update(3);
  assert.deepEqual(shown, [[1, 0]]);
  clock.advance(34);
  assert.deepEqual(shown, [[1, 0]], 'nothing before the window ends');
  clock.advance(1);
  assert.deepEqual(shown, [[1, 0], [3, 40]]);
  clock.advance(200);
  assert.equal(shown.length, 2, 'nothing more was shown');
  assert.equal(clock.waiting, 0, 'no timer left set');
});

test('now() shows its value at once and drops the waiting one; flush() shows what waits', () => {
  const { clock, shown, update } = setup(40);
  update('a');
  update('b');
  clock.advance(10);
  update.now('c');
  update.flush();  // nothing waits
  assert.deepEqual(shown, [['a', 0], ['c', 10]]);
  update('d');
  assert.equal(clock.waiting, 1);
  update.flush();
  assert.deepEqual(shown, [['a', 0], ['c', 10], ['d', 10]]);
  assert.equal(clock.waiting, 0, 'the flush cleared the timer');
  clock.advance(200);
  assert.equal(shown.length, 3, 'no timer fired after the flush');
});

test('after a trailing value, the next value past the window shows at once', () => {
  const { clock, shown, update } = setup(40);
  update(1);
  update(2);
  clock.advance(60);  // 2 landed at 40 ms
  clock.advance(60);  // past its window
  update(3);
  assert.deepEqual(shown, [[1, 0], [2, 40], [3, 120]]);
});

test('a value after now() waits a whole window from it', () => {
  const { clock, shown, update } = setup(200);
  update('a');
  clock.advance(100);
  update('b');  // due 200 ms after 'a'
  update.now('c');  // shows now, and 'b''s timer is dropped
  update('x');  // due 200 ms after 'c'
  clock.advance(150);
  assert.deepEqual(shown, [['a', 0], ['c', 100]], "'b''s dropped timer did not fire at 200 ms");
  clock.advance(100);
  assert.deepEqual(shown, [['a', 0], ['c', 100], ['x', 300]]);
});

test('on the real clock the trailing value lands', async () => {
  const shown = [];
  const update = throttled((v) => shown.push(v), 10);
  update(1);
  update(2);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(shown, [1, 2]);
});
