package io.tresor.canton.conformance;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import scala.jdk.javaapi.CollectionConverters;

/** The v1 spec values, the algorithm → key spec pairs of Canton's suite, and Scala ↔ Java collections. */
public final class Specs {

  private Specs() {}

  public static final List<SigningKeySpec> SIGNING_KEY_SPECS =
      List.of(
          SigningKeySpec.EcCurve25519$.MODULE$,
          SigningKeySpec.EcP256$.MODULE$,
          SigningKeySpec.EcP384$.MODULE$,
          SigningKeySpec.EcSecp256k1$.MODULE$);

  public static final List<SigningAlgoSpec> SIGNING_ALGO_SPECS =
      List.of(
          SigningAlgoSpec.Ed25519$.MODULE$,
          SigningAlgoSpec.EcDsaSha256$.MODULE$,
          SigningAlgoSpec.EcDsaSha384$.MODULE$);

  public static final List<EncryptionKeySpec> ENCRYPTION_KEY_SPECS =
      List.of(EncryptionKeySpec.EcP256$.MODULE$, EncryptionKeySpec.Rsa2048$.MODULE$);

  public static final List<EncryptionAlgoSpec> ENCRYPTION_ALGO_SPECS =
      List.of(
          EncryptionAlgoSpec.EciesHkdfHmacSha256Aes128Cbc$.MODULE$,
          EncryptionAlgoSpec.RsaEsOaepSha256$.MODULE$);

  /** The key spec Canton's suite signs with for {@code algo} (KmsDriverTestUtils). */
  public static SigningKeySpec keySpecFor(SigningAlgoSpec algo) {
    if (algo == SigningAlgoSpec.Ed25519$.MODULE$) {
      return SigningKeySpec.EcCurve25519$.MODULE$;
    }
    if (algo == SigningAlgoSpec.EcDsaSha256$.MODULE$) {
      return SigningKeySpec.EcP256$.MODULE$;
    }
    if (algo == SigningAlgoSpec.EcDsaSha384$.MODULE$) {
      return SigningKeySpec.EcP384$.MODULE$;
    }
    throw new IllegalArgumentException("unknown signing algorithm " + algo);
  }

  /** The key spec Canton's suite decrypts with for {@code algo} (KmsDriverTestUtils). */
  public static EncryptionKeySpec keySpecFor(EncryptionAlgoSpec algo) {
    if (algo == EncryptionAlgoSpec.EciesHkdfHmacSha256Aes128Cbc$.MODULE$) {
      return EncryptionKeySpec.EcP256$.MODULE$;
    }
    if (algo == EncryptionAlgoSpec.RsaEsOaepSha256$.MODULE$) {
      return EncryptionKeySpec.Rsa2048$.MODULE$;
    }
    throw new IllegalArgumentException("unknown encryption algorithm " + algo);
  }

  /** A Scala set as a Java list in a stable order (by name), for naming dynamic tests. */
  public static <T> List<T> toList(scala.collection.immutable.Set<T> set) {
    if (set == null) {
      return List.of();
    }
    List<T> list = new ArrayList<>(CollectionConverters.asJava(set));
    list.sort(Comparator.comparing(String::valueOf));
    return list;
  }

  /** A Java set as the {@code scala.collection.immutable.Set} the driver API returns. */
  public static <T> scala.collection.immutable.Set<T> toScala(Set<T> set) {
    return CollectionConverters.asScala(set).toSet();
  }
}
