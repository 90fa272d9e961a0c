// The suite (tests/suite.mjs) under node:test, plus the native side of the interop checks: ciphertexts
// made by WASM are decrypted by tresor's native CLI, OpenSSL and Python cryptography.
//
//   npm run build && node --test tests/node.test.mjs

import { after, test } from "node:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { spawnSync } from "node:child_process";

import { defineSuite, fromHex } from "./suite.mjs";
import { decryptNatively, loadOrGenerate } from "./fixtures.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, "..");
const repo = resolve(pkg, "..");
if (!existsSync(join(pkg, "dist", "index.js"))) throw new Error("dist/ is missing: run npm run build first");

const lib = await import(pathToFileURL(join(pkg, "dist", "index.js")).href);
const errorMod = await import(pathToFileURL(join(pkg, "dist", "tresor-error.js")).href);
const fixtures = loadOrGenerate();
const artifacts = {};

defineSuite({
  test,
  lib,
  env: "node",
  fixtures,
  errorKindTable: errorMod.errorKindTable,
  readme: readFileSync(join(pkg, "README.md"), "utf8"),
  readText: async (p) => readFileSync(join(repo, p), "utf8"),
  listVectors: async () => {
    const dir = join(repo, "tests", "vectors");
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")).sort() : [];
  },
  artifact: (name, value) => {
    artifacts[name] = value;
  },
  note: (msg) => console.log(`# ${msg}`),
  runExample: async (source, log) => {
    // Inside the package directory, so that `import … from "tresor-wasm"` resolves to this package (self-reference).
    const dir = join(pkg, "target", "example");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "readme-example.mjs");
    writeFileSync(file, source);
    const r = spawnSync(process.execPath, [file], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`the README example failed (exit ${r.status}):\n${r.stderr}`);
    for (const line of r.stdout.split("\n")) if (line) log(line);
  },
});

test("ciphertexts made by WASM decrypt natively (tresor CLI; OpenSSL and Python for RSA-OAEP)", () => {
  const names = Object.keys(artifacts).filter((n) => n.startsWith("ct-"));
  if (names.length === 0) throw new Error("the encryption test produced no ciphertexts");
  const by = new Set();
  for (const name of names) {
    const a = artifacts[name];
    const entry = fixtures.encryption.find((e) => e.key_spec === a.key_spec);
    for (const r of decryptNatively(entry, fromHex(a.ciphertext), `node-${name}`)) {
      if (r.plaintext.toString("hex") !== a.plaintext) throw new Error(`${name}: ${r.by} decrypted something else`);
      by.add(`${r.by}/${a.algorithm}`);
    }
  }
  for (const want of ["tresor-cli/ecies-hkdf-hmac-sha-256-aes-128-cbc", "tresor-cli/rsa-oaep-sha-256", "openssl/rsa-oaep-sha-256", "python-cryptography/rsa-oaep-sha-256"]) {
    if (!by.has(want)) throw new Error(`no decryption by ${want}`);
  }
});

after(() => {
  if (lib.__testing.traps !== 1) console.log(`# traps: ${lib.__testing.traps}`);
});
