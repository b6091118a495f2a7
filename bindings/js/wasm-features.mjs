// What the engine's WebAssembly needs from the browser, checked before it is
// loaded: without it, instantiating fails with a bare CompileError about an
// opcode, which tells a learner nothing.

const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

// A function returning v128.const 0: valid only where 128-bit SIMD is.
const simdModule = new Uint8Array([
  ...header,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,  // type: () -> v128
  0x03, 0x02, 0x01, 0x00,  // one function of that type
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array(16).fill(0), 0x0b,  // v128.const 0
]);

// A tag, and a function that throws it inside try ... catch: the exception
// handling Emscripten's -fwasm-exceptions emits (the single-thread build).
const exceptionsModule = new Uint8Array([
  ...header,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00,  // type: () -> ()
  0x03, 0x02, 0x01, 0x00,  // one function of that type
  0x0d, 0x03, 0x01, 0x00, 0x00,  // one tag of that type
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x06, 0x40, 0x08, 0x00, 0x07, 0x00, 0x0b, 0x0b,  // try; throw 0; catch 0; end
]);

// A function (v128, v128, v128) -> v128 of f32x4.relaxed_madd: valid only
// where relaxed SIMD is (Chrome 114 and Firefox 146 on; Node 20 behind
// --experimental-wasm-relaxed-simd).
export const relaxedSimdModule = new Uint8Array([
  ...header,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,  // type: (v128, v128, v128) -> v128
  0x03, 0x02, 0x01, 0x00,  // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,  // relaxed_madd
]);

/** Whether this JavaScript engine runs the relaxed-SIMD modules (fused multiply-adds). */
export function hasRelaxedSimd(validate = (bytes) => WebAssembly.validate(bytes)) {
  return validate(relaxedSimdModule);
}

const required = [
  { name: 'WebAssembly SIMD', module: simdModule, variants: ['single-thread', 'threaded'] },
  { name: 'WebAssembly exception handling', module: exceptionsModule, variants: ['single-thread'] },
];

/**
 * The features a build variant ('single-thread' or 'threaded') needs that
 * this JavaScript engine lacks, by name; empty when it can run.
 * `validate` stands in for WebAssembly.validate (tests).
 */
export function missingWasmFeatures(variant, validate = (bytes) => WebAssembly.validate(bytes)) {
  return required.filter((f) => f.variants.includes(variant) && !validate(f.module)).map((f) => f.name);
}

/** Throws an Error naming what is missing and which browsers have it. */
export function checkWasmFeatures(variant, validate) {
  const missing = missingWasmFeatures(variant, validate);
  if (missing.length)
    throw new Error(`loadCnn: this browser lacks ${missing.join(' and ')}, which the engine's ` +
                    `${variant} build needs (Chrome 95, Firefox 100, Safari 16.4 or later)`);
}
