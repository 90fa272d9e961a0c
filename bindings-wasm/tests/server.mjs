// A static file server on 127.0.0.1 for the Chromium tests, the demo and the browser benchmarks. It serves
// one directory (default: the repository root), sends .wasm as application/wasm, lists a directory's
// *.json files at /__list/<dir>, and never serves anything outside its root.
//
//   node tests/server.mjs [--root <dir>] [--port <n>]   (the demo: npm run demo)

import { createServer } from "node:http";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
  ".pem": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

export function startServer({ root = resolve(fileURLToPath(import.meta.url), "..", "..", ".."), port = 0 } = {}) {
  root = resolve(root);
  const inside = (p) => p === root || p.startsWith(root + sep);
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    const path = decodeURIComponent(url.pathname);
    const send = (status, type, body) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" });
      res.end(body);
    };
    if (path.startsWith("/__list/")) {
      const dir = resolve(root, "." + path.slice("/__list".length));
      if (!inside(dir)) return send(403, "text/plain", "forbidden");
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : [];
      return send(200, TYPES[".json"], JSON.stringify(files));
    }
    let file = resolve(root, "." + path);
    if (!inside(file)) return send(403, "text/plain", "forbidden");
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file) || !statSync(file).isFile()) return send(404, "text/plain", "not found");
    send(200, TYPES[extname(file)] ?? "application/octet-stream", readFileSync(file));
  });
  return new Promise((ok) => {
    server.listen(port, "127.0.0.1", () => {
      const { port: p } = server.address();
      ok({ url: `http://127.0.0.1:${p}`, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const root = arg("--root");
  const { url } = await startServer({ root: root ? resolve(root) : undefined, port: Number(arg("--port") ?? 8080) });
  console.log(`serving ${root ?? "the repository"} at ${url}/ (Ctrl-C to stop)`);
  if (!root) console.log(`demo: ${url}/bindings-wasm/demo/`);
}
