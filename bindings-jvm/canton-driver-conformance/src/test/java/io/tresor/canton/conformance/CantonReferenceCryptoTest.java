package io.tresor.canton.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.jce.ECNamedCurveTable;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jce.spec.ECNamedCurveParameterSpec;
import org.bouncycastle.math.ec.ECPoint;
import org.junit.jupiter.api.Test;

/**
 * The suite's reference crypto on its own: it must accept exactly what Canton's JCE accepts (spec/canton-compat.md
 * §1a, §6), so these tests pin its edges with hand-made inputs, independently of any driver.
 */
class CantonReferenceCryptoTest {

  private static final BouncyCastleProvider BC = new BouncyCastleProvider();
  private static final byte[] DATA = "test".getBytes(StandardCharsets.UTF_8);

  private static KeyPair ec(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC", BC);
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  private static byte[] ecdsa(KeyPair pair, String algorithm) throws Exception {
    Signature s = Signature.getInstance(algorithm, BC);
    s.initSign(pair.getPrivate());
    s.update(DATA);
    return s.sign();
  }

  private static BigInteger[] rs(byte[] der) {
    ASN1Sequence seq = ASN1Sequence.getInstance(der);
    return new BigInteger[] {
      ASN1Integer.getInstance(seq.getObjectAt(0)).getValue(), ASN1Integer.getInstance(seq.getObjectAt(1)).getValue()
    };
  }

  private static byte[] der(BigInteger r, BigInteger s) throws Exception {
    ASN1EncodableVector v = new ASN1EncodableVector();
    v.add(new ASN1Integer(r));
    v.add(new ASN1Integer(s));
    return new DERSequence(v).getEncoded();
  }

  @Test
  void ecdsaDerSignaturesVerifyOnEachCurve() throws Exception {
    for (SigningKeySpec spec : Specs.SIGNING_KEY_SPECS) {
      if (spec == SigningKeySpec.EcCurve25519$.MODULE$) {
        continue;
      }
      String curve =
          spec == SigningKeySpec.EcP256$.MODULE$ ? "secp256r1" : spec == SigningKeySpec.EcP384$.MODULE$ ? "secp384r1" : "secp256k1";
      SigningAlgoSpec algo =
          spec == SigningKeySpec.EcP384$.MODULE$ ? SigningAlgoSpec.EcDsaSha384$.MODULE$ : SigningAlgoSpec.EcDsaSha256$.MODULE$;
      KeyPair pair = ec(curve);
      PublicKey key = CantonReferenceCrypto.validatedPublicKey(pair.getPublic().getEncoded(), spec);
      CantonReferenceCrypto.verify(key, algo, DATA, ecdsa(pair, CantonReferenceCrypto.jcaSignatureName(algo)));
    }
  }

  @Test
  void highSIsAcceptedAsBouncyCastleAccepts() throws Exception {
    KeyPair pair = ec("secp256r1");
    BigInteger n = ECNamedCurveTable.getParameterSpec("secp256r1").getN();
    BigInteger[] rs = rs(ecdsa(pair, "SHA256withECDSA"));
    byte[] flipped = der(rs[0], n.subtract(rs[1]));
    PublicKey key = CantonReferenceCrypto.validatedPublicKey(pair.getPublic().getEncoded(), SigningKeySpec.EcP256$.MODULE$);
    CantonReferenceCrypto.verify(key, SigningAlgoSpec.EcDsaSha256$.MODULE$, DATA, flipped);
  }

  @Test
  void rawAndNonMinimalEcdsaSignaturesAreRejected() throws Exception {
    KeyPair pair = ec("secp256r1");
    PublicKey key = CantonReferenceCrypto.validatedPublicKey(pair.getPublic().getEncoded(), SigningKeySpec.EcP256$.MODULE$);
    byte[] good = ecdsa(pair, "SHA256withECDSA");
    BigInteger[] rs = rs(good);
    byte[] raw = new byte[64];
    byte[] r = org.bouncycastle.util.BigIntegers.asUnsignedByteArray(32, rs[0]);
    byte[] s = org.bouncycastle.util.BigIntegers.asUnsignedByteArray(32, rs[1]);
    System.arraycopy(r, 0, raw, 0, 32);
    System.arraycopy(s, 0, raw, 32, 32);
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> CantonReferenceCrypto.verify(key, SigningAlgoSpec.EcDsaSha256$.MODULE$, DATA, raw));
    assertTrue(e.getMessage().contains("DER"), e.getMessage());

    // Same r and s, with a superfluous 0x00 in front of r: BER-valid, not DER.
    byte[] rBytes = rs[0].toByteArray();
    byte[] sBytes = rs[1].toByteArray();
    byte[] body = new byte[2 + rBytes.length + 1 + 2 + sBytes.length];
    int i = 0;
    body[i++] = 0x02;
    body[i++] = (byte) (rBytes.length + 1);
    body[i++] = 0x00;
    System.arraycopy(rBytes, 0, body, i, rBytes.length);
    i += rBytes.length;
    body[i++] = 0x02;
    body[i++] = (byte) sBytes.length;
    System.arraycopy(sBytes, 0, body, i, sBytes.length);
    byte[] nonMinimal = new byte[2 + body.length];
    nonMinimal[0] = 0x30;
    nonMinimal[1] = (byte) body.length;
    System.arraycopy(body, 0, nonMinimal, 2, body.length);
    assertThrows(
        AssertionError.class,
        () -> CantonReferenceCrypto.verify(key, SigningAlgoSpec.EcDsaSha256$.MODULE$, DATA, nonMinimal));

    // A trailing byte after the SEQUENCE.
    byte[] trailing = Arrays.copyOf(good, good.length + 1);
    assertThrows(
        AssertionError.class,
        () -> CantonReferenceCrypto.verify(key, SigningAlgoSpec.EcDsaSha256$.MODULE$, DATA, trailing));
  }

