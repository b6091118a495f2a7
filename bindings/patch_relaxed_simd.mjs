// usage: node bindings/patch_relaxed_simd.mjs cnn-st-relaxed.wasm
//
// Emscripten 3.1.6's LLVM 14 emits the relaxed-SIMD proposal's prototype
// encoding of f32x4.fma (0xfd 0xaf 0x01), which no shipping engine accepts;
// the standard's f32x4.relaxed_madd is 0xfd 0x85 0x02, the same length, with
// the operands in the order the kernels pass them (x * y + z). This rewrites
// each one in place. The code section is decoded instruction by instruction,
// so only opcodes are touched, never immediates or data that happen to hold
// those bytes; each function must decode to its last byte with its blocks
// balanced, or the script fails. A module with no f32x4.fma at all fails too:
// the relaxed kernels were not compiled in.
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PROTOTYPE_FMA = 0xaf;
const RELAXED_MADD = 0x105;
// SIMD opcodes the final standard leaves unassigned, where the prototype put
// its other relaxed instructions: the engines reject them, so finding one
// means the build used something this script does not translate.
const PROTOTYPE_GAPS = new Set([0xa2, 0xa5, 0xa6, 0xb0, 0xb2, 0xb3, 0xb4, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3,
                                0xd4, 0xe2, 0xee]);

