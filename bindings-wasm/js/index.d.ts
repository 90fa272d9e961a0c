// tresor-wasm: offline verification of Canton signatures and key fingerprints.
import { TresorError } from "./tresor-error.js";
export { TresorError };
export type { ErrorKindName } from "./tresor-error.js";

/** Bytes: a Uint8Array (Node's Buffer is one), an ArrayBuffer, or any typed-array view. */
export type Bytes = Uint8Array | ArrayBuffer | ArrayBufferView;

/** Canton's signing algorithm config strings (display names such as "Ed25519" are accepted too). */
export type SigningAlgorithm = "ed-25519" | "ec-dsa-sha-256" | "ec-dsa-sha-384" | (string & {});
/** Canton's encryption algorithm config strings. */
export type EncryptionAlgorithm =
  | "ecies-hkdf-hmac-sha-256-aes-128-cbc"
  | "rsa-oaep-sha-256"
  | "ecies-hkdf-hmac-sha-256-aes-128-gcm"
  | (string & {});
/** Canton's key spec config strings. */
export type KeySpec = "ec-curve-25519" | "ec-p-256" | "ec-p-384" | "ec-secp-256k-1" | "rsa-2048";
/** The kinds of scheme names `canonicalName` knows. */
export type SchemeKind =
  | "signing-key-spec"
  | "signing-algorithm"
  | "encryption-key-spec"
  | "encryption-algorithm"
  | "key-spec";

/** A JSON Web Key as an object. */
export type Jwk = Record<string, unknown>;

/** A validated public key: Ed25519, EC P-256, P-384, secp256k1, or RSA-2048. */
export class PublicKey {
  private constructor();
  /** Parse DER X.509 SubjectPublicKeyInfo. */
  static fromSpkiDer(der: Bytes): PublicKey;
  /** Parse a PEM `PUBLIC KEY` block. */
  static fromPem(pem: string): PublicKey;
  /** Parse a JWK (JSON text or an object). */
  static fromJwk(jwk: string | Jwk): PublicKey;
  /** Parse raw key bytes (Ed25519: 32 bytes; EC: SEC1 point; RSA: PKCS#1 DER) of a key spec. */
  static fromRaw(keySpec: KeySpec | (string & {}), raw: Bytes): PublicKey;
  /** Parse PEM text, JWK (text or object), or DER/PEM bytes. */
  static parse(input: string | Jwk | Bytes): PublicKey;

  /** The Canton fingerprint: 68 lowercase hex characters starting with "1220". */
  readonly fingerprint: string;
  /** The key spec's config string. */
  readonly keySpec: KeySpec;
  /** "Ed25519", "EC P-256", "EC P-384", "EC secp256k1" or "RSA-2048". */
  readonly keyTypeName: string;
  /** The algorithm Canton uses by default with this key. */
  readonly defaultAlgorithm: SigningAlgorithm | EncryptionAlgorithm;

  /** Whether `fingerprint` is this key's Canton fingerprint; throws a TresorError for text that is no fingerprint. */
  hasFingerprint(fingerprint: string): boolean;
  /** Canonical DER SubjectPublicKeyInfo. */
  spkiDer(): Uint8Array;
  /** PEM `PUBLIC KEY` text. */
  toPem(): string;
  /** JWK as JSON text. */
  toJwk(): string;
  /** Raw key bytes (Ed25519: 32 bytes; EC: uncompressed point; RSA: PKCS#1 DER). */
  raw(): Uint8Array;
  /**
   * Verify a Canton-format signature (DER for ECDSA, raw 64 bytes for Ed25519) over `message` (bytes, or a
   * string taken as UTF-8). False when it does not verify; throws a TresorError for malformed input.
   */
  verify(algorithm: SigningAlgorithm, message: string | Bytes, signature: Bytes): boolean;
  /**
   * `verify` with the same decisions (the same true/false; a TresorError or TypeError for malformed input
   * as a rejected promise), with the elliptic-curve arithmetic of ECDSA P-256 (SHA-256) and P-384 (SHA-384)
   * done by WebCrypto (`crypto.subtle`) when it is available. Parsing and validation (algorithm, key fit,
   * strict DER, r and s in range) are tresor's, as in `verify`; the WebCrypto key is imported once per
   * PublicKey.
   * Ed25519, secp256k1, and a missing or failing WebCrypto fall back to `verify`.
   */
  verifyAsync(algorithm: SigningAlgorithm, message: string | Bytes, signature: Bytes): Promise<boolean>;
  /** Encrypt to this key in Canton's wire format (ECIES-CBC for P-256, RSA-OAEP-SHA256 for RSA-2048). */
  encrypt(algorithm: EncryptionAlgorithm, plaintext: string | Bytes): Uint8Array;
  /** Release the WebAssembly memory now (otherwise it is released when the object is garbage-collected). */
  free(): void;
  [Symbol.dispose](): void;
}

/** Verify a Canton signature with a key given as a PublicKey, PEM or JWK text, a JWK object, or DER/PEM bytes. */
export function verify(
  publicKey: PublicKey | string | Jwk | Bytes,
  algorithm: SigningAlgorithm,
  message: string | Bytes,
  signature: Bytes,
): boolean;
/**
 * `verify` with the same decisions, as a promise; the ECDSA P-256/P-384 arithmetic is WebCrypto's when
 * `crypto.subtle` is available (see `PublicKey.verifyAsync`). Pass a PublicKey to reuse its imported
 * WebCrypto key across calls.
 */
export function verifyAsync(
  publicKey: PublicKey | string | Jwk | Bytes,
  algorithm: SigningAlgorithm,
  message: string | Bytes,
  signature: Bytes,
): Promise<boolean>;
/** The Canton fingerprint of a key given as a PublicKey, PEM or JWK text, a JWK object, or DER/PEM bytes. */
export function fingerprint(publicKey: PublicKey | string | Jwk | Bytes): string;
/** Canton's hash: the 34-byte multihash 0x12 0x20 ‖ SHA-256(u32be(purpose) ‖ content). */
export function cantonHash(purpose: number, content: string | Bytes): Uint8Array;
/** An ECDSA signature in DER as raw r ‖ s for the curve of `keySpec`. */
export function ecdsaDerToRaw(keySpec: KeySpec | (string & {}), der: Bytes): Uint8Array;
/** A raw r ‖ s ECDSA signature (what WebCrypto produces) as DER, Canton's format. */
export function ecdsaRawToDer(keySpec: KeySpec | (string & {}), raw: Bytes): Uint8Array;
/** The canonical config string of a scheme name (Canton's display names are accepted). */
export function canonicalName(kind: SchemeKind, name: string): string;
/** The core's error kinds: { name: code }, in code order. */
export function errorKinds(): Record<string, number>;
/** The package version. */
export const VERSION: string;
