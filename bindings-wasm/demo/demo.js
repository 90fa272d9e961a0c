// The demo page: reads what the user pasted, decodes hex/base64 text, and asks tresor-wasm for the
// fingerprint and the verdict. All checks are tresor's; this file only handles the form.
import { PublicKey, TresorError, VERSION } from "../dist/index.js";

const $ = (id) => document.getElementById(id);

class InputError extends Error {}

/** Hex (optionally 0x-prefixed, whitespace and colons ignored) or base64/base64url text as bytes. */
function decodeBinary(text, what) {
  const t = text.trim();
  if (t === "") throw new InputError(`${what} is empty`);
  const hex = t.replace(/^0x/i, "").replace(/[\s:]/g, "");
  if (/^[0-9a-fA-F]+$/.test(hex) && hex.length % 2 === 0) {
    return Uint8Array.from(hex.match(/../g), (b) => parseInt(b, 16));
  }
  const b64 = t.replace(/\s/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    try {
      return Uint8Array.from(atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
    } catch {
      // fall through
    }
  }
  throw new InputError(`${what} is neither hex nor base64`);
}

function decodeMessage(text, encoding) {
  if (encoding === "text") return new TextEncoder().encode(text);
  if (text.trim() === "") return new Uint8Array(0);
  return decodeBinary(text, "the message");
}

function parseKey(text, format) {
  const t = text.trim();
  if (t === "") throw new InputError("paste a public key");
  if (format !== "auto") return PublicKey.fromRaw(format, decodeBinary(t, "the raw key"));
  if (t.startsWith("-----")) return PublicKey.fromPem(t);
  if (t.startsWith("{")) return PublicKey.fromJwk(t);
  return PublicKey.fromSpkiDer(decodeBinary(t, "the key"));
}

function show(kind, title, detail = "") {
  const v = $("verdict");
  v.className = `verdict ${kind}`;
  v.textContent = title;
  if (detail) {
    const small = document.createElement("small");
    small.textContent = detail;
    v.append(small);
  }
  v.dataset.verdict = kind;
}

function describe(e) {
  if (e instanceof TresorError) return `${e.message} (${e.kind}, code ${e.code})`;
  if (e instanceof InputError || e instanceof TypeError) return e.message;
  return String(e?.message ?? e);
}

function run() {
  const info = $("key-info");
  info.hidden = true;
  let key;
  try {
    key = parseKey($("key").value, $("key-format").value);
  } catch (e) {
    show("error", "Malformed public key", describe(e));
    return;
  }
  try {
    $("result-key").textContent = `${key.keyTypeName} (${key.keySpec})`;
    $("result-fp").textContent = key.fingerprint;
    const claimed = $("expected-fp").value.trim();
    const match = $("result-fp-match");
    match.className = "";
    if (claimed === "") {
      match.textContent = "none given";
    } else {
      try {
        const ok = key.hasFingerprint(claimed.toLowerCase());
        match.textContent = ok ? "✓ matches this key" : "✗ does NOT match this key";
        match.className = ok ? "match" : "mismatch";
      } catch (e) {
        match.textContent = `✗ not a Canton fingerprint: ${describe(e)}`;
        match.className = "mismatch";
      }
    }
    match.dataset.match = match.className || "none";
    info.hidden = false;

    if ($("signature").value.trim() === "") {
      show("idle", "Key parsed. Paste a signature to verify it.");
      return;
    }
    let msg;
    let sig;
    try {
      msg = decodeMessage($("message").value, $("message-encoding").value);
      sig = decodeBinary($("signature").value, "the signature");
    } catch (e) {
      show("error", "Malformed input", describe(e));
      return;
    }
    const choice = $("algorithm").value;
    const algorithm = choice === "auto" ? key.defaultAlgorithm : choice;
    try {
      const valid = key.verify(algorithm, msg, sig);
      if (valid) show("valid", "✓ Valid signature", `${algorithm} over ${msg.length} bytes by key ${key.fingerprint}`);
      else show("invalid", "✗ Invalid signature", `the signature does not verify for this key and message (${algorithm})`);
    } catch (e) {
      show("error", "Malformed input", describe(e));
    }
  } finally {
    key.free();
  }
}

const EXAMPLE = {
  key: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEApvuNkNWUuHy929OywdmFtIbICz8PbWYhusrkEBAqlzg=\n-----END PUBLIC KEY-----",
  fingerprint: "12204a1de979ceba329a8991bac1ea39e7b61067d738b924d0f776e139f86da8a894",
  message: "hello, Canton",
  signature:
    "377c7c531d4152d9ea2aefe59550239fc267486ca44765ddd7e14d0d7696de00751fe2ced85df5a9a7bd247dff859e8069d5d65b94efaefe4c97ce0837eb6300",
};

$("form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  run();
});
$("example").addEventListener("click", () => {
  $("key").value = EXAMPLE.key;
  $("key-format").value = "auto";
  $("expected-fp").value = EXAMPLE.fingerprint;
  $("message").value = EXAMPLE.message;
  $("message-encoding").value = "text";
  $("signature").value = EXAMPLE.signature;
  $("algorithm").value = "auto";
  run();
});
$("version").textContent = VERSION;
$("verify").disabled = false;
$("example").disabled = false;
show("idle", "Ready. Nothing you paste leaves this page.");
document.body.dataset.ready = "true";