  @Test
  void ed25519SignaturesAre64BytesAndVerify() throws Exception {
    KeyPair pair = KeyPairGenerator.getInstance("Ed25519", BC).generateKeyPair();
    Signature signer = Signature.getInstance("Ed25519", BC);
    signer.initSign(pair.getPrivate());
    signer.update(DATA);
    byte[] sig = signer.sign();
    assertEquals(64, sig.length);
    PublicKey key =
        CantonReferenceCrypto.validatedPublicKey(pair.getPublic().getEncoded(), SigningKeySpec.EcCurve25519$.MODULE$);
    CantonReferenceCrypto.verify(key, SigningAlgoSpec.Ed25519$.MODULE$, DATA, sig);
    assertThrows(
        AssertionError.class,
        () -> CantonReferenceCrypto.verify(key, SigningAlgoSpec.Ed25519$.MODULE$, DATA, Arrays.copyOf(sig, 65)));
    sig[0] ^= 1;
    assertThrows(
        AssertionError.class, () -> CantonReferenceCrypto.verify(key, SigningAlgoSpec.Ed25519$.MODULE$, DATA, sig));
  }

  @Test
  void ed25519PublicKeysAreFullyValidated() throws Exception {
    // The identity point (y = 1) has small order: full validation refuses it.
    byte[] identity = new byte[32];
    identity[0] = 1;
    byte[] spki =
        new SubjectPublicKeyInfo(
                new AlgorithmIdentifier(new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.3.101.112")), identity)
            .getEncoded();
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> CantonReferenceCrypto.validatedPublicKey(spki, SigningKeySpec.EcCurve25519$.MODULE$));
    assertTrue(e.getMessage().contains("full validation"), e.getMessage());
  }

  @Test
  void ecPublicKeysMustBeUncompressedOnTheRightCurveAndOnTheCurve() throws Exception {
    KeyPair pair = ec("secp256r1");
    byte[] der = pair.getPublic().getEncoded();
    SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(der);
    ECNamedCurveParameterSpec p256 = ECNamedCurveTable.getParameterSpec("secp256r1");
    ECPoint point = p256.getCurve().decodePoint(spki.getPublicKeyData().getBytes());

    byte[] compressed = new SubjectPublicKeyInfo(spki.getAlgorithm(), point.getEncoded(true)).getEncoded();
    AssertionError e =
        assertThrows(
            AssertionError.class,
            () -> CantonReferenceCrypto.validatedPublicKey(compressed, SigningKeySpec.EcP256$.MODULE$));
    assertTrue(e.getMessage().contains("uncompressed"), e.getMessage());

    byte[] offCurveBits = point.getEncoded(false);
    offCurveBits[offCurveBits.length - 1] ^= 1;
    byte[] offCurve = new SubjectPublicKeyInfo(spki.getAlgorithm(), offCurveBits).getEncoded();
    e =
        assertThrows(
            AssertionError.class,
            () -> CantonReferenceCrypto.validatedPublicKey(offCurve, SigningKeySpec.EcP256$.MODULE$));
    assertTrue(e.getMessage().contains("not on the curve"), e.getMessage());

    e =
        assertThrows(
            AssertionError.class,
            () -> CantonReferenceCrypto.validatedPublicKey(der, SigningKeySpec.EcP384$.MODULE$));
    assertTrue(e.getMessage().contains("1.3.132.0.34"), e.getMessage());
    e =
        assertThrows(
            AssertionError.class,
            () -> CantonReferenceCrypto.validatedPublicKey(der, SigningKeySpec.EcCurve25519$.MODULE$));
    assertThrows(
        AssertionError.class,
        () -> CantonReferenceCrypto.validatedPublicKey(Arrays.copyOf(der, der.length + 1), SigningKeySpec.EcP256$.MODULE$));
    // The same key is fine as an encryption key of spec EcP256.
    CantonReferenceCrypto.validatedPublicKey(der, EncryptionKeySpec.EcP256$.MODULE$);
  }

  @Test
  void rsaKeysMustBe2048BitsWithExponent65537() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(new RSAKeyGenParameterSpec(2048, RSAKeyGenParameterSpec.F0));
    byte[] e3 = g.generateKeyPair().getPublic().getEncoded();
    AssertionError e =
        assertThrows(
            AssertionError.class, () -> CantonReferenceCrypto.validatedPublicKey(e3, EncryptionKeySpec.Rsa2048$.MODULE$));
    assertTrue(e.getMessage().contains("65537"), e.getMessage());
    g.initialize(new RSAKeyGenParameterSpec(3072, RSAKeyGenParameterSpec.F4));
    byte[] big = g.generateKeyPair().getPublic().getEncoded();
    e =
        assertThrows(
            AssertionError.class, () -> CantonReferenceCrypto.validatedPublicKey(big, EncryptionKeySpec.Rsa2048$.MODULE$));
    assertTrue(e.getMessage().contains("2048"), e.getMessage());
  }

