// Signature verification, µs per operation: tresor-wasm against @noble/curves and WebCrypto, the same
// keys, messages and signatures for all three. One module for Node and Chromium (run.mjs drives both).
//
// Each implementation is timed in interleaved rounds (tresor, noble, WebCrypto, then again), each round
// running for at least `minMs`; the median round is reported. WebCrypto calls are awaited one after the
// other: that is the cost of verifying one signature, which is what a page does.

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeSync(fn, minMs) {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    for (let i = 0; i < 10; i++) if (!fn()) throw new Error("verification failed during the benchmark");
    n += 10;
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}

async function timeAsync(fn, minMs) {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < minMs) {
    for (let i = 0; i < 10; i++) if (!(await fn())) throw new Error("verification failed during the benchmark");
    n += 10;
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}

/**
 * @param {object} o
 * @param {object} o.lib       the tresor-wasm module
 * @param {object} o.noble     { ed25519, p256, p384 } from @noble/curves
 * @param {SubtleCrypto} o.subtle
 * @param {number} [o.minMs]   time per round and implementation
 * @param {number} [o.rounds]
 */
export async function runBench({ lib, noble, subtle, minMs = 300, rounds = 3, log = () => {} }) {
  const msg = new TextEncoder().encode("a Canton topology transaction, more or less this long: " + "x".repeat(64));
  const cases = [
    { op: "Ed25519 verify", curve: noble.ed25519, spec: "ec-curve-25519", algo: "ed-25519", wc: { name: "Ed25519" }, wcVerify: { name: "Ed25519" } },
    { op: "ECDSA P-256 verify", curve: noble.p256, spec: "ec-p-256", algo: "ec-dsa-sha-256", wc: { name: "ECDSA", namedCurve: "P-256" }, wcVerify: { name: "ECDSA", hash: "SHA-256" } },
    { op: "ECDSA P-384 verify", curve: noble.p384, spec: "ec-p-384", algo: "ec-dsa-sha-384", wc: { name: "ECDSA", namedCurve: "P-384" }, wcVerify: { name: "ECDSA", hash: "SHA-384" } },
  ];
  const rows = [];
  for (const c of cases) {
    const { secretKey } = c.curve.keygen();
    const ecdsa = c.spec !== "ec-curve-25519";
    const pub = ecdsa ? c.curve.getPublicKey(secretKey, false) : c.curve.getPublicKey(secretKey);
    const sig = c.curve.sign(msg, secretKey); // Ed25519: 64 bytes; ECDSA: compact r ‖ s (low S)
    const key = lib.PublicKey.fromRaw(c.spec, pub);
    const cantonSig = ecdsa ? lib.ecdsaRawToDer(c.spec, sig) : sig;

    let wcKey = null;
    try {
      wcKey = await subtle.importKey("raw", pub, c.wc, false, ["verify"]);
      if (!(await subtle.verify(c.wcVerify, wcKey, sig, msg))) throw new Error("WebCrypto rejected the signature");
    } catch (e) {
      log(`# ${c.op}: WebCrypto unavailable here (${e.message})`);
      wcKey = null;
    }
    const impls = {
      tresor: () => key.verify(c.algo, msg, cantonSig),
      noble: () => c.curve.verify(sig, msg, pub),
    };
    for (const [name, fn] of Object.entries(impls)) if (!fn()) throw new Error(`${name} rejected the ${c.op} signature`);

    const samples = { tresor: [], noble: [], webcrypto: [] };
    for (let r = 0; r < rounds; r++) {
      samples.tresor.push(await timeSync(impls.tresor, minMs));
      samples.noble.push(await timeSync(impls.noble, minMs));
      if (wcKey) samples.webcrypto.push(await timeAsync(() => subtle.verify(c.wcVerify, wcKey, sig, msg), minMs));
    }
    key.free();
    const row = {
      op: c.op,
      tresor_us: median(samples.tresor),
      noble_us: median(samples.noble),
      webcrypto_us: wcKey ? median(samples.webcrypto) : null,
    };
    row.noble_ratio = row.noble_us / row.tresor_us;
    row.webcrypto_ratio = row.webcrypto_us === null ? null : row.webcrypto_us / row.tresor_us;
    log(`# ${row.op}: tresor ${row.tresor_us.toFixed(1)} µs, noble ${row.noble_us.toFixed(1)} µs, WebCrypto ${row.webcrypto_us?.toFixed(1) ?? "n/a"} µs`);
    rows.push(row);
  }
  return rows;
}
