package io.tresor.canton;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import java.util.LinkedHashSet;
import java.util.Set;

/** Canton's v1 spec objects and tresor's config strings (the names the core reads). */
final class CantonSpecs {

  private CantonSpecs() {}

  static String name(SigningKeySpec s) {
    if (s == SigningKeySpec.EcCurve25519$.MODULE$) {
      return "ec-curve-25519";
    } else if (s == SigningKeySpec.EcP256$.MODULE$) {
      return "ec-p-256";
    } else if (s == SigningKeySpec.EcP384$.MODULE$) {
      return "ec-p-384";
    } else if (s == SigningKeySpec.EcSecp256k1$.MODULE$) {
      return "ec-secp-256k-1";
    }
    throw new IllegalArgumentException("unknown signing key spec " + s);
  }

  static String name(SigningAlgoSpec s) {
    if (s == SigningAlgoSpec.Ed25519$.MODULE$) {
      return "ed-25519";
    } else if (s == SigningAlgoSpec.EcDsaSha256$.MODULE$) {
      return "ec-dsa-sha-256";
    } else if (s == SigningAlgoSpec.EcDsaSha384$.MODULE$) {
      return "ec-dsa-sha-384";
    }
    throw new IllegalArgumentException("unknown signing algorithm " + s);
  }

  static String name(EncryptionKeySpec s) {
    if (s == EncryptionKeySpec.EcP256$.MODULE$) {
      return "ec-p-256";
    } else if (s == EncryptionKeySpec.Rsa2048$.MODULE$) {
      return "rsa-2048";
    }
    throw new IllegalArgumentException("unknown encryption key spec " + s);
  }

  static String name(EncryptionAlgoSpec s) {
    if (s == EncryptionAlgoSpec.EciesHkdfHmacSha256Aes128Cbc$.MODULE$) {
      return "ecies-hkdf-hmac-sha-256-aes-128-cbc";
    } else if (s == EncryptionAlgoSpec.RsaEsOaepSha256$.MODULE$) {
      return "rsa-oaep-sha-256";
    }
    throw new IllegalArgumentException("unknown encryption algorithm " + s);
  }

  static SigningKeySpec signingKeySpec(String name) {
    return switch (name) {
      case "ec-curve-25519" -> SigningKeySpec.EcCurve25519$.MODULE$;
      case "ec-p-256" -> SigningKeySpec.EcP256$.MODULE$;
      case "ec-p-384" -> SigningKeySpec.EcP384$.MODULE$;
      case "ec-secp-256k-1" -> SigningKeySpec.EcSecp256k1$.MODULE$;
      default -> null;
    };
  }

  static SigningAlgoSpec signingAlgoSpec(String name) {
    return switch (name) {
      case "ed-25519" -> SigningAlgoSpec.Ed25519$.MODULE$;
      case "ec-dsa-sha-256" -> SigningAlgoSpec.EcDsaSha256$.MODULE$;
      case "ec-dsa-sha-384" -> SigningAlgoSpec.EcDsaSha384$.MODULE$;
      default -> null;
    };
  }

  static EncryptionKeySpec encryptionKeySpec(String name) {
    return switch (name) {
      case "ec-p-256" -> EncryptionKeySpec.EcP256$.MODULE$;
      case "rsa-2048" -> EncryptionKeySpec.Rsa2048$.MODULE$;
      default -> null;
    };
  }

  /** Canton v1 has no name for the legacy ECIES-GCM; it is left out of what the driver reports. */
  static EncryptionAlgoSpec encryptionAlgoSpec(String name) {
    return switch (name) {
      case "ecies-hkdf-hmac-sha-256-aes-128-cbc" -> EncryptionAlgoSpec.EciesHkdfHmacSha256Aes128Cbc$.MODULE$;
      case "rsa-oaep-sha-256" -> EncryptionAlgoSpec.RsaEsOaepSha256$.MODULE$;
      default -> null;
    };
  }

  /** A public key's spec, from the kind and config string the core reports; null for a symmetric key. */
  static KeySpec keySpec(String kind, String name) {
    return switch (kind) {
      case "signing" -> signingKeySpec(name);
      case "encryption" -> encryptionKeySpec(name);
      default -> null;
    };
  }

  @FunctionalInterface
  interface Mapper<T> {
    T map(String name);
  }

  static <T> scala.collection.immutable.Set<T> set(String[] names, Mapper<T> mapper) {
    Set<T> out = new LinkedHashSet<>();
    for (String n : names) {
      T v = mapper.map(n);
      if (v != null) {
        out.add(v);
      }
    }
    return scala.jdk.javaapi.CollectionConverters.asScala(out).toSet();
  }
}
