// Builds the npm package into dist/: cargo (wasm32, release profile of this crate's own workspace),
// wasm-bindgen (the CLI pinned to the crate's exact wasm-bindgen version), wasm-opt (npm binaryen), the JS
// module and its types; then reports the gzipped .wasm size and fails above the budget.
//
// Environment:
//   CARGO_TARGET_DIR   cargo's target dir (default: <repo>/target/wasm)
//   WASM_BINDGEN       the wasm-bindgen CLI (default: <repo>/target/wasm-tools/bin/wasm-bindgen, then PATH)
//   TRESOR_WASM_OPT    wasm-opt level: Oz (default), Os, O2, O3, O4, or "none"
//   TRESOR_WASM_NIGHTLY  0 to build on the default toolchain without rebuilding std (larger)
//   TRESOR_WASM_CPUBITS  RustCrypto limb size: 32 (default), 64, or "default"
//   TRESOR_WASM_SIMD   0 to build without -C target-feature=+simd128 (on by default: Chrome 91, Firefox 89,
//                      Safari 16.4 and Node 16.4 and later run it; it made the .wasm smaller and not slower)
//   TRESOR_WASM_OPT_LEVEL  cargo opt-level override (3, 2, s, z)
//   TRESOR_WASM_OUT    output directory (default: dist)
//   TRESOR_WASM_NAMES  1 to keep the function names in the .wasm (for profiling; larger)

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = resolve(here, "..");
const repo = resolve(pkg, "..");
const out = resolve(pkg, process.env.TRESOR_WASM_OUT ?? "dist");
const targetDir = process.env.CARGO_TARGET_DIR ?? join(repo, "target", "wasm");
const GZIP_BUDGET = Number(process.env.TRESOR_WASM_GZIP_BUDGET ?? 150 * 1000); // bytes: 150 KB

function run(cmd, args, opts = {}) {
  console.log(`$ ${cmd} ${args.join(" ")}`);
  const start = Date.now();
  execFileSync(cmd, args, { stdio: "inherit", ...opts });
  console.log(`build: ${cmd.split("/").pop()} took ${((Date.now() - start) / 1000).toFixed(1)} s`);
}

function fail(msg) {
  console.error(`build: ${msg}`);
  process.exit(1);
}

// 1. cargo
const cargoToml = readFileSync(join(pkg, "Cargo.toml"), "utf8");
const pinned = /^wasm-bindgen\s*=\s*\{[^}]*version\s*=\s*"=([0-9.]+)"/m.exec(cargoToml)?.[1];
if (!pinned) fail("Cargo.toml must pin wasm-bindgen with an exact version (\"=x.y.z\")");

const env = { ...process.env, CARGO_TARGET_DIR: targetDir };
const rustflags = [];
// RustCrypto's field arithmetic word size (the cpubits crate): wasm32 defaults to 64-bit limbs, whose
// 64×64→128-bit products wasm has no instruction for; 32-bit limbs measured smaller (and not slower).
const cpubits = process.env.TRESOR_WASM_CPUBITS ?? "32";
if (cpubits !== "default") rustflags.push("--cfg", `cpubits="${cpubits}"`);
const simd = (process.env.TRESOR_WASM_SIMD ?? "1") === "1";
if (simd) rustflags.push("-C", "target-feature=+simd128");
// Nightly: rebuild std with panics as an immediate abort (no panic message formatting in the binary).
const nightly = (process.env.TRESOR_WASM_NIGHTLY ?? "1") === "1";
const cargoArgs = ["build", "--locked", "--release", "--target", "wasm32-unknown-unknown"];
if (nightly) {
  // No panic locations and no Debug formatting code either (tresor's messages use Display only).
  rustflags.push("-Zunstable-options", "-Cpanic=immediate-abort", "-Zlocation-detail=none", "-Zfmt-debug=none");
  cargoArgs.unshift(`+${process.env.TRESOR_WASM_TOOLCHAIN ?? "nightly"}`);
  cargoArgs.push("-Zbuild-std=std,panic_abort", "-Zbuild-std-features=optimize_for_size");
}
if (rustflags.length) env.CARGO_ENCODED_RUSTFLAGS = rustflags.join("\x1f");
if (process.env.TRESOR_WASM_OPT_LEVEL) env.CARGO_PROFILE_RELEASE_OPT_LEVEL = process.env.TRESOR_WASM_OPT_LEVEL;
run("cargo", cargoArgs, { cwd: pkg, env });
const built = join(targetDir, "wasm32-unknown-unknown", "release", "tresor_wasm.wasm");

