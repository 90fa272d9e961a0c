package io.tresor.canton.conformance;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.ECNamedCurveTable;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jce.spec.IESParameterSpec;
import org.bouncycastle.math.ec.ECCurve;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * The suite's reference crypto: BouncyCastle used the way Canton's JCE provider uses it (spec/canton-compat.md §1a,
 * §6), to validate a driver's public keys, verify its signatures and produce ciphertexts for it to decrypt.
 *
 * <ul>
 *   <li>Public keys: DER SubjectPublicKeyInfo, canonical; EC points uncompressed and on the curve of the spec;
 *       Ed25519 fully validated; RSA modulus exactly 2048 bits with e = 65537.
 *   <li>ECDSA: {@code SHA256withECDSA} / {@code SHA384withECDSA}, DER signatures decoded strictly by BouncyCastle
 *       (non-minimal DER and raw r‖s are rejected; high S is accepted).
 *   <li>Ed25519: {@code Ed25519}, 64-byte signatures.
 *   <li>ECIES: {@code ECIESwithSHA256andAES-CBC} with {@code IESParameterSpec([], [], 512, 128, iv)}, the 16-byte IV
 *       prepended: {@code IV(16) ‖ V(65) ‖ C ‖ T(32)}.
 *   <li>RSA: {@code RSA/NONE/OAEPWithSHA256AndMGF1Padding} (BouncyCastle: MGF1 with SHA-256, empty label).
 * </ul>
 *
 * Every method throws {@link AssertionError} with a description of what is wrong with the driver's output.
 */
public final class CantonReferenceCrypto {

  private static final BouncyCastleProvider BC = new BouncyCastleProvider();
  /** id-Ed25519 (RFC 8410). */
  private static final ASN1ObjectIdentifier ID_ED25519 = new ASN1ObjectIdentifier("1.3.101.112");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The ECIES tag and IV sizes of Canton's parameterisation. */
  static final int ECIES_IV_BYTES = 16;

  static final int ECIES_MAC_BYTES = 32;

  private CantonReferenceCrypto() {}

  // --- public keys ----------------------------------------------------------------------------------------

