// A static server for the built page (web/dist) on 127.0.0.1:$PORT (8080).
// It sends the COOP/COEP headers that let the threaded engine run; with
// --no-isolation it leaves them out (the page then uses the single-thread build).
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');
const isolated = !process.argv.includes('--no-isolation');
// The page's Content-Security-Policy (also a <meta> in web/index.html, for
// static hosts): sent with every file, so the engine's workers run under it
// too. embed.html, the example course page, keeps its own inline styles.
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
  "connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; font-src 'self'; object-src 'none'; " +
  "base-uri 'self'; form-action 'none'";
const port = Number(process.env.PORT ?? 8080);
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
                '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png',
                '.svg': 'image/svg+xml' };

if (!fs.existsSync(path.join(root, 'index.html'))) {
  console.error(`serve: ${root}/index.html is missing; build the page first (npm run build)`);
  process.exit(1);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  let file = path.normalize(path.join(root, decodeURIComponent(url.pathname)));
  if (!file.startsWith(root)) {
    res.writeHead(403).end();
    return;
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  fs.readFile(file, (err, body) => {
    if (err) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const headers = { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' };
    if (path.basename(file) !== 'embed.html') headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
    if (isolated) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    res.writeHead(200, headers).end(body);
  });
});
server.listen(port, '127.0.0.1', () => {
  console.log(`CNN Playground on http://127.0.0.1:${port}/ (${isolated ? 'cross-origin isolated: threaded engine' : 'not isolated: single-thread engine'})`);
});
