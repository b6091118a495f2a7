// Shows the latest of a stream of values at most once every `ms` ms (and
// whatever now() shows at once): a training loop sends hundreds of progress
// events a second, and setting the page's texts on each made it lay out and
// paint for every one (Chromium, 2 cores, the threaded engine training
// LeNet in the Train section, 3 runs alternated with the texts set on every
// batch: +5% with them set ten times a second and at each epoch's end, +15-22%
// at each epoch's end only). The last value always lands, `ms` later at most.
// The clock and timers it runs on; tests pass their own, so that what they
// check does not depend on when the host's timers fire.
const realClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/**
 * @template T
 * @param {(value: T) => void} show
 * @param {number} [ms]
 * @param {{now: () => number, setTimeout: (fn: () => void, ms: number) => unknown,
 *          clearTimeout: (id: unknown) => void}} [clock]
 * @returns {((value: T) => void) & {now: (value: T) => void, flush: () => void}}
 */
export function throttled(show, ms = 100, clock = realClock) {
  let shown = -Infinity;
  let pending = null;  // {value} waiting for its turn
  let timer = null;
  const flush = () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    if (!pending) return;
    const { value } = pending;
    pending = null;
    shown = clock.now();
    show(value);
  };
  const update = (value) => {
    pending = { value };
    if (timer !== null) return;
    const wait = shown + ms - clock.now();
    if (wait <= 0) flush();
    else timer = clock.setTimeout(flush, wait);
  };
  /** Shows `value` at once (an epoch's last batch), dropping any waiting one. */
  update.now = (value) => {
    pending = { value };
    flush();
  };
  /** Shows the waiting value, if any, at once (before the texts are set for good). */
  update.flush = flush;
  return update;
}
