// Interop fixtures for the WASM suites: keys and signatures made by OpenSSL (CLI), Python `cryptography`
// and tresor's native CLI, plus encryption keys whose private halves stay on the native side. Written to
// <repo>/target/wasm-fixtures/ (fixtures.json holds everything a suite may see: public keys, messages,
// signatures; the private keys are files next to it, read only by the native decrypt step).
//
//   node tests/fixtures.mjs            (TRESOR_CLI=<path> to choose the tresor binary)
//
// Also exports decryptNatively(), used by the Node and Chromium drivers to open ciphertexts made by WASM.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, "..", "..");
export const fixturesDir = join(repo, "target", "wasm-fixtures");
export const manifestPath = join(fixturesDir, "fixtures.json");

export function tresorCli() {
  const candidates = [
    process.env.TRESOR_CLI,
    join(repo, "target", "wasm", "debug", "tresor"),
    join(repo, "target", "debug", "tresor"),
  ].filter(Boolean);
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`tresor CLI not found (tried ${candidates.join(", ")}); build it with cargo build -p tresor-cli`);
  return found;
}

function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...opts });
}

const hex = (b) => Buffer.from(b).toString("hex");

const SIGNING = [
  // [tresor key spec, algorithm, openssl genpkey args, python curve expression]
  ["ec-curve-25519", "ed-25519", ["-algorithm", "ed25519"], "ed25519"],
  ["ec-p-256", "ec-dsa-sha-256", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], "ec.SECP256R1()"],
  ["ec-p-384", "ec-dsa-sha-384", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"], "ec.SECP384R1()"],
  ["ec-secp-256k-1", "ec-dsa-sha-256", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"], "ec.SECP256K1()"],
];

const PYTHON_SIGNER = `
import json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
out = []
for spec, algo, curve, msg_hex in json.loads(sys.stdin.read()):
    msg = bytes.fromhex(msg_hex)
    if curve == "ed25519":
        k = ed25519.Ed25519PrivateKey.generate()
        sig = k.sign(msg)
    else:
        k = ec.generate_private_key(eval(curve))
        h = hashes.SHA384() if algo == "ec-dsa-sha-384" else hashes.SHA256()
        sig = k.sign(msg, ec.ECDSA(h))
    pem = k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    out.append({"source": "python-cryptography", "key_spec": spec, "algorithm": algo, "public_pem": pem, "msg": msg_hex, "sig": sig.hex()})
print(json.dumps(out))
`;

export function generate() {
  const cli = tresorCli();
  rmSync(fixturesDir, { recursive: true, force: true });
  mkdirSync(fixturesDir, { recursive: true });
  const f = (name) => join(fixturesDir, name);
  const signatures = [];
  const fingerprints = [];

  for (const [i, [spec, algo, osslArgs, curve]] of SIGNING.entries()) {
    const msg = Buffer.from(`canton message ${i} \u00e9\u00e8 \u{1f511}`, "utf8");
    writeFileSync(f(`msg-${i}.bin`), msg);

    // tresor's native CLI
    sh(cli, ["keygen", "--spec", spec, "--out", f(`tresor-${i}.pem`), "--public-out", f(`tresor-${i}.pub`)]);
    sh(cli, ["sign", "--key", f(`tresor-${i}.pem`), "--algo", algo, "--in", f(`msg-${i}.bin`), "--out", f(`tresor-${i}.sig`)]);
    const tresorPub = readFileSync(f(`tresor-${i}.pub`), "utf8");
    signatures.push({ source: "tresor-cli", key_spec: spec, algorithm: algo, public_pem: tresorPub, msg: hex(msg), sig: hex(readFileSync(f(`tresor-${i}.sig`))) });
    fingerprints.push({ source: "tresor-cli", public_pem: tresorPub, fingerprint: sh(cli, ["fingerprint", f(`tresor-${i}.pub`)], { encoding: "utf8" }).trim().split(/\s+/).find((w) => /^1220[0-9a-f]{64}$/.test(w)) });

    // OpenSSL CLI
    sh("openssl", ["genpkey", ...osslArgs, "-out", f(`openssl-${i}.pem`)]);
    sh("openssl", ["pkey", "-in", f(`openssl-${i}.pem`), "-pubout", "-out", f(`openssl-${i}.pub`)]);
    if (algo === "ed-25519") {
      sh("openssl", ["pkeyutl", "-sign", "-rawin", "-inkey", f(`openssl-${i}.pem`), "-in", f(`msg-${i}.bin`), "-out", f(`openssl-${i}.sig`)]);
    } else {
      const dgst = algo === "ec-dsa-sha-384" ? "-sha384" : "-sha256";
      sh("openssl", ["dgst", dgst, "-sign", f(`openssl-${i}.pem`), "-out", f(`openssl-${i}.sig`), f(`msg-${i}.bin`)]);
    }
    signatures.push({ source: "openssl", key_spec: spec, algorithm: algo, public_pem: readFileSync(f(`openssl-${i}.pub`), "utf8"), msg: hex(msg), sig: hex(readFileSync(f(`openssl-${i}.sig`))) });
  }

  // Python cryptography
  const pyIn = SIGNING.map(([spec, algo, , curve], i) => [spec, algo, curve, hex(Buffer.from(`python message ${i}`))]);
  const py = JSON.parse(sh("python3", ["-c", PYTHON_SIGNER], { input: JSON.stringify(pyIn), encoding: "utf8" }));
  signatures.push(...py);

  // Encryption keys: the public half goes to the suites, the private half stays here.
  const encryption = [];
  for (const [spec, algo] of [["ec-p-256", "ecies-hkdf-hmac-sha-256-aes-128-cbc"], ["rsa-2048", "rsa-oaep-sha-256"]]) {
    sh(cli, ["keygen", "--spec", spec, "--out", f(`enc-${spec}.pem`), "--public-out", f(`enc-${spec}.pub`)]);
    encryption.push({ key_spec: spec, algorithm: algo, public_pem: readFileSync(f(`enc-${spec}.pub`), "utf8"), private_key_file: `enc-${spec}.pem` });
  }

  const manifest = { generated_by: "bindings-wasm/tests/fixtures.mjs", signatures, fingerprints, encryption };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1) + "\n");
  return manifest;
}

