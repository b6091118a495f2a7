// The JS edge for Keras HDF5 files: h5wasm reads a file's groups, string
// attributes and datasets into the engine's KerasFile (the core maps them to
// layers), and writes a KerasFile the core filled back out as .h5 bytes.
// h5wasm is loaded on first use, so pages that never touch .h5 files never
// download it.

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

let h5Loading = null;
let fileCounter = 0;

async function loadH5wasm() {
  if (!h5Loading) {
    h5Loading = import('h5wasm').then(async (mod) => {
      const h5wasm = mod.default ?? mod;
      const Module = await h5wasm.ready;
      return { h5wasm, Module, FS: Module.FS };
    });
  }
  return h5Loading;
}

function toBytes(bytes) {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new Error('Keras file: expected the file\'s bytes (Uint8Array or ArrayBuffer)');
}

/** Whether the bytes start with a zip's signature: Keras 3's .keras archive. */
export function isZip(bytes) {
  const u8 = toBytes(bytes);
  return u8.length >= 4 && u8[0] === 0x50 && u8[1] === 0x4b && u8[2] === 3 && u8[3] === 4;
}

/** Whether the bytes start with HDF5's signature. */
export function isHdf5(bytes) {
  const u8 = toBytes(bytes);
  return u8.length >= 8 && HDF5_SIGNATURE.every((b, i) => u8[i] === b);
}

// windows-1252's characters for the bytes 0x80-0x9f, back to those bytes.
let cp1252Bytes = null;
// h5py (for Keras) and cnnp write UTF-8 bytes under HDF5's ASCII character
// set, and h5wasm decodes such strings byte by byte (windows-1252 for fixed
// length, Latin-1 for variable length): a class named 'café' came back as
// 'cafÃ©'. This takes the bytes back and decodes them as the UTF-8 they are.
function utf8(text) {
  if (!/[^\x00-\x7f]/.test(text)) return text;
  if (!cp1252Bytes) {
    cp1252Bytes = new Map();
    const decoder = new TextDecoder('windows-1252');
    for (let b = 0x80; b < 0xa0; b++) cp1252Bytes.set(decoder.decode(Uint8Array.of(b)).charCodeAt(0), b);
  }
  const bytes = [];
  for (const ch of text) {
    const code = ch.codePointAt(0);
    const b = code < 0x100 ? code : cp1252Bytes.get(code);
    if (b === undefined) return text;  // not a byte-by-byte decoding: leave it
    bytes.push(b);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return text;  // not UTF-8 either (Latin-1 text of some other writer)
  }
}

// An attribute's value as a string, a list of strings, or undefined (numbers
// and other types: the Keras formats keep none the engine needs).
function textValue(attr) {
  let v;
  try {
    v = attr.value;
  } catch {
    return undefined;
  }
  const ascii = attr.metadata?.cset !== 1;  // 1: HDF5's UTF-8 character set, already decoded right
  const fix = (s) => (ascii ? utf8(s) : s);
  if (typeof v === 'string') return fix(v);
  if (Array.isArray(v)) return v.every((s) => typeof s === 'string') ? v.map(fix) : undefined;
  if (ArrayBuffer.isView(v) && v.length === 0) return [];  // Keras's empty weight_names: float64[0]
  return undefined;
}

