/** The snake-case name of a tresor error kind (tresor::ErrorKind::name), e.g. "malformed_key". */
export type ErrorKindName = string; // @error-kinds-type

/** Thrown by every tresor-wasm function for a failure reported by the tresor core. */
export class TresorError extends Error {
  constructor(code: number, kind: ErrorKindName, message: string);
  readonly name: "TresorError";
  /** The core's stable numeric error code (grouped by hundreds: 1xx arguments, 2xx malformed input, …). */
  readonly code: number;
  /** The core's error kind name, e.g. "malformed_key", "unknown_scheme", "key_spec_mismatch". */
  readonly kind: ErrorKindName;
  /** The error family from the generated error table, when the package was built with it. */
  readonly family: string | undefined;
  /** Whether retrying the same call may succeed. */
  readonly retryable: boolean;
}

/** The generated error table, or undefined when the package was built without it. */
export const errorKindTable:
  | Readonly<Record<string, { code: number; family: string; retryable: boolean }>>
  | undefined;