  /** Parses and validates a driver's public key for {@code expected}; returns the JCA key. */
  public static PublicKey validatedPublicKey(byte[] spkiDer, KeySpec expected) {
    SubjectPublicKeyInfo spki = parseSpki(spkiDer);
    AlgorithmIdentifier algorithm = spki.getAlgorithm();
    byte[] keyBits = spki.getPublicKeyData().getBytes();
    if (spki.getPublicKeyData().getPadBits() != 0) {
      throw new AssertionError("the public key BIT STRING has unused bits");
    }
    if (expected == SigningKeySpec.EcCurve25519$.MODULE$) {
      expectOid(algorithm.getAlgorithm(), ID_ED25519, expected);
      if (algorithm.getParameters() != null) {
        throw new AssertionError("an Ed25519 SubjectPublicKeyInfo has no algorithm parameters");
      }
      if (keyBits.length != Ed25519.PUBLIC_KEY_SIZE) {
        throw new AssertionError("an Ed25519 public key is 32 bytes, got " + keyBits.length);
      }
      if (!Ed25519.validatePublicKeyFull(keyBits, 0)) {
        throw new AssertionError("the Ed25519 public key fails full validation (not a valid point of prime order)");
      }
      return jcaKey("Ed25519", spkiDer);
    }
    if (expected == EncryptionKeySpec.Rsa2048$.MODULE$) {
      expectOid(algorithm.getAlgorithm(), PKCSObjectIdentifiers.rsaEncryption, expected);
      RSAPublicKey rsa = (RSAPublicKey) jcaKey("RSA", spkiDer);
      if (rsa.getModulus().bitLength() != 2048) {
        throw new AssertionError("an RSA-2048 modulus has exactly 2048 bits, got " + rsa.getModulus().bitLength());
      }
      if (!rsa.getPublicExponent().equals(BigInteger.valueOf(65537))) {
        throw new AssertionError("the RSA public exponent must be 65537, got " + rsa.getPublicExponent());
      }
      return rsa;
    }
    ASN1ObjectIdentifier curve = curveOf(expected);
    expectOid(algorithm.getAlgorithm(), X9ObjectIdentifiers.id_ecPublicKey, expected);
    if (algorithm.getParameters() == null
        || !(algorithm.getParameters().toASN1Primitive() instanceof ASN1ObjectIdentifier)) {
      throw new AssertionError("an EC SubjectPublicKeyInfo names its curve by OID (namedCurve)");
    }
    expectOid((ASN1ObjectIdentifier) algorithm.getParameters().toASN1Primitive(), curve, expected);
    ECCurve ecCurve = ECNamedCurveTable.getParameterSpec(curve.getId()).getCurve();
    int fieldBytes = (ecCurve.getFieldSize() + 7) / 8;
    if (keyBits.length == 0 || keyBits[0] != 0x04) {
      throw new AssertionError(
          "EC points must be uncompressed (0x04 ‖ X ‖ Y); got first byte "
              + (keyBits.length == 0 ? "none" : String.format("0x%02x", keyBits[0]))
              + " and "
              + keyBits.length
              + " bytes");
    }
    if (keyBits.length != 1 + 2 * fieldBytes) {
      throw new AssertionError(
          "an uncompressed point on this curve is " + (1 + 2 * fieldBytes) + " bytes, got " + keyBits.length);
    }
    ECPoint point;
    try {
      point = ecCurve.decodePoint(keyBits);
    } catch (IllegalArgumentException e) {
      throw new AssertionError("the EC point is not on the curve: " + e.getMessage(), e);
    }
    if (!point.isValid() || point.isInfinity()) {
      throw new AssertionError("the EC point is not a valid point of the curve");
    }
    return jcaKey("EC", spkiDer);
  }

  private static SubjectPublicKeyInfo parseSpki(byte[] der) {
    if (der == null || der.length == 0) {
      throw new AssertionError("the public key is empty");
    }
    SubjectPublicKeyInfo spki;
    try {
      spki = SubjectPublicKeyInfo.getInstance(ASN1Primitive.fromByteArray(der));
      if (!Arrays.equals(spki.getEncoded(ASN1Encoding.DER), der)) {
        throw new AssertionError("the public key is not canonical DER (or has trailing bytes)");
      }
    } catch (java.io.IOException | IllegalArgumentException | IllegalStateException e) {
      throw new AssertionError("the public key is not a DER X.509 SubjectPublicKeyInfo: " + e, e);
    }
    return spki;
  }

  private static ASN1ObjectIdentifier curveOf(KeySpec spec) {
    if (spec == SigningKeySpec.EcP256$.MODULE$ || spec == EncryptionKeySpec.EcP256$.MODULE$) {
      return SECObjectIdentifiers.secp256r1;
    }
    if (spec == SigningKeySpec.EcP384$.MODULE$) {
      return SECObjectIdentifiers.secp384r1;
    }
    if (spec == SigningKeySpec.EcSecp256k1$.MODULE$) {
      return SECObjectIdentifiers.secp256k1;
    }
    throw new IllegalArgumentException("no curve for " + spec);
  }

  private static void expectOid(ASN1ObjectIdentifier got, ASN1ObjectIdentifier want, KeySpec spec) {
    if (!want.equals(got)) {
      throw new AssertionError("a " + spec + " key has OID " + want.getId() + ", got " + got.getId());
    }
  }

