// bench/openblas-core.mjs: which kernels the OpenBLAS peers are told to run.
import assert from 'node:assert/strict';
import test from 'node:test';
import { fittedCoreType } from '../../bench/openblas-core.mjs';

test('a core OpenBLAS took without AVX2 on an AVX2 or AVX-512 CPU is replaced', () => {
  assert.equal(fittedCoreType('Prescott', ['sse4_1', 'avx', 'avx2', 'fma', 'avx512f']), 'SkylakeX');
  assert.equal(fittedCoreType('Sandybridge', ['sse4_1', 'avx', 'avx2', 'fma']), 'Haswell');
});

test("OpenBLAS's own AVX2 or AVX-512 choice, and any choice on a CPU without AVX2, are kept", () => {
  assert.equal(fittedCoreType('Zen', ['avx2', 'fma', 'avx512f']), null);
  assert.equal(fittedCoreType('SkylakeX', ['avx2', 'avx512f']), null);
  assert.equal(fittedCoreType('Haswell', ['avx2']), null);
  assert.equal(fittedCoreType('Nehalem', ['sse4_1', 'sse4_2']), null);
});
