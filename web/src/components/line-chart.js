// A live line chart (uPlot) whose points arrive one at a time: series share
// the x axis (rows kept in x order, so a second run can fill in an earlier
// x), missing values are null (drawn as gaps spanned by a line), and redraws
// are batched, ten a second at most, so a fast training loop never waits on
// the page.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el } from '../dom.js';
import { throttled } from '../throttle.js';

/**
 * @param {{title: string, xLabel?: string, yLabel?: string, series: {label: string, color: string, dash?: number[],
 *          points?: boolean}[], width?: number, height?: number, testid?: string}} options
 */
export function lineChart({ title, xLabel = 'epoch', yLabel = '', series, width = 500, height = 230, testid }) {
  const element = el('figure', { class: 'chart', 'data-testid': testid });
  const columns = [[], ...series.map(() => [])];
  const plot = new uPlot({
    title, width, height,
    scales: { x: { time: false } },
    legend: { live: false },
    axes: [{ label: xLabel }, { label: yLabel }],
    series: [{ label: xLabel }, ...series.map((s) => ({
      label: s.label, stroke: s.color, width: s.points ? 0 : 1.5, dash: s.dash, spanGaps: true,
      points: { show: !!s.points, size: 7, fill: s.color },
    }))],
  }, columns, element);

  // A redraw is uPlot's setData over every row. One per animation frame
  // held LeNet's training in the Train section at 0.41-0.51 of Node's speed
  // with the threaded engine, whose threads share the cores with the page
  // (Chromium, 2 cores; 0.56-0.60 at ten a second, bench/RESULTS.md); ten a
  // second still look live. One frame is asked for at a time (a hidden tab's
  // frames wait), and it draws the rows as they are when it comes.
  let framePending = false;
  const redraw = throttled(() => {
    if (framePending) return;
    framePending = true;
    requestAnimationFrame(() => {
      framePending = false;
      plot.setData(columns);
    });
  }, 100);
  return {
    element,
    /** Sets `values` (series index -> value) at x: in the row at x, or a new row kept in x order. */
    put(x, values) {
      const xs = columns[0];
      let row = xs.length;
      while (row > 0 && xs[row - 1] > x) row--;  // new points usually come last: search from the end
      if (row > 0 && xs[row - 1] === x) row--;
      else for (const c of columns) c.splice(row, 0, c === xs ? x : null);
      for (const [s, v] of Object.entries(values)) columns[Number(s) + 1][row] = v ?? null;
      redraw();
    },
    clear() {
      for (const c of columns) c.length = 0;
      redraw();
    },
    /** Drops every other row that holds only the first series (per-batch points); other rows stay. */
    thin() {
      let keep = true;
      const kept = [];
      for (let i = 0; i < columns[0].length; i++)
        if (columns.slice(2).some((c) => c[i] != null) || (keep = !keep)) kept.push(i);
      for (const c of columns) {
        const values = kept.map((i) => c[i]);
        c.length = 0;
        c.push(...values);
      }
      redraw();
    },
    /** Every row as {x, values} (for saving the curves). */
    rows() {
      return columns[0].map((x, i) => ({ x, values: columns.slice(1).map((c) => c[i]) }));
    },
  };
}
