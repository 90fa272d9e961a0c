// The tresor-wasm test suite, one module for Node (node:test, tests/node.test.mjs) and headless Chromium
// (tests/browser.mjs loads it in a page). It uses only what both have: WebCrypto, TextEncoder, fetch or fs
// through the harness.
//
// defineSuite(h) registers every test through the harness h:
//   h.test(name, async fn)       register a test
//   h.lib                        the package module (dist/index.js)
//   h.readText(repoPath)         the text of a file of the repository
//   h.listVectors()              the names of tests/vectors/*.json
//   h.fixtures                   target/wasm-fixtures/fixtures.json (keys and signatures made natively)
//   h.readme                     bindings-wasm/README.md
//   h.runExample(source, log)    run the README's example module (its console.log lines go to log)
//   h.artifact(name, value)      hand a value back to the driver (ciphertexts to decrypt natively)
//   h.env                        "node" or "chromium"

const enc = new TextEncoder();

export function fromHex(s) {
  if (s.length % 2 !== 0 || /[^0-9a-fA-F]/.test(s)) throw new Error(`bad hex in a test file: ${s.slice(0, 20)}`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b) {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function fail(msg) {
  throw new Error(msg);
}

function eq(actual, expected, what) {
  if (actual !== expected) fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function bytesEq(actual, expected, what) {
  if (!(actual instanceof Uint8Array)) fail(`${what}: expected a Uint8Array, got ${Object.prototype.toString.call(actual)}`);
  eq(toHex(actual), toHex(expected), what);
}

function throwsTresor(lib, fn, kind, what) {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof lib.TresorError)) fail(`${what}: expected a TresorError, got ${e?.constructor?.name}: ${e?.message}`);
    eq(e.name, "TresorError", `${what}: name`);
    if (!(e instanceof Error)) fail(`${what}: TresorError is not an Error`);
    const codes = lib.errorKinds();
    eq(e.code, codes[e.kind], `${what}: code of kind ${e.kind}`);
    if (kind !== undefined) {
      const kinds = Array.isArray(kind) ? kind : [kind];
      if (!kinds.includes(e.kind)) fail(`${what}: expected kind ${kinds.join(" or ")}, got ${e.kind} (${e.message})`);
    }
    if (typeof e.message !== "string" || e.message.length === 0) fail(`${what}: empty message`);
    return e;
  }
  fail(`${what}: expected a TresorError, nothing was thrown`);
}

function throwsType(fn, what) {
  try {
    fn();
  } catch (e) {
    if (e instanceof TypeError) return;
    fail(`${what}: expected a TypeError, got ${e?.constructor?.name}: ${e?.message}`);
  }
  fail(`${what}: expected a TypeError, nothing was thrown`);
}

// The kind the core reports when an algorithm does not fit the key (named differently across core versions).
const MISMATCH = ["key_spec_mismatch", "incompatible_key"];

async function sha256(data) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/** Canton's fingerprint computed independently with WebCrypto (DESIGN.md, "Formats"). */
async function independentFingerprint(keyBytes) {
  const input = new Uint8Array(4 + keyBytes.length);
  new DataView(input.buffer).setUint32(0, 12);
  input.set(keyBytes, 4);
  return "1220" + toHex(await sha256(input));
}

