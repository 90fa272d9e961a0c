// tresor-wasm against @noble/curves and WebCrypto, in Node and in headless Chromium, in one run; prints
// µs/op and ratios as a table and writes target/wasm-bench.json.
//
//   npm --prefix bindings-wasm run build && node benchmarks/wasm/run.mjs [--min-ms 300] [--rounds 3]
//   (bash scripts/wasm.sh bench does both)

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { runBench } from "./bench.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const repo = resolve(here, "..", "..");
const pkg = join(repo, "bindings-wasm");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const minMs = arg("--min-ms", 300);
const rounds = arg("--rounds", 3);
const mod = (p) => import(pathToFileURL(join(pkg, p)).href);

const lib = await mod("dist/index.js");
const { ed25519 } = await mod("node_modules/@noble/curves/ed25519.js");
const { p256, p384 } = await mod("node_modules/@noble/curves/nist.js");
const nobleVersion = JSON.parse(readFileSync(join(pkg, "node_modules/@noble/curves/package.json"), "utf8")).version;
const buildInfo = JSON.parse(readFileSync(join(pkg, "dist/build-info.json"), "utf8"));

const log = (l) => console.log(l);
console.log(`# Node ${process.version}, @noble/curves ${nobleVersion}, tresor-wasm ${lib.VERSION} (wasm-opt ${buildInfo.wasm_opt}, simd128 ${buildInfo.simd128})`);
const nodeRows = await runBench({ lib, noble: { ed25519, p256, p384 }, subtle: globalThis.crypto.subtle, minMs, rounds, log });

let chromiumRows = null;
let userAgent = null;
{
  const { startServer } = await import(pathToFileURL(join(pkg, "tests/server.mjs")).href);
  const { launch } = await import(pathToFileURL(join(pkg, "tests/browser.mjs")).href);
  const server = await startServer({ root: repo });
  const browser = await launch(server.url);
  try {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/benchmarks/wasm/bench.html?minMs=${minMs}&rounds=${rounds}`);
    await page.waitForFunction(() => window.__bench !== undefined, null, { timeout: 600_000 });
    const r = await page.evaluate(() => window.__bench);
    if (r.error) throw new Error(`benchmark in Chromium failed: ${r.error}`);
    for (const l of r.lines) console.log(l.replace(/^# /, "# chromium: "));
    chromiumRows = r.rows;
    userAgent = r.userAgent;
    if (browser.foreign.length) throw new Error(`foreign requests: ${browser.foreign.join(", ")}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

const f = (x) => (x === null ? "n/a" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const r = (x) => (x === null ? "n/a" : `${x.toFixed(2)}×`);
const lines = [
  "| runtime | operation | tresor-wasm µs/op | @noble/curves µs/op | WebCrypto µs/op | noble ÷ tresor | WebCrypto ÷ tresor |",
  "|---|---|---:|---:|---:|---:|---:|",
];
for (const [runtime, rows] of [["Node " + process.version, nodeRows], ["Chromium " + (/Chrome\/([\d.]+)/.exec(userAgent)?.[1] ?? ""), chromiumRows]]) {
  for (const row of rows) {
    lines.push(`| ${runtime} | ${row.op} | ${f(row.tresor_us)} | ${f(row.noble_us)} | ${f(row.webcrypto_us)} | ${r(row.noble_ratio)} | ${r(row.webcrypto_ratio)} |`);
  }
}
console.log("\n" + lines.join("\n") + "\n");
console.log("ratios > 1 mean tresor-wasm is faster; wasm gzipped: " + (buildInfo.wasm_gzip_bytes / 1000).toFixed(1) + " KB");

// The goals of issue 14: Ed25519 ≥ 10× noble and faster than WebCrypto; P-256 and P-384 ahead of noble.
const goals = [];
for (const [runtime, rows] of [["node", nodeRows], ["chromium", chromiumRows]]) {
  const ed = rows.find((x) => x.op.startsWith("Ed25519"));
  goals.push([`${runtime}: Ed25519 ≥ 10× @noble/curves`, ed.noble_ratio >= 10]);
  if (ed.webcrypto_ratio !== null) goals.push([`${runtime}: Ed25519 faster than WebCrypto`, ed.webcrypto_ratio > 1]);
  for (const op of ["ECDSA P-256 verify", "ECDSA P-384 verify"]) {
    goals.push([`${runtime}: ${op} ahead of @noble/curves`, rows.find((x) => x.op === op).noble_ratio > 1]);
  }
}
for (const [g, ok] of goals) console.log(`${ok ? "met" : "NOT MET"}: ${g}`);

mkdirSync(join(repo, "target"), { recursive: true });
writeFileSync(
  join(repo, "target", "wasm-bench.json"),
  JSON.stringify({ node: process.version, chromium: userAgent, noble: nobleVersion, build: buildInfo, nodeRows, chromiumRows, goals }, null, 1) + "\n",
);
