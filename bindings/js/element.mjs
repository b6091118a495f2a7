// <cnn-playground>: the playground page embedded in any web page (a course
// page, a notebook), in an iframe so its styles, engine worker and memory stay
// its own.
//
//   <script type="module" src="node_modules/cnn-playground/bindings/js/element.mjs"></script>
//   <cnn-playground sections="data,model,train" preset="lenet" height="900"></cnn-playground>
//
// Attributes:
//   src       the page's URL (default: the page shipped in this package, web/dist/index.html)
//   sections  comma-separated: convolution, data, model, resnet50, train, inspect, save (default: all)
//   preset    lenet | cnn150 | resnet50: the model the page starts from
//   session   a name for the saved session, so several playgrounds on one page keep their own
//   persist   "false" to neither restore nor save a session
//   height    CSS height of the frame (default 760px)
const SHIPPED_PAGE = '../../web/dist/index.html';  // relative to this file in the package
const PARAMS = ['sections', 'preset', 'session', 'persist'];

/** The iframe URL for the given attributes (exported for tests and server-side rendering). */
export function playgroundUrl(base, attrs) {
  const url = new URL(base);
  for (const name of PARAMS) {
    let value = attrs[name];
    if (value == null || value === '') continue;
    if (name === 'persist') value = value === 'false' || value === '0' ? '0' : '1';
    url.searchParams.set(name, value);
  }
  url.searchParams.set('embed', '1');
  return url.href;
}

export class CnnPlaygroundElement extends (globalThis.HTMLElement ?? class {}) {
  static get observedAttributes() {
    return ['src', 'height', ...PARAMS];
  }

  connectedCallback() {
    if (!this.shadowRoot) {
      const root = this.attachShadow({ mode: 'open' });
      const style = document.createElement('style');
      style.textContent = ':host { display: block; } iframe { width: 100%; border: 1px solid #dde2ea; border-radius: 8px; }';
      this._frame = document.createElement('iframe');
      this._frame.title = 'CNN Playground';
      this._frame.loading = 'lazy';
      // Lets the threaded engine run when the embedding page is cross-origin isolated.
      this._frame.allow = 'cross-origin-isolated';
      root.append(style, this._frame);
    }
    this._update();
  }

  attributeChangedCallback() {
    if (this._frame) this._update();
  }

  /** The iframe's window (e.g. to postMessage to it). */
  get frame() {
    return this._frame;
  }

  _update() {
    const base = new URL(this.getAttribute('src') || SHIPPED_PAGE, this.getAttribute('src') ? document.baseURI : import.meta.url);
    const attrs = Object.fromEntries(PARAMS.map((n) => [n, this.getAttribute(n)]));
    const href = playgroundUrl(base.href, attrs);
    if (this._frame.src !== href) this._frame.src = href;
    const height = this.getAttribute('height') || '760px';
    this._frame.style.height = /^\d+$/.test(height) ? `${height}px` : height;
  }
}

if (globalThis.customElements && !customElements.get('cnn-playground'))
  customElements.define('cnn-playground', CnnPlaygroundElement);