function pemBody(pem) {
  const b64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** A small deterministic PRNG (xorshift128+) so that a failing random case can be replayed from its seed. */
function prng(seed) {
  let a = BigInt(seed) | 1n;
  let b = 0x9e3779b97f4a7c15n;
  const M = (1n << 64n) - 1n;
  return () => {
    let s1 = a;
    const s0 = b;
    a = s0;
    s1 ^= (s1 << 23n) & M;
    b = s1 ^ s0 ^ (s1 >> 17n) ^ (s0 >> 26n);
    return Number((b + s0) & 0xffffffffn) >>> 0;
  };
}

/** How a synchronous call ended: "true", "false", "TresorError <kind> <code>", "TypeError", or another value. */
function outcome(lib, fn) {
  try {
    return String(fn());
  } catch (e) {
    return describeThrow(lib, e);
  }
}

/** How an asynchronous call ended (a rejected promise is described like a thrown error). */
async function outcomeAsync(lib, fn) {
  let p;
  try {
    p = fn();
  } catch (e) {
    return `synchronous throw from an async API: ${describeThrow(lib, e)}`;
  }
  if (!(p instanceof Promise)) return `not a promise: ${String(p)}`;
  try {
    return String(await p);
  } catch (e) {
    return describeThrow(lib, e);
  }
}

function describeThrow(lib, e) {
  if (e instanceof lib.TresorError) return `TresorError ${e.kind} ${e.code}`;
  if (e instanceof TypeError) return "TypeError";
  return `${e?.constructor?.name}: ${e?.message}`;
}

// The orders of P-256 and P-384 (FIPS 186-4, D.1.2.3 and D.1.2.4).
const CURVE_ORDER = {
  "ec-p-256": 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  "ec-p-384": 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

function bigToBytes(v, len) {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function bytesToBig(b) {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/** Whether verify(algorithm, _, sig) with a key of `spec` (P-256, P-384) gets to the curve arithmetic. */
function reachesArithmetic(lib, spec, algorithm, sig) {
  if (algorithm !== { "ec-p-256": "ec-dsa-sha-256", "ec-p-384": "ec-dsa-sha-384" }[spec]) return false;
  let raw;
  try {
    raw = lib.ecdsaDerToRaw(spec, sig);
  } catch {
    return false;
  }
  const w = raw.length / 2;
  const n = CURVE_ORDER[spec];
  return [raw.subarray(0, w), raw.subarray(w)].every((x) => bytesToBig(x) >= 1n && bytesToBig(x) < n);
}

/** A DER ECDSA signature from integers, written by hand (so it can hold values the library refuses to encode). */
function derOfInts(r, s) {
  const int = (v) => {
    let b = v === 0n ? [0] : Array.from(bigToBytes(v, Math.ceil(v.toString(16).length / 2)));
    if (b[0] & 0x80) b = [0, ...b];
    return [0x02, b.length, ...b];
  };
  const body = [...int(r), ...int(s)];
  return new Uint8Array(body.length < 0x80 ? [0x30, body.length, ...body] : [0x30, 0x81, body.length, ...body]);
}

export function defineSuite(h) {
  const { test, lib } = h;

  test("module loads and reports its version", () => {
    eq(typeof lib.VERSION, "string", "VERSION");
    if (!/^\d+\.\d+\.\d+/.test(lib.VERSION)) fail(`VERSION ${lib.VERSION}`);
    const kinds = lib.errorKinds();
    eq(kinds.invalid_signature, 300, "invalid_signature code");
    eq(typeof kinds.malformed_key, "number", "malformed_key code");
  });

  test("error table: the generated table agrees with the core's kinds", () => {
    const table = h.errorKindTable;
    if (table === undefined) return; // built without js/error-kinds.js: code and kind come from Rust alone
    for (const [name, code] of Object.entries(lib.errorKinds())) {
      if (!table[name]) fail(`kind ${name} (${code}) is missing from error-kinds.js`);
      eq(table[name].code, code, `code of ${name} in error-kinds.js`);
    }
  });

  // --- keys and fingerprints --------------------------------------------------------------------

  test("public keys: PEM, DER, JWK and raw give the same key and the Canton fingerprint", async () => {
    for (const s of h.fixtures.signatures) {
      const k = lib.PublicKey.fromPem(s.public_pem);
      eq(k.keySpec, lib.canonicalName("key-spec", s.key_spec), `keySpec of ${s.source} ${s.key_spec}`);
      const der = k.spkiDer();
      bytesEq(der, pemBody(s.public_pem), "spkiDer equals the PEM body (canonical input)");
      const viaDer = lib.PublicKey.fromSpkiDer(der);
      const viaBytes = lib.PublicKey.parse(enc.encode(s.public_pem));
      const viaJwk = lib.PublicKey.fromJwk(k.toJwk());
      const viaJwkObject = lib.PublicKey.parse(JSON.parse(k.toJwk()));
      const viaRaw = lib.PublicKey.fromRaw(k.keySpec, k.raw());
      const viaPem = lib.PublicKey.fromPem(k.toPem());
      for (const [n, o] of Object.entries({ viaDer, viaBytes, viaJwk, viaJwkObject, viaRaw, viaPem })) {
        eq(o.fingerprint, k.fingerprint, `${n} fingerprint (${s.key_spec})`);
        bytesEq(o.spkiDer(), der, `${n} DER (${s.key_spec})`);
        o.free();
      }
      // Canton: Ed25519 fingerprints hash the raw 32 bytes, every other key its DER SPKI.
      const keyBytes = s.key_spec === "ec-curve-25519" ? k.raw() : der;
      eq(k.fingerprint, await independentFingerprint(keyBytes), `fingerprint vs WebCrypto (${s.key_spec})`);
      eq(lib.fingerprint(s.public_pem), k.fingerprint, "fingerprint() of PEM text");
      eq(k.hasFingerprint(k.fingerprint), true, "hasFingerprint(own)");
      eq(k.hasFingerprint("1220" + "00".repeat(32)), false, "hasFingerprint(other)");
      k.free();
    }
  });

  test("fingerprints equal what tresor's native CLI prints", () => {
    if (h.fixtures.fingerprints.length === 0) fail("no native fingerprints in the fixtures");
    for (const f of h.fixtures.fingerprints) eq(lib.fingerprint(f.public_pem), f.fingerprint, `fingerprint from ${f.source}`);
  });

  test("RSA-2048 keys parse; they cannot verify", () => {
    const rsa = h.fixtures.encryption.find((e) => e.key_spec === "rsa-2048");
    const k = lib.PublicKey.fromPem(rsa.public_pem);
    eq(k.keySpec, "rsa-2048", "keySpec");
    eq(k.defaultAlgorithm, "rsa-oaep-sha-256", "defaultAlgorithm");
    throwsTresor(lib, () => k.verify("ec-dsa-sha-256", "m", new Uint8Array(70)), MISMATCH, "RSA verify");
    k.free();
  });

  test("malformed keys throw TresorError(malformed_key)", () => {
    throwsTresor(lib, () => lib.PublicKey.fromSpkiDer(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])), "malformed_key", "bad DER");
    throwsTresor(lib, () => lib.PublicKey.fromSpkiDer(new Uint8Array(0)), "malformed_key", "empty DER");
    throwsTresor(lib, () => lib.PublicKey.fromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), "malformed_key", "bad PEM");
    throwsTresor(lib, () => lib.PublicKey.fromPem("hello"), "malformed_key", "not PEM");
    throwsTresor(lib, () => lib.PublicKey.fromJwk('{"kty":"OKP","crv":"Ed25519","x":"AAAA"}'), "malformed_key", "short JWK");
    throwsTresor(lib, () => lib.PublicKey.fromJwk("{"), "malformed_key", "bad JSON");
    throwsTresor(lib, () => lib.PublicKey.fromRaw("ec-p-256", new Uint8Array(65)), "malformed_key", "P-256 point not on curve");
    throwsTresor(lib, () => lib.PublicKey.fromRaw("ec-curve-25519", new Uint8Array(31)), "malformed_key", "short Ed25519");
    throwsTresor(lib, () => lib.PublicKey.fromRaw("no-such-spec", new Uint8Array(32)), "unknown_scheme", "unknown key spec");
  });

  test("wrong argument types throw TypeError; freed keys refuse use", () => {
    const s = h.fixtures.signatures[0];
    throwsType(() => lib.PublicKey.fromSpkiDer("30"), "DER as string");
    throwsType(() => lib.PublicKey.fromPem(new Uint8Array(3)), "PEM as bytes");
    throwsType(() => lib.PublicKey.parse(42), "parse(number)");
    throwsType(() => new lib.PublicKey(), "constructor");
    const k = lib.PublicKey.fromPem(s.public_pem);
    throwsType(() => k.verify(s.algorithm, 42, fromHex(s.sig)), "message as number");
    throwsType(() => k.verify(s.algorithm, "m", s.sig), "signature as hex string");
    throwsType(() => k.verify(7, "m", fromHex(s.sig)), "algorithm as number");
    throwsType(() => lib.cantonHash(-1, "x"), "negative purpose");
    k.free();
    k.free(); // idempotent
    throwsType(() => k.fingerprint, "use after free");
    eq(String(k), "PublicKey(freed)", "toString after free");
  });

  // --- verification -------------------------------------------------------------------------------

  test("signatures made by OpenSSL, Python cryptography and tresor's native CLI verify", () => {
    const sources = new Set();
    for (const s of h.fixtures.signatures) {
      const msg = fromHex(s.msg);
      const sig = fromHex(s.sig);
      eq(lib.verify(s.public_pem, s.algorithm, msg, sig), true, `${s.source} ${s.algorithm} ${s.key_spec}`);
      const k = lib.PublicKey.fromPem(s.public_pem);
      eq(k.verify(s.algorithm, msg.buffer.slice(0), sig.buffer.slice(0)), true, "ArrayBuffer arguments");
      const tampered = msg.slice();
      tampered[0] ^= 1;
      eq(k.verify(s.algorithm, tampered, sig), false, `tampered message ${s.source} ${s.key_spec}`);
      const badSig = sig.slice();
      badSig[sig.length - 3] ^= 0x40;
      eq(k.verify(s.algorithm, msg, badSig), false, `tampered signature ${s.source} ${s.key_spec}`);
      k.free();
      sources.add(s.source);
    }
    for (const want of ["openssl", "python-cryptography", "tresor-cli"]) if (!sources.has(want)) fail(`no signatures from ${want}`);
  });

  test("messages given as strings are UTF-8", () => {
    const s = h.fixtures.signatures.find((x) => x.source === "tresor-cli");
    const text = new TextDecoder().decode(fromHex(s.msg));
    eq(lib.verify(s.public_pem, s.algorithm, text, fromHex(s.sig)), true, "string message");
  });

  test("verify: unknown algorithm, key mismatch and malformed signatures throw", () => {
    const ed = h.fixtures.signatures.find((x) => x.key_spec === "ec-curve-25519");
    const p256 = h.fixtures.signatures.find((x) => x.key_spec === "ec-p-256");
    const kEd = lib.PublicKey.fromPem(ed.public_pem);
    const kP = lib.PublicKey.fromPem(p256.public_pem);
    throwsTresor(lib, () => kEd.verify("rsa-pss", "m", fromHex(ed.sig)), "unknown_scheme", "unknown algorithm");
    throwsTresor(lib, () => kEd.verify("ec-dsa-sha-256", "m", fromHex(ed.sig)), MISMATCH, "ECDSA with an Ed25519 key");
    throwsTresor(lib, () => kP.verify("ec-dsa-sha-384", "m", fromHex(p256.sig)), MISMATCH, "SHA-384 with a P-256 key");
    throwsTresor(lib, () => kEd.verify("ed-25519", "m", new Uint8Array(63)), "malformed_signature", "63-byte Ed25519 signature");
    // Canton's display names are accepted.
    eq(kEd.verify("Ed25519", fromHex(ed.msg), fromHex(ed.sig)), true, "display name Ed25519");
    kEd.free();
    kP.free();
  });

  test("WebCrypto signatures (raw r‖s converted to DER) verify", async () => {
    const msg = enc.encode("signed by WebCrypto");
    for (const [curve, hash, spec, algo] of [
      ["P-256", "SHA-256", "ec-p-256", "ec-dsa-sha-256"],
      ["P-384", "SHA-384", "ec-p-384", "ec-dsa-sha-384"],
    ]) {
      const kp = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"]);
      const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash }, kp.privateKey, msg));
      const der = lib.ecdsaRawToDer(spec, raw);
      bytesEq(lib.ecdsaDerToRaw(spec, der), raw, `${curve} DER round trip`);
      const spki = new Uint8Array(await crypto.subtle.exportKey("spki", kp.publicKey));
      eq(lib.verify(spki, algo, msg, der), true, `${curve} WebCrypto signature`);
      const rawPub = new Uint8Array(await crypto.subtle.exportKey("raw", kp.publicKey));
      eq(lib.PublicKey.fromRaw(spec, rawPub).fingerprint, lib.fingerprint(spki), `${curve} raw key`);
    }
    let edKeys;
    try {
      edKeys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    } catch {
      return; // this engine's WebCrypto has no Ed25519
    }
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, edKeys.privateKey, msg));
    const rawPub = new Uint8Array(await crypto.subtle.exportKey("raw", edKeys.publicKey));
    eq(lib.PublicKey.fromRaw("ec-curve-25519", rawPub).verify("ed-25519", msg, sig), true, "Ed25519 WebCrypto signature");
  });

  // --- verifyAsync: WebCrypto's ECDSA arithmetic behind the same decisions --------------------------------

  /** verifyAsync's outcome equals verify's; returns which path decided ("webcrypto" or "fallback"). */
  async function sameAsVerify(k, algorithm, msg, sig, where) {
    const want = outcome(lib, () => k.verify(algorithm, msg, sig));
    const before = lib.__testing.webCrypto;
    const got = await outcomeAsync(lib, () => k.verifyAsync(algorithm, msg, sig));
    const after = lib.__testing.webCrypto;
    eq(got, want, `${where}: verifyAsync vs verify`);
    const web = after.verifies - before.verifies;
    const back = after.fallbacks - before.fallbacks;
    // A call that throws before any work (TypeError, freed key) moves neither counter.
    if (web + back > 1) fail(`${where}: counters moved by ${web} + ${back}`);
    return { want, path: web === 1 ? "webcrypto" : back === 1 ? "fallback" : "none" };
  }

  function requireWebCrypto() {
    if (typeof globalThis.crypto?.subtle?.verify !== "function") fail(`no crypto.subtle in ${h.env}: the WebCrypto path cannot be tested`);
  }

  test("verifyAsync: the shared verify vectors give verify's decisions; P-256/P-384 through WebCrypto", async () => {
    requireWebCrypto();
    const files = (await h.listVectors()).filter((f) => f.endsWith("_verify.json"));
    let ecdsaWeb = 0;
    let ecdsaCases = 0;
    let fallbacks = 0;
    for (const file of files) {
      const doc = JSON.parse(await h.readText(`tests/vectors/${file}`));
      if (doc.operation !== "verify") continue;
      for (const t of doc.tests) {
        const where = `${file} ${t.id}${t.comment ? ` (${t.comment})` : ""}`;
        let k;
        try {
          k = lib.PublicKey.fromSpkiDer(fromHex(t.input.public_key));
        } catch (e) {
          // A key the package refuses: the module function must refuse it the same way.
          const want = outcome(lib, () => lib.verify(fromHex(t.input.public_key), doc.algorithm, fromHex(t.input.msg), fromHex(t.input.sig)));
          const got = await outcomeAsync(lib, () => lib.verifyAsync(fromHex(t.input.public_key), doc.algorithm, fromHex(t.input.msg), fromHex(t.input.sig)));
          eq(got, want, `${where}: module verifyAsync with a refused key`);
          continue;
        }
        const spec = k.keySpec;
        const { want, path } = await sameAsVerify(k, doc.algorithm, fromHex(t.input.msg), fromHex(t.input.sig), where);
        // The vector's own expectation, so that an agreement on a wrong answer fails too.
        eq(want, t.expect === "valid" ? "true" : t.error_kind && t.error_kind !== "invalid_signature" ? `TresorError ${t.error_kind} ${lib.errorKinds()[t.error_kind]}` : "false", `${where}: verify vs the vector`);
        if (spec === "ec-p-256" || spec === "ec-p-384") {
          ecdsaCases++;
          if (path === "webcrypto") ecdsaWeb++;
          // WebCrypto decides exactly the signatures that reach verify's arithmetic: strict DER with r and s
          // in [1, n - 1] (worked out here independently), under the curve's own algorithm.
          const reaches = reachesArithmetic(lib, spec, doc.algorithm, fromHex(t.input.sig));
          if (path !== (reaches ? "webcrypto" : "fallback")) fail(`${where}: decided by ${path} (${want}), reaches the arithmetic: ${reaches}`);
          if (want === "true" && path !== "webcrypto") fail(`${where}: a valid ${spec} signature was decided by ${path}`);
        } else if (path !== "fallback") {
          fail(`${where}: a ${spec} signature was decided by ${path}`);
        } else {
          fallbacks++;
        }
        k.free();
      }
    }
    if (ecdsaCases < 900) fail(`only ${ecdsaCases} ECDSA P-256/P-384 vector cases`);
    if (ecdsaWeb < 300) fail(`only ${ecdsaWeb} of ${ecdsaCases} ECDSA cases went through WebCrypto`);
    h.note?.(`verifyAsync vectors: ${ecdsaCases} P-256/P-384 cases (${ecdsaWeb} decided by WebCrypto, the rest rejected before the arithmetic), ${fallbacks} Ed25519/secp256k1 cases by the fallback`);
  });

  test("verifyAsync: random, high-S, edge and mutated ECDSA signatures give verify's decisions", async () => {
    requireWebCrypto();
    const seed = 0xa5c0 + (h.env === "node" ? 1 : 2);
    const rnd = prng(seed);
    const randBytes = (n) => Uint8Array.from({ length: n }, () => rnd() & 0xff);
    const pick = (a) => a[rnd() % a.length];
    const mutate = (b) => {
      const out = b.slice();
      const op = rnd() % 5;
      const at = rnd() % out.length;
      if (op === 0) out[at] ^= 1 << (rnd() % 8);
      else if (op === 1) out[at] = rnd() & 0xff;
      else if (op === 2) return out.slice(0, at);
      else if (op === 3) return new Uint8Array([...out.slice(0, at), ...randBytes(1 + (rnd() % 3)), ...out.slice(at)]);
      else out[at] = pick([0x00, 0x80, 0xff, 0x7f, 0x81]);
      return out;
    };
    const keys = [];
    for (const [curve, hash, spec, algo] of [
      ["P-256", "SHA-256", "ec-p-256", "ec-dsa-sha-256"],
      ["P-384", "SHA-384", "ec-p-384", "ec-dsa-sha-384"],
    ]) {
      const kp = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"]);
      const k = lib.PublicKey.fromSpkiDer(new Uint8Array(await crypto.subtle.exportKey("spki", kp.publicKey)));
      keys.push({ k, spec, algo, sign: async (m) => new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash }, kp.privateKey, m)) });
    }
    for (const s of h.fixtures.signatures.filter((x) => x.key_spec === "ec-p-256" || x.key_spec === "ec-p-384")) {
      keys.push({ k: lib.PublicKey.fromPem(s.public_pem), spec: s.key_spec, algo: s.algorithm, fixed: { msg: fromHex(s.msg), sig: fromHex(s.sig) } });
    }
    const paths = { webcrypto: 0, fallback: 0, none: 0 };
    const results = {};
    let cases = 0;
    const check = async (key, algorithm, msg, sig, what) => {
      cases++;
      const r = await sameAsVerify(key.k, algorithm, msg, sig, `${what} (${key.spec}, seed ${seed}, case ${cases})`);
      paths[r.path]++;
      results[r.want] = (results[r.want] ?? 0) + 1;
      return r;
    };
    for (const key of keys) {
      const n = CURVE_ORDER[key.spec];
      const w = key.spec === "ec-p-256" ? 32 : 48;
      // Fresh signatures of the generated keys; the fixtures' one signature each, mutated.
      for (let i = 0; i < (key.sign ? 40 : 10); i++) {
        const msg = randBytes(rnd() % 80);
        const base = key.sign ? { msg, sig: lib.ecdsaRawToDer(key.spec, await key.sign(msg)) } : key.fixed;
        const raw = lib.ecdsaDerToRaw(key.spec, base.sig);
        const r = bytesToBig(raw.subarray(0, w));
        const sv = bytesToBig(raw.subarray(w));
        // Valid, both halves of s (Canton accepts high-S), through WebCrypto.
        const low = await check(key, key.algo, base.msg, base.sig, "valid signature");
        if (low.want !== "true" || low.path !== "webcrypto") fail(`valid ${key.spec} signature: ${low.want} by ${low.path}`);
        const flipped = derOfInts(r, n - sv);
        const high = await check(key, key.algo, base.msg, flipped, "the other half of s");
        if (high.want !== "true" || high.path !== "webcrypto") fail(`high/low-S ${key.spec} signature: ${high.want} by ${high.path}`);
        // The same signature under other names and shapes of the arguments.
        await check(key, pick(["EC-DSA-SHA256", "EC-DSA-SHA384", "ec-dsa-sha-256", "ec-dsa-sha-384", "ed-25519", "Ed25519", "", "x"]), base.msg, base.sig, "other algorithm");
        await check(key, key.algo, new TextDecoder().decode(base.msg), base.sig, "message as a string");
        await check(key, key.algo, base.msg.buffer.slice(base.msg.byteOffset, base.msg.byteOffset + base.msg.length), base.sig.buffer.slice(0), "ArrayBuffers");
        // Wrong message, mutated signatures, edge scalars, random bytes.
        const other = base.msg.length > 0 ? mutate(base.msg) : randBytes(1);
        const wrong = await check(key, key.algo, other, base.sig, "other message");
        if (wrong.want === "true" && toHex(other) !== toHex(base.msg)) fail(`a mutated message verified (${key.spec})`);
        for (let j = 0; j < 3; j++) await check(key, key.algo, base.msg, mutate(base.sig), "mutated DER");
        const edge = pick([0n, 1n, n - 1n, n, n + 1n, (1n << BigInt(8 * w)) - 1n, r, sv, n - r]);
        const e = await check(key, key.algo, base.msg, rnd() & 1 ? derOfInts(edge, sv) : derOfInts(r, edge), "edge scalar");
        // Scalars outside [1, n - 1] never reach WebCrypto (verify refuses them before the arithmetic).
        if (e.path !== (edge >= 1n && edge < n ? "webcrypto" : "fallback")) fail(`edge scalar ${edge.toString(16)} (${key.spec}) decided by ${e.path}`);
        await check(key, key.algo, base.msg, derOfInts(bytesToBig(randBytes(w)), bytesToBig(randBytes(w))), "random scalars");
        await check(key, key.algo, base.msg, randBytes(rnd() % 110), "random bytes");
        await check(key, key.algo, base.msg, raw, "raw r‖s instead of DER");
      }
    }
    for (const key of keys) key.k.free();
    h.note?.(`verifyAsync random cases: ${cases} (${paths.webcrypto} by WebCrypto, ${paths.fallback} by the fallback; outcomes ${JSON.stringify(results)})`);
    if (paths.none !== 0) fail(`${paths.none} calls moved no counter`);
    if (paths.webcrypto < cases / 3) fail(`only ${paths.webcrypto} of ${cases} cases went through WebCrypto`);
    if (!results.false || !results.true || !Object.keys(results).some((o) => o.startsWith("TresorError malformed_signature"))) {
      fail(`outcomes do not cover true, false and malformed_signature: ${JSON.stringify(results)}`);
    }
  });

  test("verifyAsync: the fallback, malformed input and the module function", async () => {
    requireWebCrypto();
    const p256 = h.fixtures.signatures.find((x) => x.key_spec === "ec-p-256");
    const ed = h.fixtures.signatures.find((x) => x.key_spec === "ec-curve-25519");
    const k1 = h.fixtures.signatures.find((x) => x.key_spec === "ec-secp-256k-1");
    const rsa = h.fixtures.encryption.find((e) => e.key_spec === "rsa-2048");
    const kP = lib.PublicKey.fromPem(p256.public_pem);
    const msg = fromHex(p256.msg);
    const sig = fromHex(p256.sig);
    eq((await sameAsVerify(kP, p256.algorithm, msg, sig, "P-256 fixture")).path, "webcrypto", "P-256 path");
    // Ed25519 and secp256k1 are verified in WebAssembly.
    for (const s of [ed, k1].filter(Boolean)) {
      const k = lib.PublicKey.fromPem(s.public_pem);
      const r = await sameAsVerify(k, s.algorithm, fromHex(s.msg), fromHex(s.sig), `${s.key_spec} fixture`);
      eq(`${r.want} ${r.path}`, "true fallback", `${s.key_spec}: outcome and path`);
      k.free();
    }
    // Malformed input rejects with verify's TresorError (same kind and code), types with a TypeError.
    const kRsa = lib.PublicKey.fromPem(rsa.public_pem);
    for (const [k, a, m, s, want] of [
      [kP, "rsa-pss", msg, sig, "TresorError unknown_scheme"],
      [kP, "ec-dsa-sha-384", msg, sig, "TresorError incompatible_key"],
      [kP, p256.algorithm, msg, sig.subarray(0, sig.length - 1), "TresorError malformed_signature"],
      [kP, p256.algorithm, msg, new Uint8Array(0), "TresorError malformed_signature"],
      [kRsa, "ec-dsa-sha-256", msg, sig, "TresorError incompatible_key"],
      [kP, p256.algorithm, 42, sig, "TypeError"],
      [kP, p256.algorithm, msg, p256.sig, "TypeError"],
      [kP, 7, msg, sig, "TypeError"],
    ]) {
      const got = await outcomeAsync(lib, () => k.verifyAsync(a, m, s));
      eq(got, outcome(lib, () => k.verify(a, m, s)), `verifyAsync(${String(a)}) vs verify`);
      if (!got.startsWith(want)) fail(`verifyAsync(${String(a)}): expected ${want}, got ${got}`);
    }
    kRsa.free();
    // Without WebCrypto (as in an insecure browser context) every decision is the fallback's.
    lib.__testing.useWebCrypto(false);
    try {
      const tampered = msg.slice();
      tampered[0] ^= 1;
      for (const [m, want] of [[msg, "true"], [tampered, "false"]]) {
        const r = await sameAsVerify(kP, p256.algorithm, m, sig, "WebCrypto off");
        eq(`${r.want} ${r.path}`, `${want} fallback`, "WebCrypto off: outcome and path");
      }
    } finally {
      lib.__testing.useWebCrypto(true);
    }
    eq((await sameAsVerify(kP, p256.algorithm, msg, sig, "WebCrypto on again")).path, "webcrypto", "path after turning WebCrypto on");
    // The caller's buffers may change while the call waits: the call works on copies.
    const mine = msg.slice();
    const pending = kP.verifyAsync(p256.algorithm, mine, sig);
    mine.fill(0);
    eq(await pending, true, "message changed after the call");
    // The module function takes every key form.
    eq(await lib.verifyAsync(p256.public_pem, p256.algorithm, msg, sig), true, "module verifyAsync with PEM");
    eq(await lib.verifyAsync(kP.spkiDer(), p256.algorithm, msg, sig), true, "module verifyAsync with DER");
    eq(await lib.verifyAsync(kP, p256.algorithm, msg, sig), true, "module verifyAsync with a PublicKey");
    eq(await outcomeAsync(lib, () => lib.verifyAsync("not a key", p256.algorithm, msg, sig)), "TresorError malformed_key " + lib.errorKinds().malformed_key, "module verifyAsync with a bad key");
    kP.free();
    eq(await outcomeAsync(lib, () => kP.verifyAsync(p256.algorithm, msg, sig)), "TypeError", "verifyAsync after free");
  });

  // --- hashing, names, conversions -------------------------------------------------------------------

  test("cantonHash is the multihash of SHA-256(u32be(purpose) ‖ content)", async () => {
    for (const [purpose, content] of [[12, enc.encode("abc")], [0, new Uint8Array(0)], [0xffffffff, new Uint8Array(1000).fill(7)]]) {
      const input = new Uint8Array(4 + content.length);
      new DataView(input.buffer).setUint32(0, purpose);
      input.set(content, 4);
      const want = new Uint8Array([0x12, 0x20, ...(await sha256(input))]);
      bytesEq(lib.cantonHash(purpose, content), want, `cantonHash(${purpose})`);
    }
    bytesEq(lib.cantonHash(5, "abc"), lib.cantonHash(5, enc.encode("abc")), "string content is UTF-8");
  });

  test("canonicalName maps Canton's names to config strings", () => {
    eq(lib.canonicalName("signing-algorithm", "EC-DSA-SHA256"), "ec-dsa-sha-256", "display name");
    eq(lib.canonicalName("signing-key-spec", "ec-p-384"), "ec-p-384", "config string");
    eq(lib.canonicalName("encryption-algorithm", "RSA-OAEP-SHA256"), "rsa-oaep-sha-256", "encryption algorithm");
    eq(lib.canonicalName("key-spec", "RSA-2048"), "rsa-2048", "key spec");
    throwsTresor(lib, () => lib.canonicalName("signing-algorithm", "sha1"), "unknown_scheme", "unknown name");
  });

  test("ECDSA DER and raw conversions reject malformed input", () => {
    throwsTresor(lib, () => lib.ecdsaDerToRaw("ec-p-256", new Uint8Array([0x30, 0x00])), "malformed_signature", "empty SEQUENCE");
    throwsTresor(lib, () => lib.ecdsaRawToDer("ec-p-256", new Uint8Array(63)), undefined, "short raw");
    throwsTresor(lib, () => lib.ecdsaRawToDer("ec-curve-25519", new Uint8Array(64)), MISMATCH, "Ed25519 has no DER form");
  });

  // --- encryption -----------------------------------------------------------------------------------

  test("encryption to P-256 (ECIES-CBC) and RSA-2048 (OAEP-SHA256) keys", () => {
    for (const e of h.fixtures.encryption) {
      const k = lib.PublicKey.fromPem(e.public_pem);
      // A P-256 key signs and encrypts; its default is the signing algorithm.
      eq(k.defaultAlgorithm, e.key_spec === "rsa-2048" ? e.algorithm : "ec-dsa-sha-256", `default algorithm of ${e.key_spec}`);
      for (const [i, pt] of [enc.encode(`secret for ${e.key_spec} from ${h.env}`), new Uint8Array(0), new Uint8Array(190).fill(0xa5)].entries()) {
        const ct = k.encrypt(e.algorithm, pt);
        if (e.algorithm === "rsa-oaep-sha-256") eq(ct.length, 256, "RSA-2048 ciphertext length");
        else eq(ct.length, 16 + 65 + (Math.floor(pt.length / 16) + 1) * 16 + 32, "ECIES-CBC ciphertext length");
        const again = k.encrypt(e.algorithm, pt);
        if (toHex(again) === toHex(ct)) fail("two encryptions of the same plaintext are equal (no randomness?)");
        h.artifact(`ct-${e.key_spec}-${i}`, { key_spec: e.key_spec, algorithm: e.algorithm, plaintext: toHex(pt), ciphertext: toHex(ct) });
      }
      if (e.key_spec === "rsa-2048") {
        throwsTresor(lib, () => k.encrypt(e.algorithm, new Uint8Array(191)), "input_too_large", "RSA plaintext too long");
      }
      throwsTresor(lib, () => k.encrypt("ed-25519", "x"), "unknown_scheme", "signing algorithm as encryption algorithm");
      k.free();
    }
    const ed = lib.PublicKey.fromPem(h.fixtures.signatures[0].public_pem);
    throwsTresor(lib, () => ed.encrypt("ecies-hkdf-hmac-sha-256-aes-128-cbc", "x"), MISMATCH, "encrypt to an Ed25519 key");
    ed.free();
  });

  // --- robustness -----------------------------------------------------------------------------------

  test("randomized inputs to every parse and verify entry point never trap", () => {
    const seed = 0x7e50 + (h.env === "node" ? 1 : 2);
    const rnd = prng(seed);
    const randBytes = (n) => Uint8Array.from({ length: n }, () => rnd() & 0xff);
    const pick = (a) => a[rnd() % a.length];
    const mutate = (b) => {
      const out = b.slice();
      const edits = 1 + (rnd() % 4);
      for (let i = 0; i < edits && out.length > 0; i++) {
        const op = rnd() % 4;
        const at = rnd() % out.length;
        if (op === 0) out[at] ^= 1 << (rnd() % 8);
        else if (op === 1) out[at] = rnd() & 0xff;
        else if (op === 2) return out.slice(0, at);
        else return new Uint8Array([...out.slice(0, at), ...randBytes(1 + (rnd() % 8)), ...out.slice(at)]);
      }
      return out;
    };
    const keys = h.fixtures.signatures.map((s) => lib.PublicKey.fromPem(s.public_pem));
    const ders = keys.map((k) => k.spkiDer());
    const jwks = keys.map((k) => k.toJwk());
    const specs = ["ec-curve-25519", "ec-p-256", "ec-p-384", "ec-secp-256k-1", "rsa-2048", "EC-P256", "x"];
    const algos = ["ed-25519", "ec-dsa-sha-256", "ec-dsa-sha-384", "", "Ed25519", "ed-25519\u0000"];
    const trapsBefore = lib.__testing.traps;
    let calls = 0;
    let thrown = 0;
    const attempt = (what, fn) => {
      calls++;
      try {
        const r = fn();
        if (r instanceof lib.PublicKey) r.free();
      } catch (e) {
        if (!(e instanceof lib.TresorError) || e.kind === "panic" || e.kind === "internal") {
          fail(`${what} (seed ${seed}, call ${calls}): ${e?.constructor?.name} ${e?.kind ?? ""}: ${e?.message}`);
        }
        thrown++;
      }
    };
    const N = 400;
    for (let i = 0; i < N; i++) {
      const idx = rnd() % keys.length;
      const s = h.fixtures.signatures[idx];
      attempt("fromSpkiDer(random)", () => lib.PublicKey.fromSpkiDer(randBytes(rnd() % 120)));
      attempt("fromSpkiDer(mutated)", () => lib.PublicKey.fromSpkiDer(mutate(ders[idx])));
      attempt("parse(mutated PEM bytes)", () => lib.PublicKey.parse(mutate(enc.encode(s.public_pem))));
      attempt("fromPem(mutated)", () => lib.PublicKey.fromPem(new TextDecoder().decode(mutate(enc.encode(s.public_pem)))));
      attempt("fromJwk(mutated)", () => lib.PublicKey.fromJwk(new TextDecoder().decode(mutate(enc.encode(jwks[idx])))));
      attempt("fromRaw(random)", () => lib.PublicKey.fromRaw(pick(specs), randBytes(pick([0, 31, 32, 33, 48, 64, 65, 97, 133, 270]))));
      attempt("fromRaw(mutated)", () => lib.PublicKey.fromRaw(keys[idx].keySpec, mutate(keys[idx].raw())));
      attempt("verify(mutated signature)", () => keys[idx].verify(s.algorithm, fromHex(s.msg), mutate(fromHex(s.sig))));
      attempt("verify(random signature)", () => keys[idx].verify(pick(algos), randBytes(rnd() % 40), randBytes(rnd() % 110)));
      attempt("ecdsaDerToRaw(mutated)", () => lib.ecdsaDerToRaw(pick(specs), mutate(fromHex(s.sig))));
      attempt("ecdsaRawToDer(random)", () => lib.ecdsaRawToDer(pick(specs), randBytes(pick([0, 63, 64, 96, 97]))));
      attempt("canonicalName(random)", () => lib.canonicalName(pick(["signing-algorithm", "key-spec", "x"]), new TextDecoder().decode(randBytes(rnd() % 16))));
      attempt("hasFingerprint(random)", () => keys[idx].hasFingerprint(new TextDecoder().decode(randBytes(rnd() % 70))));
    }
    for (const k of keys) k.free();
    eq(lib.__testing.traps, trapsBefore, "traps during the randomized run");
    if (thrown === 0 || thrown === calls) fail(`randomized run threw ${thrown} of ${calls} times: inputs are not exercising both paths`);
  });

  test("an instance that traps is replaced, and existing keys keep working", () => {
    const s = h.fixtures.signatures.find((x) => x.key_spec === "ec-p-256");
    const k = lib.PublicKey.fromPem(s.public_pem);
    const fp = k.fingerprint;
    const gen = lib.__testing.generation;
    const e = throwsTresor(lib, () => lib.__testing.trap(), "panic", "trap");
    if (!/re-?created|replaced/.test(e.message)) fail(`trap message: ${e.message}`);
    eq(lib.__testing.generation, gen + 1, "generation after the trap");
    eq(k.fingerprint, fp, "key made before the trap");
    eq(k.verify(s.algorithm, fromHex(s.msg), fromHex(s.sig)), true, "verify after the trap");
    eq(lib.verify(s.public_pem, s.algorithm, fromHex(s.msg), fromHex(s.sig)), true, "new key after the trap");
    k.free();
  });

  // --- shared vectors ---------------------------------------------------------------------------------

  test("shared vectors (tests/vectors/*.json)", async () => {
    const files = await h.listVectors();
    if (files.length === 0) {
      h.note?.("tests/vectors has no *.json files yet");
      return;
    }
    const counts = { run: 0, skippedFiles: [] };
    for (const file of files) {
      const doc = JSON.parse(await h.readText(`tests/vectors/${file}`));
      eq(doc.schema, "tresor-vectors/1", `${file}: schema`);
      const runner = VECTOR_OPS[doc.operation];
      if (!runner) {
        if (doc.not_run_by?.wasm) {
          counts.skippedFiles.push(file);
          continue;
        }
        fail(`${file}: operation ${doc.operation} is not run by the WASM package and not_run_by.wasm does not say why`);
      }
      for (const t of doc.tests) {
        const where = `${file} ${t.id}${t.comment ? ` (${t.comment})` : ""}`;
        let out;
        try {
          out = runner(lib, doc, t.input);
        } catch (e) {
          if (!(e instanceof lib.TresorError)) fail(`${where}: ${e?.constructor?.name}: ${e?.message}`);
          if (t.expect === "valid") fail(`${where}: expected valid, got ${e.kind}: ${e.message}`);
          eq(e.kind, t.error_kind, `${where}: error kind`);
          counts.run++;
          continue;
        }
        if (out === false) {
          // verify's opaque failure
          if (t.expect !== "invalid") fail(`${where}: expected ${t.expect}, the signature did not verify`);
          eq(t.error_kind ?? "invalid_signature", "invalid_signature", `${where}: error kind`);
        } else {
          if (t.expect !== "valid") fail(`${where}: expected ${t.expect} (${t.error_kind}), it succeeded`);
          for (const [field, want] of Object.entries(t.output ?? {})) {
            const got = out[field];
            if (got === undefined) fail(`${where}: the runner produced no ${field}`);
            eq(got, want, `${where}: ${field}`);
          }
        }
        counts.run++;
      }
    }
    h.note?.(`vectors: ${counts.run} cases run from ${files.length - counts.skippedFiles.length} files; skipped by not_run_by.wasm: ${counts.skippedFiles.join(", ") || "none"}`);
  });

  // --- the README example -------------------------------------------------------------------------------

  test("the README's JavaScript example runs and prints a fingerprint and a verdict", async () => {
    const m = /<!-- js-example:begin -->\s*```(?:js|javascript)\n([\s\S]*?)```\s*<!-- js-example:end -->/.exec(h.readme);
    if (!m) fail("bindings-wasm/README.md has no js-example block between the markers");
    const lines = [];
    await h.runExample(m[1], (line) => lines.push(line));
    const out = lines.join("\n");
    if (!/1220[0-9a-f]{64}/.test(out)) fail(`the example printed no fingerprint:\n${out}`);
    if (!/\bvalid: true\b/.test(out)) fail(`the example did not print "valid: true":\n${out}`);
  });
}

