package io.tresor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PrimitivesTest {

  @Test
  void aesGcmInCantonsFormat() throws Exception {
    byte[] pt = new byte[1024];
    try (Aes128Gcm key = Aes128Gcm.generate();
        Aes128Gcm same = Aes128Gcm.of(key.toBytes())) {
      byte[] ct = key.encrypt(pt);
      assertEquals(12 + 1024 + 16, ct.length);
      assertArrayEquals(pt, same.decrypt(ct));
      ct[20] ^= 1;
      assertThrows(DecryptionFailedException.class, () -> same.decrypt(ct));
      assertThrows(MalformedCiphertextException.class, () -> same.decrypt(new byte[27]));
    }
    assertThrows(MalformedKeyException.class, () -> Aes128Gcm.of(new byte[32]));
  }

  @Test
  void hmacRfc4231Case2() throws Exception {
    byte[] key = "Jefe".getBytes(StandardCharsets.US_ASCII);
    byte[] data = "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII);
    byte[] tag = Hmac.sha256(key, data);
    assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", Hex.encode(tag));
    Hmac.verifySha256(key, data, tag);
    tag[0] ^= 1;
    assertThrows(InvalidSignatureException.class, () -> Hmac.verifySha256(key, data, tag));
  }

  @Test
  void hkdfRfc5869Case1() throws Exception {
    byte[] okm =
        Hkdf.sha256(
            Hex.decode("000102030405060708090a0b0c"),
            Hex.decode("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            Hex.decode("f0f1f2f3f4f5f6f7f8f9"),
            42);
    assertEquals(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        Hex.encode(okm));
    assertThrows(InvalidArgumentException.class, () -> Hkdf.sha256(new byte[0], new byte[1], new byte[0], 9000));
    assertThrows(InvalidArgumentException.class, () -> Hkdf.sha256(new byte[0], new byte[1], new byte[0], -1));
  }

  @Test
  void cantonHashIsAMultihash() throws Exception {
    byte[] h = CantonHash.of(12, new byte[0]);
    assertEquals(34, h.length);
    assertEquals(0x12, h[0]);
    assertEquals(0x20, h[1]);
    assertThrows(InvalidArgumentException.class, () -> CantonHash.of(-1, new byte[0]));
    assertThrows(InvalidArgumentException.class, () -> CantonHash.of(1L << 32, new byte[0]));
    assertEquals(34, CantonHash.of(0xffff_ffffL, new byte[0]).length);
  }

  @Test
  void ecdsaEncodingsRoundTrip() throws Exception {
    try (PrivateKey key = PrivateKey.generate(KeyType.EC_P384)) {
      byte[] der = key.sign(new byte[] {1});
      byte[] raw = EcdsaSignatures.derToRaw(SigningKeySpec.EC_P384, der);
      assertEquals(96, raw.length);
      assertArrayEquals(der, EcdsaSignatures.rawToDer(SigningKeySpec.EC_P384, raw));
      assertThrows(MalformedSignatureException.class, () -> EcdsaSignatures.derToRaw(SigningKeySpec.EC_P256, der));
    }
  }

  @Test
  void versionsMatch() throws Exception {
    assertEquals(Tresor.version(), Tresor.nativeVersion());
  }
}
