// tresor-wasm against @noble/curves and WebCrypto, in Node and in headless Chromium, in one run; prints
// µs/op and ratios as a table and writes target/wasm-bench.json.
//
//   npm --prefix bindings-wasm run build && node benchmarks/wasm/run.mjs [--min-ms 300] [--rounds 5]
//   (bash scripts/wasm.sh bench does both)

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
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
const rounds = arg("--rounds", 5);
const mod = (p) => import(pathToFileURL(join(pkg, p)).href);

const lib = await mod("dist/index.js");
const { ed25519 } = await mod("node_modules/@noble/curves/ed25519.js");
const { p256, p384 } = await mod("node_modules/@noble/curves/nist.js");
const nobleVersion = JSON.parse(readFileSync(join(pkg, "node_modules/@noble/curves/package.json"), "utf8")).version;
const buildInfo = JSON.parse(readFileSync(join(pkg, "dist/build-info.json"), "utf8"));

const log = (l) => console.log(l);
const load = () => loadavg()[0].toFixed(1);
const loadBefore = load();
console.log(`# ${cpus().length} CPUs, load average ${loadBefore} (other processes skew wall-clock timings; compare ratios from one run)`);
console.log(`# Node ${process.version}, @noble/curves ${nobleVersion}, tresor-wasm ${lib.VERSION} (wasm-opt ${buildInfo.wasm_opt}, simd128 ${buildInfo.simd128})`);
const nodeRows = await runBench({ lib, noble: { ed25519, p256, p384 }, subtle: globalThis.crypto.subtle, minMs, rounds, log });
// The same in CPU time of the whole process (every thread, so WebCrypto's worker thread counts): what each
// verification costs in work, which the load of other processes on a shared machine does not inflate.
const cpuClock = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const nodeCpuRows = await runBench({
  lib, noble: { ed25519, p256, p384 }, subtle: globalThis.crypto.subtle, minMs, rounds, clock: cpuClock,
  log: (l) => log(l.replace(/^# /, "# node, CPU time: ")),
});

// What WebCrypto runs underneath in Node: OpenSSL's verification, here called synchronously (no thread
// hop, no promise), for the explanation of the WebCrypto column. Not part of the comparison.
const native = await nativeOpenSsl(minMs);

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
  "| runtime | operation | key | tresor-wasm µs/op | @noble/curves µs/op | WebCrypto µs/op | noble ÷ tresor | WebCrypto ÷ tresor |",
  "|---|---|---|---:|---:|---:|---:|---:|",
];
for (const [runtime, rows] of [["Node " + process.version, nodeRows], [`Node ${process.version}, CPU time`, nodeCpuRows], ["Chromium " + (/Chrome\/([\d.]+)/.exec(userAgent)?.[1] ?? ""), chromiumRows]]) {
  for (const row of rows) {
    lines.push(`| ${runtime} | ${row.op} | ${row.mode} | ${f(row.tresor_us)} | ${f(row.noble_us)} | ${f(row.webcrypto_us)} | ${r(row.noble_ratio)} | ${r(row.webcrypto_ratio)} |`);
  }
}
console.log("\n" + lines.join("\n") + "\n");
console.log("ratios > 1 mean tresor-wasm is faster; wasm gzipped: " + (buildInfo.wasm_gzip_bytes / 1000).toFixed(1) + " KB");
console.log(`load average ${loadBefore} before the run, ${load()} after it (${cpus().length} CPUs)`);
console.log(`Node's OpenSSL called synchronously (node:crypto verify, what its WebCrypto runs on a worker thread): ${native.map(([op, us]) => `${op} ${f(us)} µs`).join(", ")}`);

// The goals of issue 14, checked for both ways of holding the keys: Ed25519 ≥ 10× noble and faster than
// WebCrypto; P-256 and P-384 ahead of noble.
const goals = [];
for (const [runtime, all] of [["node", nodeRows], ["node, CPU time", nodeCpuRows], ["chromium", chromiumRows]]) {
  for (const mode of ["parsed key", "key bytes"]) {
    const rows = all.filter((x) => x.mode === mode);
    const ed = rows.find((x) => x.op.startsWith("Ed25519"));
    goals.push([`${runtime}, ${mode}: Ed25519 ≥ 10× @noble/curves (${ed.noble_ratio.toFixed(2)}×)`, ed.noble_ratio >= 10]);
    if (ed.webcrypto_ratio !== null) {
      goals.push([`${runtime}, ${mode}: Ed25519 faster than WebCrypto (${ed.webcrypto_ratio.toFixed(2)}×)`, ed.webcrypto_ratio > 1]);
    }
    for (const op of ["ECDSA P-256 verify", "ECDSA P-384 verify"]) {
      const row = rows.find((x) => x.op === op);
      goals.push([`${runtime}, ${mode}: ${op} ahead of @noble/curves (${row.noble_ratio.toFixed(2)}×)`, row.noble_ratio > 1]);
    }
  }
}
for (const [g, ok] of goals) console.log(`${ok ? "met" : "NOT MET"}: ${g}`);

mkdirSync(join(repo, "target"), { recursive: true });
writeFileSync(
  join(repo, "target", "wasm-bench.json"),
  JSON.stringify({ loadavg: [loadBefore, load()], node: process.version, chromium: userAgent, noble: nobleVersion, build: buildInfo, nodeRows, nodeCpuRows, chromiumRows, nativeOpenSsl: native, goals }, null, 1) + "\n",
);

async function nativeOpenSsl(ms) {
  const nodeCrypto = await import("node:crypto");
  const m = Buffer.from("a Canton topology transaction, more or less this long: " + "x".repeat(64));
  const out = [];
  for (const [op, type, opts, hash] of [
    ["Ed25519", "ed25519", {}, null],
    ["P-256", "ec", { namedCurve: "P-256" }, "sha256"],
    ["P-384", "ec", { namedCurve: "P-384" }, "sha384"],
  ]) {
    const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync(type, opts);
    const sig = nodeCrypto.sign(hash, m, privateKey);
    const samples = [];
    for (let r = 0; r < rounds; r++) {
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < ms) {
        if (!nodeCrypto.verify(hash, m, publicKey, sig)) throw new Error(`OpenSSL rejected its own ${op} signature`);
        n++;
      }
      samples.push(((performance.now() - start) * 1000) / n);
    }
    samples.sort((a, b) => a - b);
    out.push([op, samples[Math.floor(samples.length / 2)]]);
  }
  return out;
}