  private static PublicKey jcaKey(String algorithm, byte[] der) {
    try {
      return KeyFactory.getInstance(algorithm, BC).generatePublic(new X509EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new AssertionError("BouncyCastle refuses the " + algorithm + " public key: " + e, e);
    }
  }

  // --- signatures -----------------------------------------------------------------------------------------

  /** The JCA signature name Canton uses for {@code algo}. */
  public static String jcaSignatureName(SigningAlgoSpec algo) {
    if (algo == SigningAlgoSpec.Ed25519$.MODULE$) {
      return "Ed25519";
    }
    if (algo == SigningAlgoSpec.EcDsaSha256$.MODULE$) {
      return "SHA256withECDSA";
    }
    if (algo == SigningAlgoSpec.EcDsaSha384$.MODULE$) {
      return "SHA384withECDSA";
    }
    throw new IllegalArgumentException("unknown signing algorithm " + algo);
  }

  /** Verifies {@code signature} over {@code data} in Canton's format for {@code algo}. */
  public static void verify(PublicKey key, SigningAlgoSpec algo, byte[] data, byte[] signature) {
    if (signature == null) {
      throw new AssertionError("the signature is null");
    }
    if (algo == SigningAlgoSpec.Ed25519$.MODULE$ && signature.length != Ed25519.SIGNATURE_SIZE) {
      throw new AssertionError("an Ed25519 signature is 64 bytes (R ‖ S), got " + signature.length);
    }
    boolean derHeader =
        signature.length >= 2 && signature[0] == 0x30 && (signature[1] & 0xff) == signature.length - 2;
    if (algo != SigningAlgoSpec.Ed25519$.MODULE$ && !derHeader) {
      // ECDSA DER signatures on these curves are at most 104 bytes, so their length always has the short form.
      throw new AssertionError(
          "an ECDSA signature is DER SEQUENCE { r, s } (Canton's SignatureFormat.Der); got "
              + signature.length
              + " bytes without a DER SEQUENCE header"
              + (signature.length == 64 || signature.length == 96 ? " (raw r ‖ s?)" : ""));
    }
    boolean valid;
    try {
      Signature verifier = Signature.getInstance(jcaSignatureName(algo), BC);
      verifier.initVerify(key);
      verifier.update(data);
      valid = verifier.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new AssertionError(
          "BouncyCastle rejects the " + algo + " signature (BouncyCastle decodes DER strictly): " + e, e);
    }
    if (!valid) {
      throw new AssertionError("the " + algo + " signature does not verify under the driver's public key");
    }
  }

  // --- encryption -----------------------------------------------------------------------------------------

  /** Encrypts {@code plaintext} for {@code key} in Canton's wire format for {@code algo}. */
  public static byte[] encrypt(PublicKey key, EncryptionAlgoSpec algo, byte[] plaintext) {
    try {
      if (algo == EncryptionAlgoSpec.EciesHkdfHmacSha256Aes128Cbc$.MODULE$) {
        byte[] iv = new byte[ECIES_IV_BYTES];
        RANDOM.nextBytes(iv);
        Cipher cipher = Cipher.getInstance("ECIESwithSHA256andAES-CBC", BC);
        cipher.init(Cipher.ENCRYPT_MODE, key, new IESParameterSpec(new byte[0], new byte[0], 512, 128, iv), RANDOM);
        byte[] body = cipher.doFinal(plaintext);
        byte[] out = new byte[iv.length + body.length];
        System.arraycopy(iv, 0, out, 0, iv.length);
        System.arraycopy(body, 0, out, iv.length, body.length);
        return out;
      }
      if (algo == EncryptionAlgoSpec.RsaEsOaepSha256$.MODULE$) {
        Cipher cipher = Cipher.getInstance("RSA/NONE/OAEPWithSHA256AndMGF1Padding", BC);
        cipher.init(Cipher.ENCRYPT_MODE, key, RANDOM);
        return cipher.doFinal(plaintext);
      }
    } catch (GeneralSecurityException e) {
      throw new AssertionError("reference encryption with " + algo + " failed: " + e, e);
    }
    throw new IllegalArgumentException("unknown encryption algorithm " + algo);
  }
}
