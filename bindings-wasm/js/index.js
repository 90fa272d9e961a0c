// tresor-wasm: offline verification of Canton signatures and key fingerprints (browsers, bundlers, Node 20+).
//
// This module loads the WebAssembly build of tresor's core once (top-level await) and exposes an idiomatic
// API over the generated bindings (./tresor_wasm.js). It adds no crypto and no format logic: it turns
// strings and ArrayBuffers into bytes, checks argument types, and re-creates the WebAssembly instance if it
// ever traps. Everything else is one call into the core, except verifyAsync, which after the core's checks
// may leave the ECDSA curve arithmetic to WebCrypto (below).

import initBindings, * as bindings from "./tresor_wasm.js";
import { TresorError } from "./tresor-error.js";

export { TresorError };

const WASM_URL = new URL("./tresor_wasm_bg.wasm", import.meta.url);

async function wasmSource() {
  if (WASM_URL.protocol === "file:") {
    // Node, Deno and Bun: read the file next to this module (fetch does not serve file: URLs in Node).
    const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ "node:fs/promises");
    return { module_or_path: await fs.readFile(WASM_URL) };
  }
  return { module_or_path: WASM_URL };
}

await initBindings(await wasmSource());

// --- Trap recovery ------------------------------------------------------------------------------------
//
// No input is known to make the instance trap (the core's parsers are fuzzed, and the test suite feeds
// random bytes to every entry point). Should one ever do so, the WebAssembly instance is dead: its memory
// may be inconsistent and it must not be entered again. The call that trapped throws a TresorError of kind
// "panic"; the instance is replaced by a fresh one from the same compiled module before that error is
// thrown, and PublicKey objects made before the trap re-create their handle in the new instance on their
// next use, so the application can go on.

let generation = 0;
let trapCount = 0;

let kindTable;
function kindCodes() {
  if (kindTable === undefined) {
    const codes = bindings.errorKindCodes();
    const names = bindings.errorKindNames().split(",");
    kindTable = Object.freeze(Object.fromEntries(names.map((n, i) => [n, codes[i]])));
  }
  return kindTable;
}

function kindCode(name) {
  return kindCodes()[name];
}

function guard(fn) {
  try {
    return fn();
  } catch (e) {
    // A trap (unreachable, out of memory, out-of-bounds access) or a stack overflow inside the instance.
    if (e instanceof WebAssembly.RuntimeError || (e instanceof RangeError && /call stack/i.test(e.message))) {
      bindings.__wbg_reset_state();
      generation += 1;
      trapCount += 1;
      throw new TresorError(
        kindCode("panic"),
        "panic",
        `the WebAssembly instance trapped (${e.message}); it was replaced by a fresh instance and the call did not complete`,
      );
    }
    throw e;
  }
}

// --- Arguments --------------------------------------------------------------------------------------

const utf8 = new TextEncoder();

function bytes(value, what) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`${what} must be a Uint8Array, an ArrayBuffer or a typed array view`);
}

function bytesOrText(value, what) {
  if (typeof value === "string") return utf8.encode(value);
  if (value instanceof Uint8Array || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return bytes(value, what);
  }
  throw new TypeError(`${what} must be a string (encoded as UTF-8), a Uint8Array, an ArrayBuffer or a typed array view`);
}

function text(value, what) {
  if (typeof value === "string") return value;
  throw new TypeError(`${what} must be a string`);
}

function jwkText(value) {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  throw new TypeError("jwk must be a JSON string or an object");
}

function uint32(value, what) {
  if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) return value;
  throw new TypeError(`${what} must be an integer from 0 to 4294967295`);
}

