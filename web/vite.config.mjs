// Vite builds the page into web/dist. The engine runs in a module worker;
// its pthread workers are module workers too (bindings/patch_pthread_worker.mjs),
// so workers are emitted as ES modules.
import { defineConfig } from 'vite';

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  worker: { format: 'es' },
  build: {
    outDir: 'dist', emptyOutDir: true, target: 'es2022',
    // The playground, and a course page that embeds it with <cnn-playground> (a live example of the element).
    rollupOptions: { input: { main: 'index.html', embed: 'embed.html' } },
  },
  server: { headers: isolation, fs: { allow: ['..'] } },
  preview: { headers: isolation },
});
