// The error every tresor-wasm function throws for a failure reported by the tresor core.
//
// `code` is the core's stable numeric code and `kind` its snake-case name (tresor::ErrorKind::name); both
// come from the Rust side, so this class needs no table of its own. When the generated error table
// (`error-kinds.js`, written from the core's table by the project's generator) is present at build time, the
// build replaces the line below with an import of it, and `family` and `retryable` come from that table.
const ERROR_KINDS = undefined; // @error-kinds-import

export class TresorError extends Error {
  /**
   * @param {number} code the core's numeric error code
   * @param {string} kind the core's error kind name, e.g. "malformed_key"
   * @param {string} message the core's log-safe message
   */
  constructor(code, kind, message) {
    super(message);
    this.name = "TresorError";
    this.code = code;
    this.kind = kind;
  }

  /** The error family from the generated table (e.g. "malformed"), when the table is built in. */
  get family() {
    return ERROR_KINDS?.[this.kind]?.family;
  }

  /** Whether retrying the same call may succeed (never, for what this package does). */
  get retryable() {
    return ERROR_KINDS?.[this.kind]?.retryable ?? false;
  }
}

/** The generated error table, or undefined when the package was built without it. */
export const errorKindTable = ERROR_KINDS;
