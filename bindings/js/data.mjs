// cnn.data: folders of class folders, as Keras's
// ImageDataGenerator(...).flow_from_directory(...) reads them.
//
//   const files = await cnn.data.files(input.files);       // a FileList from <input webkitdirectory>
//   const train = files.flow({ targetSize: [150, 150], batchSize: 16, classMode: 'sparse',
//                              validationSplit: 0.25, subset: 'training', seed: 12345, rescale: 1 / 255 });
//   console.log(train.foundMessage);                       // "Found 1263 images belonging to 12 classes."

import { checkOptions } from './options.mjs';

const FLOW_OPTIONS = ['targetSize', 'colorMode', 'interpolation', 'classMode', 'batchSize', 'shuffle', 'seed',
                      'rescale', 'preprocessing', 'validationSplit', 'subset', 'augment', 'memoryBudget',
                      'decodeUpfront'];
const LOAD_IMAGE_OPTIONS = ['targetSize', 'colorMode', 'interpolation', 'rescale', 'preprocessing', 'name'];

const camelToSnake = (k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/**
 * {horizontalFlip: true, zoomRange: [0.8, 1.2], noise: {value: 5, probability: 0.3}, ...}
 * -> the engine's "horizontal_flip,zoom_range=0.8:1.2,noise=5@0.3"
 */
export function augmentSpec(augment) {
  if (!augment) return '';
  if (typeof augment === 'string') return augment;
  const parts = [];
  for (const [key, value] of Object.entries(augment)) {
    if (value === false || value == null) continue;
    const k = camelToSnake(key);
    const v = typeof value === 'object' && !Array.isArray(value) ? value.value : value;
    const p = typeof value === 'object' && !Array.isArray(value) && value.probability != null ? `@${value.probability}` : '';
    if (v === true) parts.push(k + p);
    else if (Array.isArray(v)) parts.push(`${k}=${v[0]}:${v[1]}${p}`);
    else parts.push(`${k}=${v}${p}`);
  }
  return parts.join(',');
}

/** A dataset path from a File: webkitRelativePath minus the chosen folder's own name. */
function relativePath(file) {
  const p = file.webkitRelativePath || file.name;
  const slash = p.indexOf('/');
  return file.webkitRelativePath && slash >= 0 ? p.slice(slash + 1) : p;
}

export function makeData(cnn, check, Tensor) {
  const M = cnn.module;

  class Flow {
    /** @internal */
    constructor(handle) {
      this._h = handle;
      this._info = JSON.parse(check(M, handle.info()));
    }
    get handle() {
      if (!this._h) throw new Error('Flow: this flow has been disposed');
      return this._h;
    }
    /** @internal */
    _fresh() {
      if (!this._info.prepared) this._info = JSON.parse(check(M, this.handle.info()));
      return this._info;
    }
    /**
     * Decodes every image once (done by the first batch otherwise); lists unreadable files.
     * `onProgress(done, total)` hears how far it is, about a hundred times over the folder.
     */
    prepare({ onProgress = null } = {}) {
      check(M, this.handle.prepare(onProgress));
      this._info = JSON.parse(check(M, this.handle.info()));
      return this;
    }
    get foundMessage() { return this._info.foundMessage; }
    get classIndices() { return this._info.classIndices; }
    get classes() { return this._info.classes; }
    // Read afresh: the first batch or fit() decodes the images when prepare()
    // was not called, and drops the unreadable ones from these counts.
    get countsPerClass() { return this._fresh().perClass; }
    get samples() { return this._fresh().samples; }
    /** ceil(samples / batchSize), as len(flow) in Keras. */
    get length() { return this._fresh().length; }
    get skipped() { return this._info.skipped; }
    get skippedWarning() { return this._info.skippedWarning; }
    /** Names the class folders that hold no image (Keras keeps them as classes), or ''. */
    get emptyWarning() { return this._info.emptyWarning; }
    get unreadable() { return this._fresh().unreadable; }
    get augmenting() { return this._info.augmenting; }
    /** The next batch of the endless iterator: {x: (N, H, W, C), y}. */
    next() {
      check(M, this.handle.next());
      return { x: new Tensor(cnn, this.handle.x()), y: new Tensor(cnn, this.handle.y()) };
    }
    /** Batch `index` of pass `epoch` (default: the current pass). */
    batch(index, { epoch } = {}) {
      if (epoch != null) check(M, this.handle.setEpoch(epoch));
      check(M, this.handle.batch(index));
      return { x: new Tensor(cnn, this.handle.x()), y: new Tensor(cnn, this.handle.y()) };
    }
    dispose() {
      if (this._h) {
        this._h.delete();
        this._h = null;
      }
    }
  }

  class FileSet {
    /** @internal */
    constructor() {
      this._h = new M.FileSet();
    }
    get size() { return this._h.size(); }
    /** A flow over these files (a training or validation subset, or all). */
    flow(options = {}) {
      const given = checkOptions('flow', options, FLOW_OPTIONS);
      const opts = { ...given, augment: augmentSpec(given.augment) };
      return new Flow(check(M, M.ImageFlow.create(this._h, JSON.stringify(opts))));
    }
    dispose() {
      if (this._h) {
        this._h.delete();
        this._h = null;
      }
    }
  }

  return {
    Flow,
    FileSet,
    /**
     * keras.utils.load_img + img_to_array: one image file's bytes -> a (1, H, W, C)
     * Tensor, times `rescale`. Options: {targetSize: [h, w], colorMode, interpolation, rescale, name}.
     */
    loadImage(bytes, options) {
      options = checkOptions('loadImage', options, LOAD_IMAGE_OPTIONS);
      if (!options.targetSize) throw new Error('loadImage: options.targetSize ([height, width]) is required');
      const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
      return new Tensor(cnn, check(M, M.loadImage(u8, JSON.stringify(options))));
    },
    /** PNG file bytes of an image tensor (H, W, C) with values in [0, 1]. */
    encodePng(image) {
      return cnn._with(image, (t) => check(M, M.encodePng(t.handle)));
    },
    /**
     * Copies a dataset into the engine. `files`: a FileList / File[] (paths from
     * webkitRelativePath, the chosen folder's name dropped) or {path, bytes}
     * records (Node). `folders`: class folders that hold no files (optional).
     */
    async files(files, { folders = [] } = {}) {
      const set = new FileSet();
      try {
        for (const f of Array.from(files)) {
          if (f && typeof f.arrayBuffer === 'function' && !('bytes' in f)) {
            check(M, set._h.add(relativePath(f), new Uint8Array(await f.arrayBuffer())));
          } else if (f && typeof f.path === 'string' && f.bytes) {
            check(M, set._h.add(f.path, f.bytes instanceof Uint8Array ? f.bytes : new Uint8Array(f.bytes)));
          } else {
            throw new Error('data.files: expected File objects or {path, bytes} records');
          }
        }
        for (const name of folders) set._h.addFolder(name);
        return set;
      } catch (e) {
        set.dispose();  // what was copied so far goes back to the engine's heap
        throw e;
      }
    },
    /** One flow straight from files: cnn.data.fromFiles(files, {targetSize, ..., subset}). */
    async fromFiles(files, options = {}) {
      const set = files instanceof FileSet ? files : await this.files(files);
      const flow = set.flow(options);
      if (!(files instanceof FileSet)) set.dispose();  // the flow keeps the files it needs
      return flow;
    },
  };
}
