package io.tresor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class KeysTest {

  private static final byte[] MSG = "a Canton message".getBytes(StandardCharsets.UTF_8);

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void everyKeyTypeDoesWhatItCanAndSaysWhatItCannot(KeyType type) throws Exception {
    try (PrivateKey key = PrivateKey.generate(type);
        PublicKey pub = key.publicKey()) {
      assertEquals(type, key.keyType());
      assertEquals(type, pub.keyType());
      assertEquals(key.fingerprint(), pub.fingerprint());
      assertTrue(key.fingerprint().matches("1220[0-9a-f]{64}"), key.fingerprint());
      if (type.signingSpec().isPresent()) {
        byte[] sig = key.sign(MSG);
        pub.verify(MSG, sig);
        key.verify(MSG, sig);
        assertTrue(pub.isValidSignature(MSG, sig));
        assertFalse(pub.isValidSignature("other".getBytes(StandardCharsets.UTF_8), sig));
        assertThrows(InvalidSignatureException.class, () -> pub.verify("x".getBytes(StandardCharsets.UTF_8), sig));
      } else {
        assertThrows(IncompatibleKeyException.class, () -> key.sign(MSG));
        assertThrows(IncompatibleKeyException.class, () -> pub.verify(MSG, new byte[64]));
      }
      if (type.encryptionSpec().isPresent()) {
        byte[] ct = pub.encrypt(MSG);
        assertArrayEquals(MSG, key.decrypt(ct));
        assertArrayEquals(MSG, key.decrypt(key.encrypt(MSG)));
        ct[ct.length - 1] ^= 1;
        TresorException e = assertThrows(TresorException.class, () -> key.decrypt(ct));
        assertTrue(e instanceof DecryptionFailedException || e instanceof MalformedCiphertextException, e.toString());
      } else {
        assertThrows(IncompatibleKeyException.class, () -> pub.encrypt(MSG));
        assertThrows(IncompatibleKeyException.class, () -> key.decrypt(new byte[100]));
      }
    }
  }

  @Test
  void namedAlgorithmsAreCheckedAgainstTheKey() throws Exception {
    try (PrivateKey p256 = PrivateKey.generate(KeyType.EC_P256);
        PrivateKey p384 = PrivateKey.generate(KeyType.EC_P384);
        PrivateKey k1 = PrivateKey.generate(KeyType.EC_SECP256K1)) {
      byte[] sig = p256.sign(SigningAlgorithm.EC_DSA_SHA256, MSG);
      p256.verify(SigningAlgorithm.EC_DSA_SHA256, MSG, sig);
      assertThrows(IncompatibleKeyException.class, () -> p256.sign(SigningAlgorithm.EC_DSA_SHA384, MSG));
      assertThrows(IncompatibleKeyException.class, () -> p256.sign(SigningAlgorithm.ED25519, MSG));
      p384.verify(SigningAlgorithm.EC_DSA_SHA384, MSG, p384.sign(SigningAlgorithm.EC_DSA_SHA384, MSG));
      k1.verify(SigningAlgorithm.EC_DSA_SHA256, MSG, k1.sign(SigningAlgorithm.EC_DSA_SHA256, MSG));
      byte[] ct = p256.encrypt(EncryptionAlgorithm.ECIES_HKDF_HMAC_SHA256_AES128_CBC, MSG);
      assertArrayEquals(MSG, p256.decrypt(EncryptionAlgorithm.ECIES_HKDF_HMAC_SHA256_AES128_CBC, ct));
      // IV(16) ‖ point(65) ‖ AES-CBC(16-byte blocks) ‖ tag(32)
      assertEquals(16 + 65 + 32 + 32, ct.length);
      assertThrows(IncompatibleKeyException.class, () -> p256.encrypt(EncryptionAlgorithm.RSA_OAEP_SHA256, MSG));
    }
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void encodingsRoundTrip(KeyType type) throws Exception {
    try (PrivateKey key = PrivateKey.generate(type);
        PublicKey pub = key.publicKey()) {
      byte[] der = key.toDer();
      try (PrivateKey again = PrivateKey.fromDer(der);
          PrivateKey fromPem = PrivateKey.fromPem(key.toPem())) {
        assertEquals(key.fingerprint(), again.fingerprint());
        assertEquals(key.fingerprint(), fromPem.fingerprint());
        assertArrayEquals(der, fromPem.toDer());
      }
      try (PublicKey d = PublicKey.fromDer(pub.toDer());
          PublicKey p = PublicKey.fromPem(pub.toPem());
          PublicKey j = PublicKey.fromJwk(pub.toJwk());
          PublicKey r = PublicKey.fromRaw(type, pub.toRaw());
          PublicKey f = PublicKey.fromDerOrPem(pub.toPem().getBytes(StandardCharsets.US_ASCII))) {
        for (PublicKey k : new PublicKey[] {d, p, j, r, f}) {
          assertEquals(pub, k);
          assertEquals(pub.hashCode(), k.hashCode());
          assertEquals(pub.fingerprint(), k.fingerprint());
        }
      }
      assertEquals(pub.fingerprint(), Hex.encode(CantonHash.of(CantonHash.PUBLIC_KEY_FINGERPRINT,
          type == KeyType.ED25519 ? pub.toRaw() : pub.toDer())));
    }
  }

  @Test
  void malformedInputsAreTypedErrors() {
    assertThrows(MalformedKeyException.class, () -> PublicKey.fromDer(new byte[] {1, 2, 3}));
    assertThrows(InputException.class, () -> PrivateKey.fromDer(new byte[] {0x30, 0}));
    assertThrows(InputException.class, () -> PublicKey.fromJwk("{\"kty\":\"EC\"}"));
    assertThrows(MalformedKeyException.class, () -> PublicKey.fromRaw(KeyType.ED25519, new byte[31]));
    assertThrows(NullArgumentException.class, () -> PublicKey.fromDer(null));
    assertThrows(NullArgumentException.class, () -> PrivateKey.generate(null));
    assertThrows(UnknownSchemeException.class, () -> SigningKeySpec.parse("ec-p-512"));
  }

  @Test
  void closedKeysThrowAndNeverCrash() throws Exception {
    PrivateKey key = PrivateKey.generate(KeyType.ED25519);
    PublicKey pub = key.publicKey();
    String fp = key.fingerprint();
    key.keyType();
    key.close();
    key.close();
    pub.close();
    assertThrows(IllegalStateException.class, () -> key.sign(MSG));
    assertThrows(IllegalStateException.class, key::toDer);
    assertThrows(IllegalStateException.class, key::publicKey);
    assertThrows(IllegalStateException.class, () -> pub.verify(MSG, new byte[64]));
    assertThrows(IllegalStateException.class, pub::toRaw);
    assertEquals("PrivateKey[ec-curve-25519, " + fp + "]", key.toString());
  }

  @ParameterizedTest
  @EnumSource(KeyType.class)
  void toStringShowsNoSecret(KeyType type) throws Exception {
    try (PrivateKey key = PrivateKey.generate(type)) {
      byte[] der = key.toDer();
      String text = key.toString();
      assertFalse(text.contains(Hex.encode(der)));
      assertFalse(text.contains(Base64.getEncoder().encodeToString(der).substring(0, 40)));
      assertFalse(text.contains("PRIVATE KEY"));
      // The secret tail of the PKCS#8 encoding (the private scalar or seed) in any form.
      String tail = Hex.encode(java.util.Arrays.copyOfRange(der, der.length - 16, der.length));
      assertFalse(text.toLowerCase(java.util.Locale.ROOT).contains(tail));
      assertTrue(text.contains(key.fingerprint()));
    }
    try (Aes128Gcm k = Aes128Gcm.generate()) {
      assertFalse(k.toString().contains(Hex.encode(k.toBytes())));
    }
  }

  @Test
  void distinctKeysAreNotEqual() throws Exception {
    try (PrivateKey a = PrivateKey.generate(KeyType.EC_P256);
        PrivateKey b = PrivateKey.generate(KeyType.EC_P256);
        PublicKey pa = a.publicKey();
        PublicKey pb = b.publicKey()) {
      assertNotEquals(pa, pb);
      assertNotEquals(a.fingerprint(), b.fingerprint());
    }
  }

  @Test
  void schemeNamesParseAsTheCoreDoes() throws Exception {
    for (SigningKeySpec s : SigningKeySpec.values()) {
      assertEquals(s, SigningKeySpec.parse(s.configName()));
    }
    for (EncryptionKeySpec s : EncryptionKeySpec.values()) {
      assertEquals(s, EncryptionKeySpec.parse(s.configName()));
    }
    for (SigningAlgorithm s : SigningAlgorithm.values()) {
      assertEquals(s, SigningAlgorithm.parse(s.configName()));
    }
    for (EncryptionAlgorithm s : EncryptionAlgorithm.values()) {
      assertEquals(s, EncryptionAlgorithm.parse(s.configName()));
    }
    for (KeyType t : KeyType.values()) {
      assertEquals(t, KeyType.parse(t.configName()));
    }
    assertEquals(SigningKeySpec.EC_P256, SigningKeySpec.parse("EC-P256"));
    assertEquals(SigningAlgorithm.EC_DSA_SHA384, SigningAlgorithm.parse("EC-DSA-SHA384"));
    assertEquals(java.util.EnumSet.of(KeyUsage.NAMESPACE, KeyUsage.PROTOCOL), KeyUsage.parseSet("signing, namespace"));
    assertThrows(InvalidKeyUsageException.class, () -> KeyUsage.parseSet("proof-of-ownership"));
    assertEquals("namespace,protocol", KeyUsage.toList(KeyUsage.parseSet("protocol,namespace")));
  }
}
