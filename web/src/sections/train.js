// Course sections 10-11: compile and fit. Adam or SGD, start / pause / stop,
// a progress bar with images/s and ETA, live loss and accuracy curves
// (training per batch, training and validation per epoch), and a short run
// that trains the same model with SGD and with Adam, curves overlaid.
import { request } from '../engine/client.js';
import { Requests } from '../engine/protocol.js';
import { el } from '../dom.js';
import { throttled } from '../throttle.js';
import { lineChart } from '../components/line-chart.js';

const DEFAULT_RATE = { adam: 0.001, sgd: 0.01 };
const fmt = (v, digits = 4) => (v == null || Number.isNaN(v) ? '–' : Number(v).toFixed(digits));
const duration = (s) => (s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

/** Keras optimizer config from the form. */
function optimizerConfig(kind, learningRate, momentum) {
  return kind === 'sgd' ? { className: 'SGD', config: { learning_rate: learningRate, momentum } }
                        : { className: 'Adam', config: { learning_rate: learningRate } };
}

/** Training curves kept for the saved session and redrawn after a reload. */
export const curves = { epochs: 0, rows: [] };

export function trainSection({ onEpochSaved } = {}) {
  const optimizer = el('select', { 'data-testid': 'optimizer' },
    el('option', { value: 'adam' }, 'Adam'), el('option', { value: 'sgd' }, 'SGD'));
  const rate = el('input', { type: 'number', value: DEFAULT_RATE.adam, step: 'any', min: 0, 'data-testid': 'learning-rate' });
  const momentum = el('input', { type: 'number', value: 0, step: 0.1, min: 0, max: 0.99 });
  const momentumField = el('label', { hidden: true }, 'momentum ', momentum);
  optimizer.addEventListener('change', () => {
    rate.value = DEFAULT_RATE[optimizer.value];
    momentumField.hidden = optimizer.value !== 'sgd';
  });
  const epochs = el('input', { type: 'number', value: 5, min: 1, 'data-testid': 'epochs' });

  const trainButton = el('button', { class: 'primary', 'data-testid': 'train-button' }, 'Train');
  const pauseButton = el('button', { 'data-testid': 'pause-button', disabled: true }, 'Pause');
  const stopButton = el('button', { 'data-testid': 'stop-button', disabled: true }, 'Stop');
  const progress = el('progress', { max: 1, value: 0, 'data-testid': 'epoch-progress' });
  const where = el('span', { class: 'note' }, 'not trained yet');
  const speed = el('span', { 'data-testid': 'images-per-second' }, '');
  const eta = el('span', { 'data-testid': 'eta' }, '');
  const metric = (label, testid) => {
    const value = el('strong', { 'data-testid': testid }, '–');
    return { value, node: el('div', { class: 'metric' }, el('span', {}, label), value) };
  };
  const m = {
    loss: metric('loss', 'train-loss'), accuracy: metric('accuracy', 'train-accuracy'),
    valLoss: metric('val_loss', 'val-loss'), valAccuracy: metric('val_accuracy', 'val-accuracy'),
  };
  const problem = el('p', { class: 'error', role: 'alert', 'data-testid': 'train-problem' });
  const status = el('p', { class: 'note', role: 'status', 'data-testid': 'train-status' });

  const lossChart = lineChart({ title: 'Loss', yLabel: 'loss', testid: 'loss-chart', series: [
    { label: 'training (per batch)', color: '#7fa7e0' }, { label: 'training (epoch)', color: '#1f4fa0', points: true },
    { label: 'validation (epoch)', color: '#d2691e', points: true }] });
  const accChart = lineChart({ title: 'Accuracy', yLabel: 'accuracy', testid: 'accuracy-chart', series: [
    { label: 'training (per batch)', color: '#7fa7e0' }, { label: 'training (epoch)', color: '#1f4fa0', points: true },
    { label: 'validation (epoch)', color: '#d2691e', points: true }] });

  const resetCurves = () => {
    curves.epochs = 0;
    curves.rows = [];
    lossChart.clear();
    accChart.clear();
    for (const x of Object.values(m)) x.value.textContent = '–';
    progress.value = 0;
    where.textContent = 'not trained yet';
    speed.textContent = eta.textContent = '';
  };
  // Past this many rows, every other per-batch point is dropped (epoch points
  // stay), so a long run keeps the page's memory and redraws flat.
  const MAX_ROWS = 4000;
  const plot = (row) => {
    curves.rows.push(row);
    const { x, loss, accuracy, epochLoss, epochAccuracy, valLoss, valAccuracy } = row;
    lossChart.put(x, { 0: loss, 1: epochLoss, 2: valLoss });
    accChart.put(x, { 0: accuracy, 1: epochAccuracy, 2: valAccuracy });
    if (curves.rows.length > MAX_ROWS) {
      let keep = true;
      const epochRow = (r) => r.epochLoss != null || r.epochAccuracy != null || r.valLoss != null || r.valAccuracy != null;
      curves.rows = curves.rows.filter((r) => epochRow(r) || (keep = !keep));
      lossChart.thin();
      accChart.thin();
    }
  };

  let busy = false;
  let paused = false;
  let stopping = false;  // Stop was pressed: the run only closes its epoch now
  const setBusy = (on) => {
    busy = on;
    trainButton.disabled = on;
    compareButton.disabled = on;
    pauseButton.disabled = !on;
    stopButton.disabled = !on;
    pauseButton.textContent = 'Pause';
    paused = false;
    stopping = false;
    // The data, model and saved-model controls are locked meanwhile (main.js).
    document.dispatchEvent(new CustomEvent('cnn-training', { detail: { on } }));
  };

  const train = async () => {
    problem.textContent = '';
    const total = Math.max(1, Math.floor(Number(epochs.value)));
    const offset = curves.epochs;  // a second Train goes on from the trained weights
    setBusy(true);
    status.textContent = 'training…';
    // The progress texts of a batch (every batch's point still goes to the curves).
    const showBatch = throttled((d) => {
      const done = d.epoch * d.steps + d.batch + 1;
      const perSecond = d.seconds > 0 ? (d.samples + d.epoch * samplesPerEpoch(d)) / d.seconds : 0;
      progress.value = (d.batch + 1) / d.steps;
      where.textContent = `epoch ${offset + d.epoch + 1}/${offset + total} · batch ${d.batch + 1}/${d.steps}`;
      speed.textContent = perSecond ? `${Math.round(perSecond)} images/s` : '';
      const left = perSecond ? (total * d.steps - done) * (d.seconds / done) : 0;
      eta.textContent = perSecond ? `about ${duration(left)} left` : '';
      m.loss.value.textContent = fmt(d.logs.loss);
      m.accuracy.value.textContent = fmt(d.logs.accuracy);
    });
    try {
      await request(Requests.TRAIN, {
        optimizer: optimizerConfig(optimizer.value, Number(rate.value), Number(momentum.value)), epochs: total,
        autosave: Boolean(onEpochSaved),  // no session kept (persist=0): no model bytes made every epoch
      }, (event, d) => {
        if (event === 'batch') {
          if (d.batch + 1 === d.steps) showBatch.now(d);
          else showBatch(d);
          plot({ x: offset + d.epoch + (d.batch + 1) / d.steps, loss: d.logs.loss, accuracy: d.logs.accuracy });
        } else if (event === 'epoch') {
          const e = offset + d.epoch + 1;
          curves.epochs = e;
          // Keras's epoch logs sit on the epoch's last batch (earlier than e when training was stopped).
          const last = curves.rows.at(-1);
          const onLast = last && last.x > e - 1 && last.epochLoss == null;
          const row = { x: onLast ? last.x : e, loss: onLast ? last.loss : null, accuracy: onLast ? last.accuracy : null,
                        epochLoss: d.logs.loss, epochAccuracy: d.logs.accuracy, valLoss: d.logs.val_loss,
                        valAccuracy: d.logs.val_accuracy };
          if (onLast) curves.rows.pop();
          plot(row);
          m.valLoss.value.textContent = fmt(d.logs.val_loss);
          m.valAccuracy.value.textContent = fmt(d.logs.val_accuracy);
          document.dispatchEvent(new CustomEvent('cnn-model-trained', { detail: { epochs: e } }));
          onEpochSaved?.(d.modelBytes);
        } else if (event === 'paused') {
          showBatch.flush();  // the batch it stopped after, not a moment later
          status.textContent = 'paused';
        } else if (event === 'resumed') {
          if (!stopping) status.textContent = 'training…';  // a stop while paused resumes only to close the epoch
        }
      });
      showBatch.flush();
      status.textContent = `trained ${curves.epochs} epoch${curves.epochs === 1 ? '' : 's'}`;
      eta.textContent = '';
    } catch (e) {
      showBatch.flush();
      problem.textContent = e.message;
      status.textContent = eta.textContent = '';
    } finally {
      setBusy(false);
    }
  };
  let perEpochSamples = 0;
  const samplesPerEpoch = (d) => perEpochSamples || d.samples;
  document.addEventListener('cnn-data-ready', (e) => {
    perEpochSamples = e.detail.train.samples;
  });

  trainButton.addEventListener('click', train);
  pauseButton.addEventListener('click', async () => {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    await request(paused ? Requests.PAUSE : Requests.RESUME);
  });
  stopButton.addEventListener('click', () => {
    stopping = true;
    status.textContent = 'stopping after this batch…';
    request(Requests.STOP);
  });
  // A new (untrained) model starts new curves; a restored one brings its own.
  document.addEventListener('cnn-model-ready', (e) => {
    if (e.detail.source === 'built' || e.detail.fresh) resetCurves();
  });

  // ---- SGD vs Adam ----
  document.addEventListener('cnn-curves-loaded', (e) => api.restoreCurves(e.detail));
  const compareEpochs = el('input', { type: 'number', value: 3, min: 1 });
  const sgdRate = el('input', { type: 'number', value: DEFAULT_RATE.sgd, step: 'any', min: 0 });
  const adamRate = el('input', { type: 'number', value: DEFAULT_RATE.adam, step: 'any', min: 0 });
  const compareButton = el('button', { 'data-testid': 'compare-button' }, 'Compare SGD and Adam');
  const compareStatus = el('p', { class: 'note', role: 'status', 'data-testid': 'compare-status' });
  const compareLoss = lineChart({ title: 'Training loss', yLabel: 'loss', testid: 'compare-loss', series: [
    { label: 'SGD', color: '#8a5a00' }, { label: 'Adam', color: '#1f4fa0' }] });
  const compareAcc = lineChart({ title: 'Validation accuracy', yLabel: 'accuracy', testid: 'compare-accuracy', series: [
    { label: 'SGD', color: '#8a5a00', points: true }, { label: 'Adam', color: '#1f4fa0', points: true }] });
  compareButton.addEventListener('click', async () => {
    problem.textContent = '';
    compareLoss.clear();
    compareAcc.clear();
    setBusy(true);
    const runs = [
      { label: 'SGD', optimizer: optimizerConfig('sgd', Number(sgdRate.value), 0) },
      { label: 'Adam', optimizer: optimizerConfig('adam', Number(adamRate.value)) },
    ];
    const series = { SGD: 0, Adam: 1 };
    const n = Math.max(1, Math.floor(Number(compareEpochs.value)));
    const showBatch = throttled((d) => {
      compareStatus.textContent = `${d.label}: epoch ${d.epoch + 1}/${n} · batch ${d.batch + 1}/${d.steps}`;
    });
    try {
      const { histories } = await request(Requests.COMPARE, { runs, epochs: n }, (event, d) => {
        if (event === 'batch') {
          showBatch(d);
          compareLoss.put(d.epoch + (d.batch + 1) / d.steps, { [series[d.label]]: d.logs.loss });
        } else if (event === 'epoch' && d.logs.val_accuracy != null) {
          compareAcc.put(d.epoch + 1, { [series[d.label]]: d.logs.val_accuracy });
        }
      });
      showBatch.flush();
      const final = (label) => fmt(histories[label]?.history.loss.at(-1));
      compareStatus.textContent = `final training loss: SGD ${final('SGD')}, Adam ${final('Adam')} ` +
        '(the same model, initial weights and data; only the optimizer differs).';
    } catch (e) {
      showBatch.flush();
      problem.textContent = e.message;
      compareStatus.textContent = '';
    } finally {
      setBusy(false);
    }
  });

  const api = {
    element: el('div', { class: 'section-body' },
      el('section', { class: 'card' }, el('h3', {}, 'model.compile(…) and model.fit(…)'),
        el('div', { class: 'fields' }, el('label', {}, 'optimizer ', optimizer), el('label', {}, 'learning rate ', rate),
          momentumField, el('label', {}, 'epochs ', epochs)),
        el('div', { class: 'fields' }, trainButton, pauseButton, stopButton),
        el('div', { class: 'progress' }, progress, where, speed, eta),
        el('div', { class: 'metrics' }, Object.values(m).map((x) => x.node)), status, problem),
      el('section', { class: 'card charts' }, lossChart.element, accChart.element),
      el('section', { class: 'card' }, el('h3', {}, 'SGD or Adam?'),
        el('p', {}, 'Adam adapts the step size of every weight from the gradients it has seen, so it usually ',
          'reaches a low loss in fewer epochs than plain SGD with one fixed learning rate. Train fresh copies of ',
          'this model (the same initial weights, the same data) with each and compare.'),
        el('div', { class: 'fields' }, el('label', {}, 'epochs ', compareEpochs), el('label', {}, 'SGD learning rate ', sgdRate),
          el('label', {}, 'Adam learning rate ', adamRate), compareButton),
        compareStatus, el('div', { class: 'charts' }, compareLoss.element, compareAcc.element))),
    /** Redraws saved curves (a restored session). */
    restoreCurves(saved) {
      resetCurves();
      if (!saved?.rows) return;
      for (const row of saved.rows) plot(row);
      curves.epochs = saved.epochs ?? 0;
      const last = saved.rows.at(-1);
      if (last) {
        m.loss.value.textContent = fmt(last.epochLoss ?? last.loss);
        m.accuracy.value.textContent = fmt(last.epochAccuracy ?? last.accuracy);
        m.valLoss.value.textContent = fmt(last.valLoss);
        m.valAccuracy.value.textContent = fmt(last.valAccuracy);
      }
      where.textContent = `restored: trained ${curves.epochs} epoch${curves.epochs === 1 ? '' : 's'}`;
    },
    isBusy: () => busy,
  };
  return api;
}
