// Runs tests/suite.mjs in the page and leaves the results in window.__results for tests/browser.mjs.
import * as lib from "tresor-wasm";
import { errorKindTable } from "/bindings-wasm/dist/tresor-error.js";
import { defineSuite } from "./suite.mjs";

const tests = [];
const results = [];
const notes = [];
const artifacts = {};
const get = async (p) => {
  const r = await fetch(p, { cache: "no-store" });
  if (!r.ok) throw new Error(`GET ${p}: ${r.status}`);
  return r;
};

try {
  const fixtures = await (await get("/target/wasm-fixtures/fixtures.json")).json();
  defineSuite({
    test: (name, fn) => tests.push({ name, fn }),
    lib,
    env: "chromium",
    fixtures,
    errorKindTable,
    readme: await (await get("/bindings-wasm/README.md")).text(),
    readText: async (p) => (await get(`/${p}`)).text(),
    listVectors: async () => (await get("/__list/tests/vectors")).json(),
    artifact: (name, value) => {
      artifacts[name] = value;
    },
    note: (msg) => notes.push(msg),
    runExample: async (source, log) => {
      const original = console.log;
      console.log = (...args) => log(args.map(String).join(" "));
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      try {
        await import(url);
      } finally {
        console.log = original;
        URL.revokeObjectURL(url);
      }
    },
  });
  for (const t of tests) {
    const started = performance.now();
    try {
      await t.fn();
      results.push({ name: t.name, ok: true, ms: performance.now() - started });
    } catch (e) {
      results.push({ name: t.name, ok: false, ms: performance.now() - started, error: `${e?.message ?? e}\n${e?.stack ?? ""}` });
    }
  }
} catch (e) {
  results.push({ name: "suite setup", ok: false, error: `${e?.message ?? e}\n${e?.stack ?? ""}` });
}
document.getElementById("out").textContent = results.map((r) => `${r.ok ? "ok" : "not ok"} - ${r.name}`).join("\n");
window.__results = { results, notes, artifacts, userAgent: navigator.userAgent };