// 2. wasm-bindgen, pinned
const candidates = [process.env.WASM_BINDGEN, join(repo, "target", "wasm-tools", "bin", "wasm-bindgen"), "wasm-bindgen"];
let bindgen;
for (const c of candidates.filter(Boolean)) {
  try {
    const v = execFileSync(c, ["--version"], { encoding: "utf8" }).trim();
    if (v === `wasm-bindgen ${pinned}`) {
      bindgen = c;
      break;
    }
    console.log(`build: ${c} is ${v}, not ${pinned}; skipped`);
  } catch {
    // not there
  }
}
if (!bindgen) {
  fail(
    `wasm-bindgen ${pinned} not found: cargo install wasm-bindgen-cli --version ${pinned} --root ${join(repo, "target", "wasm-tools")}` +
      " (scripts/wasm.sh does this)",
  );
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
run(bindgen, [
  "--target", "web",
  "--weak-refs",
  "--experimental-reset-state-function",
  "--out-dir", out,
  "--out-name", "tresor_wasm",
  built,
]);

// 3. wasm-opt from npm binaryen (Debian's binaryen mis-handles wasm-bindgen output)
const wasmPath = join(out, "tresor_wasm_bg.wasm");
const level = process.env.TRESOR_WASM_OPT ?? "Oz";
if (level !== "none") {
  const wasmOpt = join(pkg, "node_modules", ".bin", "wasm-opt");
  if (!existsSync(wasmOpt)) fail("node_modules/.bin/wasm-opt is missing: run npm ci in bindings-wasm");
  const features = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
  ];
  if (simd) features.push("--enable-simd");
  // The module defines its own memory, so it starts zero-filled (also after a reset, which makes a new instance).
  const strip = process.env.TRESOR_WASM_NAMES === "1" ? ["-g"] : ["--strip-debug", "--strip-producers"];
  const optArgs = ["--zero-filled-memory", `-${level}`, "--converge", ...features, ...strip];
  // wasm-opt is most of a rebuild's time and a pure function of its input, its arguments and its version:
  // its output is kept in the target directory under a hash of the three and reused when they recur.
  const binaryen = JSON.parse(readFileSync(join(pkg, "node_modules", "binaryen", "package.json"), "utf8")).version;
  const key = createHash("sha256").update(readFileSync(wasmPath)).update(JSON.stringify([optArgs, binaryen])).digest("hex");
  const cached = join(targetDir, "wasm-opt-cache", `${key}.wasm`);
  if (existsSync(cached)) {
    copyFileSync(cached, wasmPath);
    console.log(`build: wasm-opt output reused (${cached})`);
  } else {
    run(wasmOpt, [...optArgs, wasmPath, "-o", wasmPath]);
    rmSync(join(targetDir, "wasm-opt-cache"), { recursive: true, force: true });
    mkdirSync(join(targetDir, "wasm-opt-cache"), { recursive: true });
    copyFileSync(wasmPath, cached);
  }
}

// 4. the JS module, its types, the error class (with the generated error table when it exists)
copyFileSync(join(pkg, "js", "index.js"), join(out, "index.js"));
copyFileSync(join(pkg, "js", "index.d.ts"), join(out, "index.d.ts"));
let errorJs = readFileSync(join(pkg, "js", "tresor-error.js"), "utf8");
let errorDts = readFileSync(join(pkg, "js", "tresor-error.d.ts"), "utf8");
const kindsJs = join(pkg, "js", "error-kinds.js");
const kindsDts = join(pkg, "js", "error-kinds.d.ts");
if (existsSync(kindsJs)) {
  copyFileSync(kindsJs, join(out, "error-kinds.js"));
  errorJs = errorJs.replace(
    /^const ERROR_KINDS = undefined; \/\/ @error-kinds-import$/m,
    'import { ERROR_KINDS } from "./error-kinds.js";',
  );
  if (existsSync(kindsDts)) {
    copyFileSync(kindsDts, join(out, "error-kinds.d.ts"));
    errorDts = errorDts.replace(
      /^export type ErrorKindName = string; \/\/ @error-kinds-type$/m,
      'import type { ErrorKind } from "./error-kinds.js";\nexport type ErrorKindName = ErrorKind;',
    );
  }
  console.log("build: error table js/error-kinds.js built in");
} else {
  console.log("build: js/error-kinds.js not present; TresorError carries the core's code and kind only");
}
writeFileSync(join(out, "tresor-error.js"), errorJs);
writeFileSync(join(out, "tresor-error.d.ts"), errorDts);

// 5. size
const wasm = readFileSync(wasmPath);
const gz = gzipSync(wasm, { level: 9 }).length;
const glue = readFileSync(join(out, "tresor_wasm.js"));
const info = {
  wasm_bytes: wasm.length,
  wasm_gzip_bytes: gz,
  js_gzip_bytes: gzipSync(Buffer.concat([glue, readFileSync(join(out, "index.js"))]), { level: 9 }).length,
  wasm_opt: level,
  simd128: simd,
  cpubits,
  nightly_immediate_abort: nightly,
  budget_gzip_bytes: GZIP_BUDGET,
};
writeFileSync(join(out, "build-info.json"), JSON.stringify(info, null, 2) + "\n");
console.log(
  `build: tresor_wasm_bg.wasm ${(wasm.length / 1000).toFixed(1)} KB, gzipped ${(gz / 1000).toFixed(1)} KB ` +
    `(budget ${GZIP_BUDGET / 1000} KB); JS glue gzipped ${(info.js_gzip_bytes / 1000).toFixed(1)} KB`,
);
if (gz > GZIP_BUDGET) fail(`the gzipped .wasm is ${gz} bytes, above the ${GZIP_BUDGET}-byte budget`);
if (statSync(wasmPath).size === 0) fail("empty .wasm");
