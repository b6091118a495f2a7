// Images and feature maps as canvases, scaled up with crisp pixels.
import { el } from '../dom.js';

// ImageNet's mean pixel in BGR order: 'caffe' preprocessing subtracted it.
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];

/**
 * An image record {data, shape: [h, w, c], preprocessing?} with values in
 * [0, 1] (rescaled) or 0..255, or 'caffe'-preprocessed (BGR, means
 * subtracted), which is undone for display.
 */
export function drawImage(img, scale = 3) {
  const [h, w, c] = img.shape;
  const canvas = el('canvas', { width: w, height: h, style: `width:${w * scale}px;height:${h * scale}px` });
  const out = new ImageData(w, h);
  const caffe = img.preprocessing === 'caffe' && c === 3;
  let max = 0;
  for (const v of img.data) max = Math.max(max, v);
  const k = caffe || max > 1.0001 ? 1 : 255;  // rescaled to [0, 1] or raw 0..255
  const value = caffe ? (i, ch) => img.data[i * 3 + 2 - ch] + CAFFE_MEAN_BGR[2 - ch]
                      : (i, ch) => img.data[i * c + Math.min(ch, c - 1)];
  for (let i = 0; i < w * h; i++) {
    const px = (ch) => Math.max(0, Math.min(255, Math.round(value(i, ch) * k)));
    out.data.set([px(0), c >= 3 ? px(1) : px(0), c >= 3 ? px(2) : px(0), 255], 4 * i);
  }
  canvas.getContext('2d').putImageData(out, 0, 0);
  return canvas;
}

/**
 * One plane of h*w values (at `offset` in `data`) in grey levels, stretched
 * from [lo, hi] (default: the plane's own range) to black..white.
 */
export function drawPlane(data, h, w, { offset = 0, lo, hi, size = 64, title } = {}) {
  if (lo == null || hi == null) {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < h * w; i++) {
      lo = Math.min(lo, data[offset + i]);
      hi = Math.max(hi, data[offset + i]);
    }
  }
  const span = hi - lo || 1;
  const scale = Math.max(1, size / Math.max(h, w));
  const canvas = el('canvas', { width: w, height: h, title, style: `width:${w * scale}px;height:${h * scale}px` });
  const out = new ImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    const g = Math.round(((data[offset + i] - lo) / span) * 255);
    out.data.set([g, g, g, 255], 4 * i);
  }
  canvas.getContext('2d').putImageData(out, 0, 0);
  return canvas;
}
