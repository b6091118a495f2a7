// The npm package as a user gets it: pack, install the tarball offline into a
// scratch project, import 'cnn-playground' from a plain Node script, train.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { root } from './helpers.mjs';

test('npm pack -> offline install -> import and train one epoch', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnp-pkg-'));
  try {
    const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', scratch],
                                           { cwd: root, encoding: 'utf8' }));
    const files = packed[0].files.map((f) => f.path).sort();
    // Only what a user needs: the JS API, its types, the wasm builds, the built page (for <cnn-playground>), docs.
    for (const f of files)
      assert.match(f, /^(bindings\/js\/[\w-]+\.(mjs|d\.ts)|dist\/wasm\/cnn-(st|mt)(-relaxed)?\.(mjs|wasm|worker\.js)|web\/dist\/[\w./-]+|package\.json|README\.md|LICENSE)$/,
                   `unexpected file in the package: ${f}`);
    for (const f of ['dist/wasm/cnn-st.wasm', 'dist/wasm/cnn-mt.wasm', 'dist/wasm/cnn-mt.worker.js',
                     'dist/wasm/cnn-st-relaxed.wasm', 'dist/wasm/cnn-mt-relaxed.wasm',
                     'dist/wasm/cnn-mt-relaxed.worker.js', 'bindings/js/index.mjs',
                     'bindings/js/index.d.ts', 'bindings/js/element.mjs', 'web/dist/index.html'])
      assert.ok(files.includes(f), `missing ${f}`);

    // Offline, npm resolves a dependency's version range from the registry's
    // metadata, which `npm ci` never caches (it installs from the lockfile),
    // so on a fresh machine the install failed with ENOTCACHED. The runtime
    // dependencies are packed from node_modules instead (the versions
    // package-lock.json pinned) and installed beside the package.
    const { dependencies = {} } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const tarballs = Object.keys(dependencies).map((name) => {
      const [dep] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', scratch,
                                                    path.join(root, 'node_modules', name)],
                                            { cwd: root, encoding: 'utf8' }));
      return path.join(scratch, dep.filename);
    });
    const app = path.join(scratch, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }));
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', ...tarballs,
                         path.join(scratch, packed[0].filename)],
                 { cwd: app, stdio: 'pipe' });
    fs.writeFileSync(path.join(app, 'train.mjs'), `
      import { loadCnn } from 'cnn-playground';
      for (const [threads, simd] of [[false, 'simd128'], [true, 'simd128'], [false, 'relaxed'], [true, 'relaxed']]) {
        const cnn = await loadCnn({ threads, simd });
        const { x, y } = cnn.data.syntheticTask({ samples: 64, height: 12, width: 12, classes: 3 });
        const model = cnn.sequential([
          cnn.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
          cnn.layers.flatten(),
          cnn.layers.dense({ units: 3, activation: 'softmax' }),
        ]);
        model.compile({ optimizer: cnn.optimizers.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
        const h = await model.fit(x, y, { batchSize: 16, epochs: 1 });
        // Keras .h5 files go through the h5wasm dependency the install brought.
        const back = await cnn.loadKerasModel(await model.saveKeras());
        if (back.countParams() !== model.countParams()) throw new Error('the .h5 round trip lost weights');
        back.dispose();
        console.log(JSON.stringify({ variant: cnn.backend.variant, simd: cnn.backend.simd, loss: h.history.loss[0] }));
        model.dispose(); x.dispose(); y.dispose();
      }
    `);
    // Node 20 runs the relaxed-SIMD builds behind a V8 flag.
    const v8Options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    const flags = v8Options.includes('--experimental-wasm-relaxed-simd') ? ['--experimental-wasm-relaxed-simd'] : [];
    const out = execFileSync(process.execPath, [...flags, 'train.mjs'], { cwd: app, encoding: 'utf8', timeout: 60000 });
    // The element's module resolves through the package's exports, and builds the page URL from its attributes.
    fs.writeFileSync(path.join(app, 'element.mjs'), `
      import { playgroundUrl } from 'cnn-playground/element';
      console.log(playgroundUrl('https://course.example/playground/index.html', { sections: 'data,model', preset: 'lenet', persist: 'false' }));
    `);
    assert.equal(execFileSync(process.execPath, ['element.mjs'], { cwd: app, encoding: 'utf8' }).trim(),
                 'https://course.example/playground/index.html?sections=data%2Cmodel&preset=lenet&persist=0&embed=1');
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => `${l.variant} ${l.simd}`),
                     ['single-thread wasm-simd128', 'threaded wasm-simd128', 'single-thread wasm-relaxed-simd',
                      'threaded wasm-relaxed-simd']);
    for (const l of lines) assert.ok(Number.isFinite(l.loss) && l.loss > 0);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});
