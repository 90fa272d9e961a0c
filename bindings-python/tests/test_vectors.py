"""The shared test vectors (tests/vectors/*.json, schema in tests/vectors/README.md), run through the wheel.

Every case of every file runs as one test. A file whose operation this runner does not implement fails,
unless its `not_run_by` names `python` with the reason (then its cases are skipped with that reason).
Errors are checked by kind (`exception.kind`), never by message.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any, Callable, Dict

import pytest

import tresor

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "tests" / "vectors"
SCHEMA = "tresor-vectors/1"

Case = Dict[str, Any]
# Each runner takes (file header, case input) and returns the output fields, or raises.
Runner = Callable[[Dict[str, Any], Dict[str, Any]], Dict[str, Any]]

# Raw key types of `public-key-parse` (the schema's names) → tresor's key spec names.
RAW_KEY_TYPES = {
    "ed25519": "ec-curve-25519",
    "ec-p-256": "ec-p-256",
    "ec-p-384": "ec-p-384",
    "ec-secp256k1": "ec-secp-256k-1",
}
# `size` of the ECDSA encodings (r and s byte lengths) → a key spec with that field size.
ECDSA_SIZES = {32: "ec-p-256", 48: "ec-p-384"}


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def run_verify(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    key = tresor.PublicKey.from_der(h(i["public_key"]))
    key.verify(h(i["sig"]), h(i["msg"]), head["algorithm"])
    return {}


def run_sign(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    key = tresor.PrivateKey.from_der(h(i["private_key"]))
    return {"sig": key.sign(h(i["msg"]), head["algorithm"]).hex()}


def run_fingerprint(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    return {"fingerprint": tresor.PublicKey.from_der(h(i["public_key"])).fingerprint}


def run_public_key_parse(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    fmt, key = i["format"], i["key"]
    if fmt == "der":
        pub = tresor.PublicKey.from_der(h(key))
    elif fmt == "pem":
        pub = tresor.PublicKey.from_pem(key)
    elif fmt == "jwk":
        pub = tresor.PublicKey.from_jwk(key if isinstance(key, str) else json.dumps(key))
    elif fmt == "raw":
        pub = tresor.PublicKey.from_raw(RAW_KEY_TYPES.get(i["key_type"], i["key_type"]), h(key))
    else:
        raise AssertionError(f"unknown format {fmt!r}")
    return {"public_key": pub.to_der().hex(), "fingerprint": pub.fingerprint}


def run_canton_hash(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    return {"hash": tresor.canton_hash(int(i["purpose"]), h(i["content"])).hex()}


def run_aes_gcm_decrypt(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    return {"plaintext": tresor.AesGcmKey(h(i["key"])).decrypt(h(i["ciphertext"])).hex()}


def run_hmac(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    return {"tag": tresor.hmac_sha256(h(i["key"]), h(i["msg"])).hex()}


def run_hkdf(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    okm = tresor.hkdf_sha256(h(i["ikm"]), salt=h(i["salt"]), info=h(i["info"]), length=int(i["length"]))
    return {"okm": okm.hex()}


def run_decrypt(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    key = tresor.PrivateKey.from_der(h(i["private_key"]))
    return {"plaintext": key.decrypt(h(i["ciphertext"]), head["algorithm"]).hex()}


def run_der_to_raw(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    return {"raw": tresor.ecdsa_der_to_raw(h(i["der"]), ECDSA_SIZES[int(i["size"])]).hex()}


def run_raw_to_der(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    return {"der": tresor.ecdsa_raw_to_der(h(i["raw"]), ECDSA_SIZES[int(i["size"])]).hex()}


def run_key_usage(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    return {"canonical": ",".join(tresor.key_usage(i["usages"]))}


def run_scheme_name(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    return {"canonical": tresor.scheme_name(i["kind"], i["name"])}


def run_sealed_export_open(head: Dict[str, Any], i: Dict[str, Any]) -> Dict[str, Any]:
    opened = tresor.open_sealed_export(i["file"], i["password"])
    return {
        "fingerprint": opened.fingerprint,
        "purpose": opened.purpose,
        "usage": None if opened.usage is None else ",".join(opened.usage),
        "key_spec": opened.spec,
        "name": opened.name,
    }


RUNNERS: Dict[str, Runner] = {
    "verify": run_verify,
    "sign": run_sign,
    "fingerprint": run_fingerprint,
    "public-key-parse": run_public_key_parse,
    "canton-hash": run_canton_hash,
    "aes-128-gcm-decrypt": run_aes_gcm_decrypt,
    "hmac-sha-256": run_hmac,
    "hkdf-sha-256": run_hkdf,
    "decrypt": run_decrypt,
    "ecdsa-der-to-raw": run_der_to_raw,
    "ecdsa-raw-to-der": run_raw_to_der,
    "key-usage": run_key_usage,
    "scheme-name": run_scheme_name,
    "sealed-export-open": run_sealed_export_open,
}


def normalise(field: str, value: Any) -> Any:
    """Hex compares case-insensitively; a usage list may be written as an array or a comma list."""
    if field == "usage" and isinstance(value, list):
        return ",".join(value)
    if isinstance(value, str) and field not in ("name", "purpose", "key_spec", "canonical", "usage"):
        return value.lower()
    return value


def files() -> list[pathlib.Path]:
    return sorted(VECTORS.glob("*.json"))


def cases() -> list[Any]:
    params: list[Any] = []
    for path in files():
        head = json.loads(path.read_text())
        skip = (head.get("not_run_by") or {}).get("python")
        for case in head.get("tests", []):
            marks = [pytest.mark.skip(reason=f"not_run_by.python: {skip}")] if skip else []
            params.append(pytest.param(path.name, case, id=f"{path.stem}:{case.get('id')}", marks=marks))
    return params


@pytest.mark.parametrize("path", [p.name for p in files()] or ["(none)"])
def test_vector_file(path: str) -> None:
    """Each file is well-formed and its operation is one this runner implements (or it says why not)."""
    if path == "(none)":
        pytest.skip(f"no vector files in {VECTORS} yet (written by `cargo run -p tresor-codegen -- vectors`)")
    head = json.loads((VECTORS / path).read_text())
    assert head.get("schema") == SCHEMA, f"{path}: schema {head.get('schema')!r}"
    operation = head.get("operation")
    if operation not in RUNNERS:
        reason = (head.get("not_run_by") or {}).get("python")
        assert reason, f"{path}: operation {operation!r} has no python runner and not_run_by.python is absent"
    ids = [c.get("id") for c in head.get("tests", [])]
    assert len(ids) == len(set(ids)), f"{path}: duplicate case ids"
    assert ids, f"{path}: no cases"


@pytest.mark.parametrize("name,case", cases())
def test_vector_case(name: str, case: Case) -> None:
    head = json.loads((VECTORS / name).read_text())
    runner = RUNNERS.get(head["operation"])
    if runner is None:
        pytest.fail(f"{name}: no python runner for operation {head['operation']!r}")
    expect = case["expect"]
    if expect == "valid":
        got = runner(head, case["input"])
        for field, want in (case.get("output") or {}).items():
            assert field in got, f"the runner does not produce {field!r}"
            assert normalise(field, got[field]) == normalise(field, want), field
        return
    assert expect in ("invalid", "error"), f"unknown expect {expect!r}"
    with pytest.raises(tresor.TresorError) as e:
        runner(head, case["input"])
    assert e.value.kind == case["error_kind"], f"{type(e.value).__name__}: {e.value}"
    if expect == "invalid":
        assert isinstance(e.value, tresor.CryptoError)