// IEEE half-precision bits as a number.
function halfToNumber(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;  // zero and subnormals
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

// A 2-byte float dataset's bytes (h5wasm 0.10 has no view for them and
// throws on .value), in the machine's (little-endian) byte order, which
// h5wasm reads them in whatever the file's.
function twoByteFloats(Module, dataset) {
  const bytes = 2 * dataset.metadata.total_size;
  const ptr = Module._malloc(Math.max(bytes, 1));
  if (!ptr) throw new Error(`Keras file: no memory for dataset '${dataset.path}'`);
  try {
    if (Module.get_dataset_data(dataset.file_id, dataset.path, null, null, null, BigInt(ptr)) < 0)
      throw new Error(`Keras file: cannot read dataset '${dataset.path}'`);
    return Module.HEAPU8.slice(ptr, ptr + bytes);
  } finally {
    Module._free(ptr);
  }
}

// float16 (Keras under set_floatx('float16')), widened as the native
// reader's HDF5 widens them.
function halfValues(bytes) {
  const values = new Float32Array(bytes.length / 2);
  for (let i = 0; i < values.length; ++i) values[i] = halfToNumber(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  return values;
}

// bfloat16, the upper half of a float32's bits (little-endian), as float32.
function bfloat16Values(bytes) {
  const values = new Float32Array(bytes.length / 2);
  const bits = new Uint32Array(values.buffer);
  for (let i = 0; i < values.length; ++i) bits[i] = ((bytes[2 * i + 1] << 24) | (bytes[2 * i] << 16)) >>> 0;
  return values;
}

// Keras 3 marks its bfloat16 weights with a dtype attribute.
function markedBfloat16(dataset) {
  try {
    return dataset.attrs?.dtype?.value === 'bfloat16';
  } catch {
    return false;
  }
}

const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const H5T_OPAQUE = 5;

// A dataset's values as the engine's float32 (float64 and integers convert
// as Keras's float32 weights do); null for strings and empty (null
// dataspace) datasets, which no Keras weight is. Any other type is named,
// as the native reader names it.
function datasetValues(h5, dataset) {
  const { type, size, shape } = dataset.metadata;
  if (!shape) return null;
  // Keras 3's bfloat16 is 2-byte opaque data in h5py's files (a float class
  // in HDF5 2.0's, which h5wasm 0.10 describes as it does a half: the mark
  // tells them apart); an unmarked 2-byte float is numpy's float16.
  if (type === H5T_FLOAT && size === 2) {
    const bytes = twoByteFloats(h5, dataset);
    return markedBfloat16(dataset) ? bfloat16Values(bytes) : halfValues(bytes);
  }
  if (type === H5T_OPAQUE && size === 2) return bfloat16Values(dataset.value);
  if (type === H5T_STRING) return null;
  if (type !== H5T_FLOAT && type !== H5T_INTEGER)
    throw new Error(`Keras file: dataset '${dataset.path}' holds neither floats nor integers`);
  const values = dataset.value;
  if (typeof values === 'number' || typeof values === 'bigint') return Float32Array.of(Number(values));  // a scalar
  return values instanceof Float32Array ? values : Float32Array.from(values, Number);
}

// `ok(result)` throws the engine's error of the call just made, if any;
// `progress(done, total)` hears about each top-level group (a layer) read;
// `h5` is h5wasm's module.
function readGroup(h5, group, path, out, ok, progress = null) {
  for (const [name, attr] of Object.entries(group.attrs ?? {})) {
    const v = textValue(attr);
    if (typeof v === 'string') ok(out.setAttr(path, name, v));
    else if (Array.isArray(v)) ok(out.setListAttr(path, name, JSON.stringify(v)));
  }
  const keys = group.keys();
  keys.forEach((key, index) => {
    progress?.(index, keys.length);
    // The optimizer's state (twice the weights for Adam; Keras 3 keeps it under 'optimizer'): never
    // restored here, so never read.
    if (!path && (key === 'optimizer_weights' || key === 'optimizer')) return;
    const obj = group.get(key);
    const childPath = path ? `${path}/${key}` : key;
    if (!obj) return;
    if (obj.type === 'Group') {
      ok(out.addGroup(childPath));
      readGroup(h5, obj, childPath, out, ok);
    } else if (obj.type === 'Dataset') {
      const values = datasetValues(h5, obj);
      if (!values) return;  // strings: the Keras formats keep none among the weights
      ok(out.addDataset(childPath, obj.shape ?? [])).set(values);
    }
  });
  progress?.(keys.length, keys.length);
}

// An HDF5 file's bytes into a new module.KerasFile.
async function readHdf5(module, u8, check, onProgress) {
  const { h5wasm, Module: h5Module, FS } = await loadH5wasm();
  const name = `/cnnp-read-${++fileCounter}.h5`;
  FS.writeFile(name, u8);
  let f = null;
  const out = new module.KerasFile();
  try {
    f = new h5wasm.File(name, 'r');
    // A model.save file keeps its layers one level down, under model_weights.
    const top = f.keys().includes('model_weights') ? null : onProgress;
    readGroup(h5Module, f, '', out, (result) => check(module, result), top);
    return out;
  } catch (e) {
    out.delete();
    throw e instanceof Error && e.message.startsWith('Keras file') ? e
      : new Error(`Keras file: cannot read the HDF5 file (${e?.message ?? e})`);
  } finally {
    try {
      f?.close();
    } finally {
      FS.unlink(name);
    }
  }
}

/**
 * Reads an .h5 file's bytes into a new module.KerasFile (delete() it after use).
 * Throws an Error naming what is wrong when the bytes are not HDF5.
 * `onProgress(done, total)`: layers read so far (weights files).
 */
export async function readKerasFile(module, bytes, check, onProgress = null) {
  const u8 = toBytes(bytes);
  if (isZip(u8))
    throw new Error('Keras file: this is a Keras 3 .keras archive (a zip) where an .h5 file was expected; ' +
                    'load it as a whole model with await cnn.loadKerasModel(bytes)');
  if (!isHdf5(u8))
    throw new Error('Keras file: not an HDF5 file (expected a Keras .h5 file, e.g. ' +
                    'resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5)');
  return readHdf5(module, u8, check, onProgress);
}

/**
 * A Keras 3 .keras archive (model.save('m.keras')): its config.json text and
 * its model.weights.h5 as a new module.KerasFile (delete() it after use).
 * The engine reads the zip's directory and checks each member's checksum.
 */
export async function readKeras3Archive(module, bytes, check) {
  const u8 = toBytes(bytes);
  const { config, weightsOffset, weightsSize } = JSON.parse(check(module, module.keras3Archive(u8)));
  const weights = u8.subarray(weightsOffset, weightsOffset + weightsSize);
  if (!isHdf5(weights)) throw new Error('Keras 3 .keras file: its model.weights.h5 is not an HDF5 file');
  return { config, file: await readHdf5(module, weights, check, null) };
}

function writeGroup(group, node, path, file) {
  for (const [name, value] of Object.entries(node.attrs)) group.create_attribute(name, value);
  // An empty list (a weightless layer's weight_names) as h5py writes it: a zero-length byte-string array.
  for (const [name, values] of Object.entries(node.listAttrs))
    if (values.length) group.create_attribute(name, values);
    else group.create_attribute(name, [], [0], 'S1');
  for (const [name, child] of Object.entries(node.groups)) {
    const childPath = path ? `${path}/${name}` : name;
    // One level at a time: h5wasm's create_group('a/b') does not make 'a'.
    const sub = group.create_group(name);
    if (!sub) throw new Error(`Keras file: cannot create group '${childPath}'`);
    writeGroup(sub, child, childPath, file);
  }
  for (const [name, shape] of Object.entries(node.datasets)) {
    const childPath = path ? `${path}/${name}` : name;
    const values = file.dataset(childPath).slice();  // out of wasm memory before h5wasm allocates
    group.create_dataset({ name, data: values, shape, dtype: '<f' });
  }
}

/** A module.KerasFile written as .h5 bytes. */
export async function writeKerasFile(file) {
  const { h5wasm, FS } = await loadH5wasm();
  const name = `/cnnp-write-${++fileCounter}.h5`;
  const tree = JSON.parse(file.listing());
  let f = new h5wasm.File(name, 'w');
  try {
    writeGroup(f, tree, '', file);
    f.close();
    f = null;
    return FS.readFile(name);
  } finally {
    f?.close();
    try {
      FS.unlink(name);
    } catch {
      // never created
    }
  }
}