  @Test
  void rsaOaepIsSha256WithMgf1Sha256() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(new RSAKeyGenParameterSpec(2048, RSAKeyGenParameterSpec.F4));
    KeyPair pair = g.generateKeyPair();
    PublicKey key =
        CantonReferenceCrypto.validatedPublicKey(pair.getPublic().getEncoded(), EncryptionKeySpec.Rsa2048$.MODULE$);
    byte[] ct = CantonReferenceCrypto.encrypt(key, EncryptionAlgoSpec.RsaEsOaepSha256$.MODULE$, DATA);
    assertEquals(256, ct.length);
    // Decrypted by the JDK's own provider with every OAEP parameter spelled out.
    Cipher jdk = Cipher.getInstance("RSA/ECB/OAEPPadding");
    jdk.init(
        Cipher.DECRYPT_MODE,
        pair.getPrivate(),
        new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT));
    assertArrayEquals(DATA, jdk.doFinal(ct));
    Cipher sha1Mgf = Cipher.getInstance("RSA/ECB/OAEPPadding");
    sha1Mgf.init(
        Cipher.DECRYPT_MODE,
        pair.getPrivate(),
        new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT));
    assertThrows(Exception.class, () -> sha1Mgf.doFinal(ct));
  }

  /**
   * The ECIES bytes, opened by hand with the construction of spec/canton-compat.md §6 (JCA primitives only, no
   * BouncyCastle IES): {@code IV(16) ‖ V(65) ‖ C ‖ T(32)}, KDF2-SHA256 over {@code V ‖ Z} giving K1 (16) ‖ K2 (64),
   * AES-128-CBC/PKCS7 under K1 and the IV, {@code T = HMAC-SHA256(K2, C ‖ 00×8)}.
   */
  @Test
  void eciesWireFormatIsCantons() throws Exception {
    KeyPair pair = ec("secp256r1");
    PublicKey key =
        CantonReferenceCrypto.validatedPublicKey(pair.getPublic().getEncoded(), EncryptionKeySpec.EcP256$.MODULE$);
    byte[] ct = CantonReferenceCrypto.encrypt(key, EncryptionAlgoSpec.EciesHkdfHmacSha256Aes128Cbc$.MODULE$, DATA);
    assertEquals(16 + 65 + 16 + 32, ct.length, "IV(16) ‖ V(65) ‖ one AES block ‖ T(32)");
    byte[] iv = Arrays.copyOfRange(ct, 0, 16);
    byte[] v = Arrays.copyOfRange(ct, 16, 81);
    byte[] c = Arrays.copyOfRange(ct, 81, ct.length - 32);
    byte[] t = Arrays.copyOfRange(ct, ct.length - 32, ct.length);
    assertEquals(0x04, v[0], "uncompressed ephemeral point");

    ECNamedCurveParameterSpec p256 = ECNamedCurveTable.getParameterSpec("secp256r1");
    ECPoint ephemeral = p256.getCurve().decodePoint(v);
    BigInteger d = ((ECPrivateKey) pair.getPrivate()).getS();
    byte[] z =
        org.bouncycastle.util.BigIntegers.asUnsignedByteArray(
            32, ephemeral.multiply(d).normalize().getAffineXCoord().toBigInteger());

    byte[] okm = new byte[96];
    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
    for (int counter = 1, off = 0; off < 80; counter++, off += 32) {
      sha256.update(v);
      sha256.update(z);
      sha256.update(new byte[] {0, 0, 0, (byte) counter});
      System.arraycopy(sha256.digest(), 0, okm, off, 32);
    }
    byte[] k1 = Arrays.copyOfRange(okm, 0, 16);
    byte[] k2 = Arrays.copyOfRange(okm, 16, 80);

    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(k2, "HmacSHA256"));
    mac.update(c);
    mac.update(new byte[8]);
    assertArrayEquals(t, mac.doFinal(), "T = HMAC-SHA256(K2, C ‖ 00×8)");

    Cipher aes = Cipher.getInstance("AES/CBC/PKCS5Padding");
    aes.init(Cipher.DECRYPT_MODE, new SecretKeySpec(k1, "AES"), new IvParameterSpec(iv));
    assertArrayEquals(DATA, aes.doFinal(c));
  }
}
