// The Chromium half of the tests: serves the repository on 127.0.0.1, runs tests/suite.mjs in headless
// Chromium (Debian's /usr/bin/chromium through playwright-core), decrypts the ciphertexts the page made
// with the native implementations, and tests the demo page (with a screenshot in target/). The page may
// load nothing but the local server: any other request fails the run.
//
//   npm run build && node tests/browser.mjs        (CHROMIUM=<path> to choose the browser)

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

import { decryptNatively, loadOrGenerate, repo } from "./fixtures.mjs";
import { startServer } from "./server.mjs";
import { fromHex } from "./suite.mjs";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** Launch Debian's Chromium with a throw-away profile; every request must go to `origin`. */
export async function launch(origin) {
  const profile = mkdtempSync(join(tmpdir(), "tresor-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const foreign = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + "/") || url.startsWith("blob:") || url.startsWith("data:")) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  return {
    context,
    foreign,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const results = [];
function record(name, ok, error) {
  results.push({ name, ok, error });
  console.log(`${ok ? "ok" : "not ok"} ${results.length} - ${name}`);
  if (!ok && error) console.log(String(error).replace(/^/gm, "  # "));
}

async function check(name, fn) {
  try {
    await fn();
    record(name, true);
  } catch (e) {
    record(name, false, e?.stack ?? e);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function suiteInPage(browser, origin) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${origin}/bindings-wasm/tests/browser.html`);
  await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 180_000 });
  const r = await page.evaluate(() => window.__results);
  console.log(`# ${r.userAgent}`);
  for (const t of r.results) record(`chromium: ${t.name}`, t.ok, t.error);
  for (const n of r.notes) console.log(`# ${n}`);
  if (errors.length) record("chromium: no uncaught page errors", false, errors.join("\n"));
  await page.close();
  return r.artifacts;
}

async function decryptArtifacts(artifacts, fixtures) {
  await check("chromium: ciphertexts made by WASM in Chromium decrypt natively (tresor CLI; OpenSSL and Python for RSA-OAEP)", () => {
    const names = Object.keys(artifacts).filter((n) => n.startsWith("ct-"));
    assert(names.length > 0, "the page produced no ciphertexts");
    for (const name of names) {
      const a = artifacts[name];
      const entry = fixtures.encryption.find((e) => e.key_spec === a.key_spec);
      const outs = decryptNatively(entry, fromHex(a.ciphertext), `chromium-${name}`);
      assert(outs.length === (a.algorithm === "rsa-oaep-sha-256" ? 3 : 1), `${name}: decrypted by ${outs.map((o) => o.by)}`);
      for (const o of outs) assert(o.plaintext.toString("hex") === a.plaintext, `${name}: ${o.by} decrypted something else`);
    }
  });
}

async function demo(browser, origin, fixtures) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(`${origin}/bindings-wasm/demo/`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 60_000 });

  const fill = async (fields) => {
    const defaults = { key: "", "key-format": "auto", "expected-fp": "", message: "", "message-encoding": "text", signature: "", algorithm: "auto" };
    for (const [id, value] of Object.entries({ ...defaults, ...fields })) {
      if (id === "key-format" || id === "message-encoding" || id === "algorithm") await page.selectOption(`#${id}`, value);
      else await page.fill(`#${id}`, value);
    }
    await page.click("#verify");
    return {
      verdict: await page.getAttribute("#verdict", "data-verdict"),
      text: await page.textContent("#verdict"),
      fingerprint: (await page.isVisible("#key-info")) ? await page.textContent("#result-fp") : null,
      match: (await page.isVisible("#key-info")) ? await page.getAttribute("#result-fp-match", "data-match") : null,
    };
  };

  const ed = fixtures.signatures.find((s) => s.source === "openssl" && s.key_spec === "ec-curve-25519");
  const p256 = fixtures.signatures.find((s) => s.source === "python-cryptography" && s.key_spec === "ec-p-256");
  const p384 = fixtures.signatures.find((s) => s.source === "tresor-cli" && s.key_spec === "ec-p-384");
  const fpOf = (pem) => fixtures.fingerprints.find((f) => f.public_pem === pem)?.fingerprint;
  const b64 = (hex) => Buffer.from(hex, "hex").toString("base64");

  await check("demo: the example button shows a valid signature and a matching fingerprint", async () => {
    await page.click("#example");
    assert((await page.getAttribute("#verdict", "data-verdict")) === "valid", await page.textContent("#verdict"));
    assert((await page.getAttribute("#result-fp-match", "data-match")) === "match", "fingerprint match");
    await page.screenshot({ path: join(repo, "target", "wasm-demo-example.png"), fullPage: true });
  });
  await check("demo: an OpenSSL Ed25519 signature (PEM key, hex message, hex signature) is valid", async () => {
    const r = await fill({ key: ed.public_pem, message: ed.msg, "message-encoding": "hex", signature: ed.sig });
    assert(r.verdict === "valid", r.text);
    assert(/^1220[0-9a-f]{64}$/.test(r.fingerprint), `fingerprint ${r.fingerprint}`);
  });
  await check("demo: a Python P-256 signature in base64 with the key as hex DER is valid", async () => {
    const der = Buffer.from(ed.public_pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    assert(der.length > 0, "DER");
    const pDer = Buffer.from(p256.public_pem.replace(/-----[^-]+-----|\s/g, ""), "base64").toString("hex");
    const r = await fill({ key: pDer, message: p256.msg, "message-encoding": "hex", signature: b64(p256.sig) });
    assert(r.verdict === "valid", r.text);
  });
  await check("demo: the claimed fingerprint is checked against the key (tresor CLI key, P-384)", async () => {
    const fp = fpOf(p384.public_pem);
    assert(fp, "native fingerprint of the P-384 key");
    let r = await fill({ key: p384.public_pem, "expected-fp": fp, message: p384.msg, "message-encoding": "hex", signature: p384.sig });
    assert(r.verdict === "valid" && r.match === "match" && r.fingerprint === fp, JSON.stringify(r));
    r = await fill({ key: p384.public_pem, "expected-fp": fpOf(fixtures.fingerprints[0].public_pem), message: p384.msg, "message-encoding": "hex", signature: p384.sig });
    assert(r.match === "mismatch", JSON.stringify(r));
  });
  await check("demo: a tampered message is invalid", async () => {
    const r = await fill({ key: ed.public_pem, message: ed.msg.replace(/^../, "00"), "message-encoding": "hex", signature: ed.sig });
    assert(r.verdict === "invalid", r.text);
    await page.screenshot({ path: join(repo, "target", "wasm-demo-invalid.png"), fullPage: true });
  });
  await check("demo: malformed input gets a clear message", async () => {
    let r = await fill({ key: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", message: "x", signature: "00" });
    assert(r.verdict === "error" && /malformed/i.test(r.text) && /malformed_key/.test(r.text), r.text);
    r = await fill({ key: ed.public_pem, message: "x", signature: "not a signature!" });
    assert(r.verdict === "error" && /neither hex nor base64/.test(r.text), r.text);
    r = await fill({ key: ed.public_pem, message: "x", signature: "abcd" });
    assert(r.verdict === "error" && /malformed_signature/.test(r.text), r.text);
    r = await fill({ key: ed.public_pem, message: "x", signature: ed.sig, algorithm: "ec-dsa-sha-256" });
    assert(r.verdict === "error", r.text);
  });
  await check("demo: the page made no request beyond its own origin and logged no error", async () => {
    assert(browser.foreign.length === 0, `foreign requests: ${browser.foreign.join(", ")}`);
    assert(errors.length === 0, errors.join("\n"));
  });
  // The artifact kept for people: the example, verified.
  await page.click("#example");
  await page.screenshot({ path: join(repo, "target", "wasm-demo.png"), fullPage: true });
  await page.close();
}

async function main() {
  const fixtures = loadOrGenerate();
  mkdirSync(join(repo, "target"), { recursive: true });
  const server = await startServer({ root: repo });
  const browser = await launch(server.url);
  try {
    const artifacts = await suiteInPage(browser, server.url);
    await decryptArtifacts(artifacts, fixtures);
    await demo(browser, server.url, fixtures);
    await check("chromium: no request left the local server", () => {
      assert(browser.foreign.length === 0, `foreign requests: ${browser.foreign.join(", ")}`);
    });
  } finally {
    await browser.close();
    await server.close();
  }
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`1..${results.length}`);
  console.log(`chromium: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && results.length > 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
