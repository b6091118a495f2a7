// Prepended to the ES-module loader (--extern-pre-js). Emscripten 3.1.6 uses
// require() and __dirname even in ES modules; give them to it under Node.
const __emIsNode = typeof process == 'object' && typeof process.versions == 'object' && typeof process.versions.node == 'string';
const require = __emIsNode ? (await import('node:module')).createRequire(import.meta.url) : undefined;
const __dirname = __emIsNode ? require('node:path').dirname(require('node:url').fileURLToPath(import.meta.url)) : '';
