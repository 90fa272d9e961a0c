package io.tresor;

import io.tresor.internal.Native;

/** ECDSA signature encodings: Canton's strict DER and the raw {@code r ‖ s} form (JWS, PKCS#11, WebCrypto). */
public final class EcdsaSignatures {

  private EcdsaSignatures() {}

  /** DER {@code SEQUENCE {r, s}} (strict) to {@code r ‖ s} with the curve's field size. */
  public static byte[] derToRaw(SigningKeySpec spec, byte[] der) throws TresorException {
    if (spec == null) {
      throw new NullArgumentException("spec must not be null");
    }
    return Native.Ecdsa_derToRaw(spec.configName(), der);
  }

  /** {@code r ‖ s} to minimal DER. */
  public static byte[] rawToDer(SigningKeySpec spec, byte[] raw) throws TresorException {
    if (spec == null) {
      throw new NullArgumentException("spec must not be null");
    }
    return Native.Ecdsa_rawToDer(spec.configName(), raw);
  }
}