// --- WebCrypto for ECDSA arithmetic (verifyAsync) ----------------------------------------------------
//
// verifyAsync gives the same decisions as verify. Before the curve arithmetic, verify (tresor::Verifier)
// resolves the algorithm name, checks that it fits the key, requires strict DER, and the p256/p384 crates
// parse the DER into scalars that must be in [1, n - 1]. verifyAsync runs the same steps with the core's
// own functions (canonicalName resolves names with the parser verify uses; ecdsaDerToRaw is the strict DER
// check verify runs) plus the range check on r and s, and hands WebCrypto only ECDSA P-256/SHA-256 and
// P-384/SHA-384 signatures that passed them all: WebCrypto does the arithmetic and nothing else. Any other
// input, Ed25519, secp256k1, and every case where WebCrypto is missing (no crypto.subtle, e.g. an insecure
// browser context) or fails (the key does not import, verify rejects) is decided by the synchronous verify,
// which throws or returns false as usual.

function hexBytes(hex) {
  return Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));
}

const WEBCRYPTO_ECDSA = Object.freeze({
  "ec-p-256": Object.freeze({
    keySpec: "ec-p-256",
    algorithm: "ec-dsa-sha-256",
    namedCurve: "P-256",
    hash: "SHA-256",
    // The group order n (FIPS 186-4, D.1.2.3).
    order: hexBytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
  }),
  "ec-p-384": Object.freeze({
    keySpec: "ec-p-384",
    algorithm: "ec-dsa-sha-384",
    namedCurve: "P-384",
    hash: "SHA-384",
    // The group order n (FIPS 186-4, D.1.2.4).
    order: hexBytes(
      "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    ),
  }),
});

let webCryptoEnabled = true;
const webCryptoStats = { verifies: 0, fallbacks: 0, importFailures: 0 };

function subtle() {
  if (!webCryptoEnabled) return undefined;
  const s = globalThis.crypto?.subtle;
  return s !== null && typeof s === "object" && typeof s.verify === "function" ? s : undefined;
}

/** Whether the big-endian `v` (as wide as `order`) is in [1, order - 1]. */
function inScalarRange(v, order) {
  if (v.every((b) => b === 0)) return false;
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== order[i]) return v[i] < order[i];
  }
  return false; // equal to the order
}

/** The core's result of `fn`, or undefined when it throws a TresorError other than a trap. */
function orUndefined(fn) {
  try {
    return guard(fn);
  } catch (e) {
    if (e instanceof TresorError && e.kind !== "panic") return undefined;
    throw e;
  }
}

// The canonical signing algorithm of a name (null: not one), as the core resolves it; a few names remembered.
const algorithmNames = new Map();
function signingAlgorithm(name) {
  let c = algorithmNames.get(name);
  if (c === undefined) {
    c = orUndefined(() => bindings.canonicalName("signing-algorithm", name)) ?? null;
    if (algorithmNames.size < 32) algorithmNames.set(name, c);
  }
  return c;
}

/** The raw r ‖ s for WebCrypto when verify would come to the arithmetic with `spec`; else undefined. */
function webCryptoInput(spec, algorithm, signature) {
  if (signingAlgorithm(algorithm) !== spec.algorithm) return undefined;
  const raw = orUndefined(() => bindings.ecdsaDerToRaw(spec.keySpec, signature));
  if (raw === undefined || raw.length !== 2 * spec.order.length) return undefined;
  const w = spec.order.length;
  return inScalarRange(raw.subarray(0, w), spec.order) && inScalarRange(raw.subarray(w), spec.order) ? raw : undefined;
}

// --- Public keys ------------------------------------------------------------------------------------

const HANDLE = Symbol("handle");

/** A validated public key: Ed25519, EC P-256, P-384, secp256k1, or RSA-2048. */
export class PublicKey {
  #handle;
  #generation;
  #spki;
  /** For verifyAsync: the WebCrypto parameters of this key's curve (null: none), and a promise of its CryptoKey. */
  #webCryptoSpec;
  #cryptoKey;

  /** @private use the static constructors */
  constructor(handle, token) {
    if (token !== HANDLE) throw new TypeError("use PublicKey.fromSpkiDer, fromPem, fromJwk, fromRaw or parse");
    this.#handle = handle;
    this.#generation = generation;
    this.#spki = null;
    this.#webCryptoSpec = undefined;
    this.#cryptoKey = undefined;
  }