export function loadOrGenerate() {
  return existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, "utf8")) : generate();
}

/**
 * Decrypt a ciphertext made by WASM with every native implementation that can: tresor's CLI always, and
 * for RSA-OAEP-SHA256 also OpenSSL's CLI and Python `cryptography`. Returns [{ by, plaintext: Buffer }].
 */
export function decryptNatively(entry, ciphertext, tag) {
  const cli = tresorCli();
  const key = join(fixturesDir, entry.private_key_file);
  const ct = join(fixturesDir, `ct-${tag}.bin`);
  const pt = join(fixturesDir, `pt-${tag}.bin`);
  writeFileSync(ct, ciphertext);
  rmSync(pt, { force: true }); // the CLI refuses to overwrite
  const results = [];
  sh(cli, ["decrypt", "--key", key, "--algo", entry.algorithm, "--in", ct, "--out", pt]);
  results.push({ by: "tresor-cli", plaintext: readFileSync(pt) });
  if (entry.algorithm === "rsa-oaep-sha-256") {
    const out = sh("openssl", ["pkeyutl", "-decrypt", "-inkey", key, "-in", ct, "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"]);
    results.push({ by: "openssl", plaintext: out });
    const py = sh("python3", ["-c", `
import sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
k = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), password=None)
sys.stdout.buffer.write(k.decrypt(open(sys.argv[2], "rb").read(), padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)))
`, key, ct]);
    results.push({ by: "python-cryptography", plaintext: py });
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = generate();
  console.log(`fixtures: ${m.signatures.length} signatures, ${m.fingerprints.length} fingerprints, ${m.encryption.length} encryption keys in ${fixturesDir}`);
}
