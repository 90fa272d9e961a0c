package io.tresor.bench;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Canton's ECIES decryption ({@code ecies-hkdf-hmac-sha-256-aes-128-cbc}, BouncyCastle's ECIESwithSHA256andAES-CBC as
 * Canton parameterises it) built from the JDK's own providers: SunEC ECDH, SHA-256 KDF2, SunJCE AES-CBC and HMAC. The
 * JDK has no ECIES; this is what a JDK-only Canton driver would have to do. Wire format:
 * {@code IV(16) ‖ V(65) ‖ C ‖ T(32)}, tag = HMAC-SHA256(K2, C ‖ 00×8).
 */
final class JdkEcies {

  private final ECPrivateKey key;
  private final KeyAgreement ecdh;
  private final KeyFactory ecFactory;
  private final MessageDigest sha256;
  private final Mac mac;
  private final Cipher aes;

  JdkEcies(PrivateKey key) throws GeneralSecurityException {
    this.key = (ECPrivateKey) key;
    this.ecdh = KeyAgreement.getInstance("ECDH", "SunEC");
    this.ecFactory = KeyFactory.getInstance("EC", "SunEC");
    this.sha256 = MessageDigest.getInstance("SHA-256");
    this.mac = Mac.getInstance("HmacSHA256", "SunJCE");
    this.aes = Cipher.getInstance("AES/CBC/PKCS5Padding", "SunJCE");
  }

  byte[] decrypt(byte[] ct) throws GeneralSecurityException {
    byte[] iv = Arrays.copyOfRange(ct, 0, 16);
    byte[] v = Arrays.copyOfRange(ct, 16, 16 + 65);
    byte[] c = Arrays.copyOfRange(ct, 16 + 65, ct.length - 32);
    byte[] t = Arrays.copyOfRange(ct, ct.length - 32, ct.length);
    int n = 32;
    ECPoint w =
        new ECPoint(
            new java.math.BigInteger(1, Arrays.copyOfRange(v, 1, 1 + n)),
            new java.math.BigInteger(1, Arrays.copyOfRange(v, 1 + n, 1 + 2 * n)));
    ecdh.init(key);
    ecdh.doPhase(ecFactory.generatePublic(new ECPublicKeySpec(w, key.getParams())), true);
    byte[] z = ecdh.generateSecret();
    // KDF2-SHA256 over V ‖ Z, counter from 1, 80 bytes.
    byte[] okm = new byte[96];
    for (int i = 0; i < 3; i++) {
      sha256.update(v);
      sha256.update(z);
      sha256.update(ByteBuffer.allocate(4).putInt(i + 1).array());
      System.arraycopy(sha256.digest(), 0, okm, 32 * i, 32);
    }
    mac.init(new SecretKeySpec(okm, 16, 64, "HmacSHA256"));
    mac.update(c);
    mac.update(new byte[8]);
    if (!MessageDigest.isEqual(mac.doFinal(), t)) {
      throw new GeneralSecurityException("tag mismatch");
    }
    aes.init(Cipher.DECRYPT_MODE, new SecretKeySpec(okm, 0, 16, "AES"), new IvParameterSpec(iv));
    return aes.doFinal(c);
  }
}