  static #make(create) {
    const handle = guard(create);
    const key = new PublicKey(handle, HANDLE);
    // Kept so that the key survives a re-created instance (public data only).
    key.#spki = guard(() => handle.spkiDer());
    return key;
  }

  /** Parse DER X.509 SubjectPublicKeyInfo. */
  static fromSpkiDer(der) {
    const b = bytes(der, "der");
    return PublicKey.#make(() => bindings.PublicKey.fromSpkiDer(b));
  }

  /** Parse a PEM `PUBLIC KEY` block. */
  static fromPem(pem) {
    const t = text(pem, "pem");
    return PublicKey.#make(() => bindings.PublicKey.fromPem(t));
  }

  /** Parse a JWK (JSON text or an object). */
  static fromJwk(jwk) {
    const t = jwkText(jwk);
    return PublicKey.#make(() => bindings.PublicKey.fromJwk(t));
  }

  /** Parse raw key bytes of a key spec (`ec-curve-25519`, `ec-p-256`, `ec-p-384`, `ec-secp-256k-1`, `rsa-2048`). */
  static fromRaw(keySpec, raw) {
    const s = text(keySpec, "keySpec");
    const b = bytes(raw, "raw");
    return PublicKey.#make(() => bindings.PublicKey.fromRaw(s, b));
  }

  /** Parse PEM text, JWK (text or object), or DER/PEM bytes. */
  static parse(input) {
    if (typeof input === "string") {
      return input.trimStart().startsWith("{") ? PublicKey.fromJwk(input) : PublicKey.fromPem(input);
    }
    if (input instanceof Uint8Array || input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
      const b = bytes(input, "input");
      return PublicKey.#make(() => bindings.PublicKey.fromDerOrPem(b));
    }
    if (input !== null && typeof input === "object") return PublicKey.fromJwk(input);
    throw new TypeError("input must be PEM or JWK text, a JWK object, or DER/PEM bytes");
  }

  #h() {
    if (this.#handle === null) throw new TypeError("this PublicKey has been freed");
    if (this.#generation !== generation) {
      // The instance was re-created after a trap: the old handle points into a dead instance.
      const spki = this.#spki;
      this.#handle = guard(() => bindings.PublicKey.fromSpkiDer(spki));
      this.#generation = generation;
    }
    return this.#handle;
  }

  /** The Canton fingerprint: 68 lowercase hex characters starting with `1220`. */
  get fingerprint() {
    const h = this.#h();
    return guard(() => h.fingerprint);
  }

  /** The key spec's config string: `ec-curve-25519`, `ec-p-256`, `ec-p-384`, `ec-secp-256k-1` or `rsa-2048`. */
  get keySpec() {
    const h = this.#h();
    return guard(() => h.keySpec);
  }

  /** A short human name of the key type: "Ed25519", "EC P-256", "EC P-384", "EC secp256k1", "RSA-2048". */
  get keyTypeName() {
    const h = this.#h();
    return guard(() => h.keyTypeName);
  }

  /** The algorithm Canton uses by default with this key (`ed-25519`, `ec-dsa-sha-256`, `ec-dsa-sha-384`, `rsa-oaep-sha-256`). */
  get defaultAlgorithm() {
    const h = this.#h();
    return guard(() => h.defaultAlgorithm);
  }

  /** Whether `fingerprint` is this key's Canton fingerprint; throws a TresorError for text that is no fingerprint. */
  hasFingerprint(fingerprint) {
    const t = text(fingerprint, "fingerprint");
    const h = this.#h();
    return guard(() => h.hasFingerprint(t));
  }

  /** Canonical DER SubjectPublicKeyInfo. */
  spkiDer() {
    const h = this.#h();
    return guard(() => h.spkiDer());
  }

  /** PEM `PUBLIC KEY` text. */
  toPem() {
    const h = this.#h();
    return guard(() => h.toPem());
  }

  /** JWK as JSON text. */
  toJwk() {
    const h = this.#h();
    return guard(() => h.toJwk());
  }

  /** Raw key bytes (Ed25519: 32 bytes; EC: uncompressed point; RSA: PKCS#1 DER). */
  raw() {
    const h = this.#h();
    return guard(() => h.raw());
  }

  /**
   * Verify a signature in Canton's format (DER for ECDSA, raw 64 bytes for Ed25519) over `message` (bytes,
   * or a string taken as UTF-8) with `algorithm` (`ed-25519`, `ec-dsa-sha-256`, `ec-dsa-sha-384`).
   * Returns false when the signature does not verify; throws a TresorError for malformed input.
   */
  verify(algorithm, message, signature) {
    const a = text(algorithm, "algorithm");
    const m = bytesOrText(message, "message");
    const s = bytes(signature, "signature");
    const h = this.#h();
    return guard(() => h.verify(a, m, s));
  }

  /**
   * `verify` with the same decisions (the same true/false, the same TresorError for malformed input, as a
   * rejected promise), with the elliptic-curve arithmetic of ECDSA P-256 (SHA-256) and P-384 (SHA-384)
   * done by WebCrypto (`crypto.subtle`) when it is available. Parsing and validation are tresor's (the core
   * in WebAssembly, and the check that r and s are in [1, n - 1]); Ed25519, secp256k1, and a missing or
   * failing WebCrypto fall back to `verify`.
   */
  async verifyAsync(algorithm, message, signature) {
    const a = text(algorithm, "algorithm");
    // Copies: the caller may reuse its buffers while this call waits.
    const m = bytesOrText(message, "message").slice();
    const s = bytes(signature, "signature").slice();
    const h = this.#h();
    const api = subtle();
    if (api !== undefined) {
      if (this.#webCryptoSpec === undefined) this.#webCryptoSpec = WEBCRYPTO_ECDSA[guard(() => h.keySpec)] ?? null;
      const spec = this.#webCryptoSpec;
      const raw = spec === null ? undefined : webCryptoInput(spec, a, s);
      const key = raw === undefined ? null : await this.#webCryptoKey(api, spec);
      if (key !== null) {
        let ok;
        try {
          ok = await api.verify({ name: "ECDSA", hash: spec.hash }, key, raw, m);
        } catch {
          ok = undefined;
        }
        if (typeof ok === "boolean") {
          webCryptoStats.verifies += 1;
          return ok;
        }
      }
    }
    webCryptoStats.fallbacks += 1;
    return this.verify(a, m, s);
  }

  /** This key as a WebCrypto key (imported once), or null when it does not import. */
  #webCryptoKey(api, spec) {
    if (this.#cryptoKey === undefined) {
      this.#cryptoKey = Promise.resolve()
        .then(() => api.importKey("spki", this.#spki, { name: "ECDSA", namedCurve: spec.namedCurve }, false, ["verify"]))
        .catch(() => {
          webCryptoStats.importFailures += 1;
          return null;
        });
    }
    return this.#cryptoKey;
  }

  /**
   * Encrypt `plaintext` to this key in Canton's wire format: `ecies-hkdf-hmac-sha-256-aes-128-cbc` (P-256)
   * or `rsa-oaep-sha-256` (RSA-2048).
   */
  encrypt(algorithm, plaintext) {
    const a = text(algorithm, "algorithm");
    const p = bytesOrText(plaintext, "plaintext");
    const h = this.#h();
    return guard(() => h.encrypt(a, p));
  }

  /** Release the WebAssembly memory now (otherwise it is released when the object is garbage-collected). */
  free() {
    const h = this.#handle;
    this.#handle = null;
    if (h !== null && this.#generation === generation) guard(() => h.free());
  }

  [Symbol.dispose]() {
    this.free();
  }

  toString() {
    return this.#handle === null ? "PublicKey(freed)" : `PublicKey(${this.keySpec}, ${this.fingerprint})`;
  }
}

function withKey(publicKey, fn) {
  if (publicKey instanceof PublicKey) return fn(publicKey);
  const key = PublicKey.parse(publicKey);
  try {
    return fn(key);
  } finally {
    key.free();
  }
}

/**
 * Verify a Canton signature with a key given as a PublicKey, PEM or JWK text, a JWK object, or DER/PEM bytes.
 * Returns false when the signature does not verify; throws a TresorError for malformed input.
 */
export function verify(publicKey, algorithm, message, signature) {
  return withKey(publicKey, (k) => k.verify(algorithm, message, signature));
}

/**
 * `verify` with the same decisions, returning a promise: the elliptic-curve arithmetic of ECDSA P-256 and
 * P-384 is WebCrypto's when `crypto.subtle` is available (see `PublicKey.verifyAsync`). Pass a PublicKey
 * to reuse its imported WebCrypto key across calls.
 */
export async function verifyAsync(publicKey, algorithm, message, signature) {
  if (publicKey instanceof PublicKey) return publicKey.verifyAsync(algorithm, message, signature);
  const key = PublicKey.parse(publicKey);
  try {
    return await key.verifyAsync(algorithm, message, signature);
  } finally {
    key.free();
  }
}

/** The Canton fingerprint of a key given as a PublicKey, PEM or JWK text, a JWK object, or DER/PEM bytes. */
export function fingerprint(publicKey) {
  return withKey(publicKey, (k) => k.fingerprint);
}

/** Canton's hash: the 34-byte multihash `0x12 0x20 ‖ SHA-256(u32be(purpose) ‖ content)`. */
export function cantonHash(purpose, content) {
  const p = uint32(purpose, "purpose");
  const c = bytesOrText(content, "content");
  return guard(() => bindings.cantonHash(p, c));
}

/** An ECDSA signature in DER as raw `r ‖ s` for the curve of `keySpec` (`ec-p-256`, `ec-p-384`, `ec-secp-256k-1`). */
export function ecdsaDerToRaw(keySpec, der) {
  const s = text(keySpec, "keySpec");
  const b = bytes(der, "der");
  return guard(() => bindings.ecdsaDerToRaw(s, b));
}

/** A raw `r ‖ s` ECDSA signature (what WebCrypto produces) as DER, Canton's format. */
export function ecdsaRawToDer(keySpec, raw) {
  const s = text(keySpec, "keySpec");
  const b = bytes(raw, "raw");
  return guard(() => bindings.ecdsaRawToDer(s, b));
}

/**
 * The canonical config string of a scheme name; `kind` is `signing-key-spec`, `signing-algorithm`,
 * `encryption-key-spec`, `encryption-algorithm` or `key-spec`. Canton's display names are accepted.
 */
export function canonicalName(kind, name) {
  const k = text(kind, "kind");
  const n = text(name, "name");
  return guard(() => bindings.canonicalName(k, n));
}

/** The core's error kinds: `{ name: code }`, in code order. */
export function errorKinds() {
  return { ...guard(kindCodes) };
}

/** The package version (the same as every tresor artifact's). */
export const VERSION = bindings.version();

/** @internal for the package's own tests: trap the instance on purpose, and count re-created instances. */
export const __testing = Object.freeze({
  trap: () => guard(() => bindings.__trapForTests()),
  get traps() {
    return trapCount;
  },
  get generation() {
    return generation;
  },
  /** verifyAsync calls decided by WebCrypto, by the synchronous fallback, and WebCrypto key imports that failed. */
  get webCrypto() {
    return { ...webCryptoStats };
  },
  /** Turn the WebCrypto path of verifyAsync off (false) or on (true), e.g. to test the fallback. */
  useWebCrypto(on) {
    webCryptoEnabled = Boolean(on);
  },
});