/** What each vector operation does with a case's input; returns the output fields, or false for "invalid". */
const VECTOR_OPS = {
  verify(lib, doc, input) {
    const k = lib.PublicKey.fromSpkiDer(fromHex(input.public_key));
    try {
      return k.verify(doc.algorithm, fromHex(input.msg), fromHex(input.sig)) ? {} : false;
    } finally {
      k.free();
    }
  },
  fingerprint(lib, doc, input) {
    return { fingerprint: lib.fingerprint(fromHex(input.public_key)) };
  },
  "public-key-parse"(lib, doc, input) {
    let k;
    switch (input.format) {
      case "der":
        k = lib.PublicKey.fromSpkiDer(fromHex(input.key));
        break;
      case "pem":
        k = lib.PublicKey.fromPem(input.key);
        break;
      case "jwk":
        k = lib.PublicKey.fromJwk(input.key);
        break;
      case "raw":
        k = lib.PublicKey.fromRaw(input.key_type, fromHex(input.key));
        break;
      default:
        throw new Error(`unknown public-key-parse format ${input.format}`);
    }
    try {
      return { public_key: toHex(k.spkiDer()), fingerprint: k.fingerprint };
    } finally {
      k.free();
    }
  },
  "canton-hash"(lib, doc, input) {
    return { hash: toHex(lib.cantonHash(input.purpose, fromHex(input.content))) };
  },
  "scheme-name"(lib, doc, input) {
    return { canonical: lib.canonicalName(input.kind, input.name) };
  },
  "ecdsa-der-to-raw"(lib, doc, input) {
    return { raw: toHex(lib.ecdsaDerToRaw(sizeSpec(input.size), fromHex(input.der))) };
  },
  "ecdsa-raw-to-der"(lib, doc, input) {
    return { der: toHex(lib.ecdsaRawToDer(sizeSpec(input.size), fromHex(input.raw))) };
  },
};

// The vectors name the width of r and s; the package's conversions take the curve (32: P-256, 48: P-384).
function sizeSpec(size) {
  if (size === 32) return "ec-p-256";
  if (size === 48) return "ec-p-384";
  throw new Error(`vector ecdsa size ${size} is neither 32 nor 48`);
}