class Reader {
  constructor(bytes, pos, end) {
    Object.assign(this, { bytes, pos, end });
  }
  byte() {
    if (this.pos >= this.end) throw new Error(`read past the end at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }
  u32() {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      if (shift > 63) throw new Error(`LEB128 too long at byte ${this.pos}`);
    }
  }
  skip(n) {
    this.pos += n;
    if (this.pos > this.end) throw new Error(`read past the end at byte ${this.pos}`);
  }
  memarg() {
    this.u32();
    this.u32();
  }
  blocktype() {
    const b = this.bytes[this.pos];
    if (b === 0x40 || (b >= 0x6f && b <= 0x7f)) this.pos++;  // empty or a value type
    else this.u32();  // a type index (s33; non-negative here)
  }
}

// Decodes one function body [pos, end): the offsets of the sub-opcodes of its
// prototype f32x4.fma instructions, and how many f32x4.relaxed_madd it has
// already (a module patched before, or from a newer LLVM).
function fmaOffsets(bytes, pos, end) {
  const r = new Reader(bytes, pos, end);
  for (let groups = r.u32(); groups > 0; --groups) {  // locals
    r.u32();
    r.byte();
  }
  const found = [];
  let standard = 0;
  let depth = 0;  // open blocks; the body's own end closes depth 0
  while (r.pos < end) {
    const op = r.byte();
    if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06) {  // block loop if try
      r.blocktype();
      ++depth;
    } else if (op === 0x0b) {  // end
      if (--depth < 0) break;
    } else if (op === 0x18) {  // delegate: ends its try block
      r.u32();
      --depth;
    } else if ([0x07, 0x08, 0x09, 0x0c, 0x0d, 0x10, 0x12, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26,
                0xd2].includes(op)) {
      r.u32();  // catch throw rethrow br br_if call return_call, locals, globals, tables, ref.func
    } else if (op === 0x0e) {  // br_table
      for (let n = r.u32() + 1; n > 0; --n) r.u32();
    } else if (op === 0x11 || op === 0x13) {  // call_indirect, return_call_indirect
      r.u32();
      r.u32();
    } else if (op === 0x1c) {  // select with types
      r.skip(r.u32());
    } else if (op >= 0x28 && op <= 0x3e) {  // loads and stores
      r.memarg();
    } else if (op === 0x3f || op === 0x40 || op === 0xd0) {  // memory.size/grow (memory 0), ref.null
      r.byte();
    } else if (op === 0x41 || op === 0x42) {  // i32/i64.const
      while (r.byte() & 0x80);
    } else if (op === 0x43) {
      r.skip(4);
    } else if (op === 0x44) {
      r.skip(8);
    } else if (op === 0xfc) {
      const sub = r.u32();
      if (sub === 8 || sub === 12 || sub === 14) { r.u32(); r.u32(); }  // memory.init table.init table.copy
      else if (sub === 10) r.skip(2);  // memory.copy
      else if (sub === 9 || sub === 11 || sub === 13 || (sub >= 15 && sub <= 17)) r.u32();
      else if (sub > 7) throw new Error(`unknown opcode 0xfc ${sub} at byte ${r.pos}`);
    } else if (op === 0xfd) {
      const at = r.pos;
      const sub = r.u32();
      if (sub <= 11 || sub === 92 || sub === 93) r.memarg();  // loads, store, load32/64_zero
      else if (sub === 12 || sub === 13) r.skip(16);  // v128.const, i8x16.shuffle
      else if (sub >= 21 && sub <= 34) r.byte();  // lane index
      else if (sub >= 84 && sub <= 91) { r.memarg(); r.byte(); }  // load/store lane
      else if (sub === PROTOTYPE_FMA) {
        // Rewritten in place, so it must be the two bytes af 01 (minimal LEB128).
        if (r.pos - at !== 2) throw new Error(`f32x4.fma at byte ${at} is not encoded in two bytes`);
        found.push(at);
      }
      else if (sub === RELAXED_MADD) ++standard;
      else if (PROTOTYPE_GAPS.has(sub) || sub > 0x113)
        throw new Error(`SIMD opcode 0x${sub.toString(16)} at byte ${at} is not standard SIMD128`);
    } else if (op === 0xfe) {  // atomics
      const sub = r.u32();
      if (sub === 0x03) r.byte();  // atomic.fence
      else r.memarg();
    } else if (!((op >= 0x45 && op <= 0xc4) || [0x00, 0x01, 0x05, 0x0f, 0x19, 0x1a, 0x1b, 0xd1].includes(op))) {
      throw new Error(`unknown opcode 0x${op.toString(16)} at byte ${r.pos - 1}`);
    }
  }
  if (depth !== -1 || r.pos !== end)
    throw new Error(`a function body did not decode to its end (byte ${r.pos} of ${pos}..${end})`);
  return { found, standard };
}

/**
 * Rewrites bytes in place; returns how many instructions it changed
 * (`patched`) and how many were f32x4.relaxed_madd already (`standard`).
 */
export function patchRelaxedSimd(bytes) {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw new Error('not a WebAssembly module');
  const r = new Reader(bytes, 8, bytes.length);
  let patched = 0;
  let standard = 0;
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (id === 10) {  // code
      const body = new Reader(bytes, r.pos, end);
      for (let n = body.u32(); n > 0; --n) {
        const len = body.u32();
        const fn = fmaOffsets(bytes, body.pos, body.pos + len);
        standard += fn.standard;
        for (const at of fn.found) {
          bytes[at] = 0x80 | (RELAXED_MADD & 0x7f);  // LEB128 of 0x105: 0x85 0x02
          bytes[at + 1] = RELAXED_MADD >> 7;
          ++patched;
        }
        body.skip(len);
      }
    }
    r.pos = end;
  }
  return { patched, standard };
}

// Run as a script (not imported): compared as real paths, so a path with
// spaces or a symlink still runs it.
if (process.argv[1] && realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1])) {
  const file = process.argv[2];
  const bytes = readFileSync(file);
  const { patched, standard } = patchRelaxedSimd(bytes);
  if (patched + standard === 0) {
    console.error(`${file}: no f32x4.fma found; was it compiled with -mrelaxed-simd?`);
    process.exit(1);
  }
  // Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd.
  if (!WebAssembly.validate(bytes)) (await import('node:v8')).setFlagsFromString('--experimental-wasm-relaxed-simd');
  if (!WebAssembly.validate(bytes)) {
    console.error(`${file}: not a valid module after the rewrite`);
    process.exit(1);
  }
  writeFileSync(file, bytes);
  console.log(`${file}: ${patched} f32x4.fma rewritten as f32x4.relaxed_madd` +
              (standard ? ` (${standard} were already)` : ''));
}
