// Signature verification, µs per operation: tresor-wasm against @noble/curves and WebCrypto. One module for
// Node and Chromium (run.mjs drives both).
//
// Fairness:
//   * every implementation verifies the same pool of POOL distinct key pairs, each with its own message and
//     signature, in turn (call i verifies pool entry i mod POOL): no result depends on verifying one
//     signature or one key again and again;
//   * every implementation must accept each pool signature and refuse a tampered message before it is timed,
//     and every timed call must return true;
//   * the semantics are Canton's: @noble/curves is asked for strict Ed25519 (zip215: false: canonical
//     encodings) and for ECDSA without the low-S rule (lowS: false: Canton and tresor accept both halves).
//
// Two ways of holding the keys, each measured for all three:
//   * "parsed key": each pool key is parsed once — a tresor-wasm PublicKey (fromRaw), a WebCrypto CryptoKey
//     (importKey); @noble/curves' verify takes the key's bytes only (it has no API taking a parsed point),
//     so its column is the same as in the other mode;
//   * "key bytes": the key arrives as bytes with the signature — tresor-wasm fromRaw + verify + free,
//     WebCrypto importKey + verify, @noble/curves verify.
//
// The implementations are timed in interleaved rounds (tresor, noble, WebCrypto, then again), each round
// running for at least `minMs` of the clock; the median round is reported. WebCrypto calls are awaited one
// after the other: that is the cost of verifying one signature, which is what a page does.

export const POOL = 16;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(fn, minMs, clock) {
  let n = 0;
  const start = clock();
  let now = start;
  while (now - start < minMs) {
    for (let i = 0; i < POOL; i++) {
      let ok = fn(i);
      if (typeof ok !== "boolean") ok = await ok;
      if (ok !== true) throw new Error("verification failed during the benchmark");
    }
    n += POOL;
    now = clock();
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
 * @param {() => number} [o.clock]  milliseconds: wall-clock time by default; run.mjs also passes Node's
 *                                  process CPU time (all threads), which other processes' load does not inflate
 */
export async function runBench({ lib, noble, subtle, minMs = 300, rounds = 5, log = () => {}, clock = () => performance.now() }) {
  const text = new TextEncoder();
  const cases = [
    { op: "Ed25519 verify", curve: noble.ed25519, nobleOpts: { zip215: false }, spec: "ec-curve-25519", algo: "ed-25519", wc: { name: "Ed25519" }, wcVerify: { name: "Ed25519" } },
    { op: "ECDSA P-256 verify", curve: noble.p256, nobleOpts: { lowS: false }, spec: "ec-p-256", algo: "ec-dsa-sha-256", wc: { name: "ECDSA", namedCurve: "P-256" }, wcVerify: { name: "ECDSA", hash: "SHA-256" } },
    { op: "ECDSA P-384 verify", curve: noble.p384, nobleOpts: { lowS: false }, spec: "ec-p-384", algo: "ec-dsa-sha-384", wc: { name: "ECDSA", namedCurve: "P-384" }, wcVerify: { name: "ECDSA", hash: "SHA-384" } },
  ];
  const rows = [];
  for (const c of cases) {
    const ecdsa = c.spec !== "ec-curve-25519";
    // The pool: POOL key pairs, each signing its own message (noble signs; every peer verifies the same bytes).
    const pool = [];
    for (let i = 0; i < POOL; i++) {
      const { secretKey } = c.curve.keygen();
      const pub = ecdsa ? c.curve.getPublicKey(secretKey, false) : c.curve.getPublicKey(secretKey);
      const msg = text.encode(`Canton topology transaction #${i}, about this long: ${"x".repeat(64)}`);
      const sig = c.curve.sign(msg, secretKey); // Ed25519: 64 bytes; ECDSA: compact r ‖ s (what WebCrypto takes)
      const cantonSig = ecdsa ? lib.ecdsaRawToDer(c.spec, sig) : sig; // Canton's format: DER for ECDSA
      pool.push({ pub, msg, sig, cantonSig, key: lib.PublicKey.fromRaw(c.spec, pub), wcKey: null });
    }
    let webcrypto = true;
    try {
      for (const p of pool) p.wcKey = await subtle.importKey("raw", p.pub, c.wc, false, ["verify"]);
    } catch (e) {
      log(`# ${c.op}: WebCrypto unavailable here (${e.message})`);
      webcrypto = false;
    }
    const nobleVerify = (i) => c.curve.verify(pool[i].sig, pool[i].msg, pool[i].pub, c.nobleOpts);
    const modes = {
      "parsed key": {
        tresor: (i) => pool[i].key.verify(c.algo, pool[i].msg, pool[i].cantonSig),
        noble: nobleVerify,
        webcrypto: webcrypto && ((i) => subtle.verify(c.wcVerify, pool[i].wcKey, pool[i].sig, pool[i].msg)),
      },
      "key bytes": {
        tresor: (i) => {
          const k = lib.PublicKey.fromRaw(c.spec, pool[i].pub);
          try {
            return k.verify(c.algo, pool[i].msg, pool[i].cantonSig);
          } finally {
            k.free();
          }
        },
        noble: nobleVerify,
        webcrypto:
          webcrypto &&
          (async (i) => subtle.verify(c.wcVerify, await subtle.importKey("raw", pool[i].pub, c.wc, false, ["verify"]), pool[i].sig, pool[i].msg)),
      },
    };
    // Every implementation must accept each signature and refuse a tampered message before it is timed.
    for (const p of pool) {
      const tampered = p.msg.slice();
      tampered[0] ^= 1;
      if (p.key.verify(c.algo, tampered, p.cantonSig) !== false) throw new Error(`tresor accepted a tampered ${c.op} message`);
      if (c.curve.verify(p.sig, tampered, p.pub, c.nobleOpts) !== false) throw new Error(`noble accepted a tampered ${c.op} message`);
      if (webcrypto && (await subtle.verify(c.wcVerify, p.wcKey, p.sig, tampered)) !== false) {
        throw new Error(`WebCrypto accepted a tampered ${c.op} message`);
      }
    }

    for (const [mode, impls] of Object.entries(modes)) {
      const samples = { tresor: [], noble: [], webcrypto: [] };
      for (const [name, fn] of Object.entries(impls)) {
        if (!fn) continue;
        for (let i = 0; i < POOL; i++) if ((await fn(i)) !== true) throw new Error(`${name} rejected a ${c.op} signature`);
      }
      for (let r = 0; r < rounds; r++) {
        for (const [name, fn] of Object.entries(impls)) if (fn) samples[name].push(await time(fn, minMs, clock));
      }
      const row = {
        op: c.op,
        mode,
        tresor_us: median(samples.tresor),
        noble_us: median(samples.noble),
        webcrypto_us: webcrypto ? median(samples.webcrypto) : null,
      };
      row.noble_ratio = row.noble_us / row.tresor_us;
      row.webcrypto_ratio = row.webcrypto_us === null ? null : row.webcrypto_us / row.tresor_us;
      log(`# ${row.op} (${mode}): tresor ${row.tresor_us.toFixed(1)} µs, noble ${row.noble_us.toFixed(1)} µs, WebCrypto ${row.webcrypto_us?.toFixed(1) ?? "n/a"} µs`);
      rows.push(row);
    }
    for (const p of pool) p.key.free();
  }
  return rows;
}
