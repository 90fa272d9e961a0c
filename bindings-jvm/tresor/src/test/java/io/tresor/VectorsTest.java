package io.tresor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The shared vectors, {@code tests/vectors/*.json} (schema {@code tresor-vectors/1}, tests/vectors/README.md): every
 * case of every file, through the Java API. A file whose operation this runner does not implement fails, unless its
 * {@code not_run_by} names {@code jvm} with a reason.
 */
class VectorsTest {

  private static final String RUNNER = "jvm";

  private static Path vectorsDir() {
    String dir = System.getProperty("tresor.vectors.dir");
    return Path.of(dir == null ? "../../tests/vectors" : dir);
  }

  @TestFactory
  Stream<DynamicNode> sharedVectors() throws IOException {
    Path dir = vectorsDir();
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.toString().endsWith(".json")).sorted().collect(Collectors.toList());
    }
    if (files.isEmpty()) {
      return Stream.of(
          DynamicTest.dynamicTest(
              "no vector files in " + dir,
              () -> assumeTrue(false, "tests/vectors has no *.json files yet: nothing to run")));
    }
    List<DynamicNode> nodes = new ArrayList<>();
    for (Path f : files) {
      nodes.add(file(f));
    }
    return nodes.stream();
  }

  private static DynamicNode file(Path path) throws IOException {
    String name = path.getFileName().toString();
    ConfigObject root =
        ConfigFactory.parseString(
                Files.readString(path, StandardCharsets.UTF_8),
                ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON).setOriginDescription(name))
            .root();
    String schema = str(root, "schema");
    String operation = str(root, "operation");
    String algorithm = root.containsKey("algorithm") ? str(root, "algorithm") : "";
    ConfigObject notRunBy = root.containsKey("not_run_by") ? (ConfigObject) root.get("not_run_by") : null;
    if (notRunBy != null && notRunBy.containsKey(RUNNER)) {
      String why = str(notRunBy, RUNNER);
      return DynamicTest.dynamicTest(name + " (not run: " + why + ")", () -> assumeTrue(false, why));
    }
    if (!"tresor-vectors/1".equals(schema)) {
      return DynamicTest.dynamicTest(name, () -> fail("unknown schema '" + schema + "'"));
    }
    Op op = operation(operation);
    if (op == null) {
      return DynamicTest.dynamicTest(
          name,
          () ->
              fail("the JVM runner does not implement operation '" + operation
                  + "' and the file's not_run_by does not name 'jvm'"));
    }
    List<DynamicTest> cases = new ArrayList<>();
    for (ConfigValue v : (ConfigList) root.get("tests")) {
      ConfigObject t = (ConfigObject) v;
      String id = str(t, "id");
      cases.add(DynamicTest.dynamicTest(id, () -> runCase(op, algorithm, t)));
    }
    return DynamicContainer.dynamicContainer(name + " (" + operation + ", " + cases.size() + " cases)", cases);
  }

  /** One operation: read {@code input}, return {@code output}'s fields (compared when expect is valid). */
  @FunctionalInterface
  private interface Op {
    Map<String, Object> run(String algorithm, ConfigObject input) throws Exception;
  }

  private static void runCase(Op op, String algorithm, ConfigObject t) throws Exception {
    String expect = str(t, "expect");
    ConfigObject input = (ConfigObject) t.get("input");
    Map<String, Object> out;
    try {
      out = op.run(algorithm, input);
    } catch (TresorException e) {
      if (expect.equals("valid")) {
        throw new AssertionError("expected success, got " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
      }
      assertEquals(str(t, "error_kind"), e.kind(), "error kind (" + e.getMessage() + ")");
      return;
    }
    if (!expect.equals("valid")) {
      fail("expected " + expect + " with " + str(t, "error_kind") + ", but it succeeded");
    }
    ConfigObject expected = t.containsKey("output") ? (ConfigObject) t.get("output") : null;
    if (expected == null) {
      return;
    }
    for (Map.Entry<String, ConfigValue> e : expected.entrySet()) {
      String key = e.getKey();
      assertTrue(out.containsKey(key), "the runner produced no '" + key + "'");
      Object got = out.get(key);
      ConfigValue want = e.getValue();
      if (want.valueType() == ConfigValueType.NULL) {
        assertEquals(null, got, key);
      } else if (got instanceof byte[] b) {
        assertEquals((String) want.unwrapped(), Hex.encode(b), key);
      } else {
        assertEquals(String.valueOf(want.unwrapped()), String.valueOf(got), key);
      }
    }
  }

  private static Op operation(String name) {
    switch (name) {
      case "verify":
        return (algo, in) -> {
          try (PublicKey k = PublicKey.fromDer(hex(in, "public_key"))) {
            k.verify(SigningAlgorithm.parse(algo), hex(in, "msg"), hex(in, "sig"));
          }
          return Map.of();
        };
      case "sign":
        return (algo, in) -> {
          try (PrivateKey k = PrivateKey.fromDer(hex(in, "private_key"))) {
            return Map.of("sig", k.sign(SigningAlgorithm.parse(algo), hex(in, "msg")));
          }
        };
      case "fingerprint":
        return (algo, in) -> {
          try (PublicKey k = PublicKey.fromDer(hex(in, "public_key"))) {
            return Map.of("fingerprint", k.fingerprint());
          }
        };
      case "public-key-parse":
        return (algo, in) -> {
          String format = str(in, "format");
          PublicKey k =
              switch (format) {
                case "der" -> PublicKey.fromDer(hex(in, "key"));
                case "pem" -> PublicKey.fromPem(str(in, "key"));
                case "jwk" -> PublicKey.fromJwk(str(in, "key"));
                case "raw" -> PublicKey.fromRaw(KeyType.parse(str(in, "key_type")), hex(in, "key"));
                default -> throw new AssertionError("unknown format " + format);
              };
          try (k) {
            return Map.of("public_key", k.toDer(), "fingerprint", k.fingerprint());
          }
        };
      case "canton-hash":
        return (algo, in) ->
            Map.of("hash", CantonHash.of(((Number) in.get("purpose").unwrapped()).longValue(), hex(in, "content")));
      case "aes-128-gcm-decrypt":
        return (algo, in) -> {
          try (Aes128Gcm k = Aes128Gcm.of(hex(in, "key"))) {
            return Map.of("plaintext", k.decrypt(hex(in, "ciphertext")));
          }
        };
      case "hmac-sha-256":
        return (algo, in) -> Map.of("tag", Hmac.sha256(hex(in, "key"), hex(in, "msg")));
      case "hkdf-sha-256":
        return (algo, in) ->
            Map.of("okm", Hkdf.sha256(hex(in, "salt"), hex(in, "ikm"), hex(in, "info"), num(in, "length")));
      case "decrypt":
        return (algo, in) -> {
          try (PrivateKey k = PrivateKey.fromDer(hex(in, "private_key"))) {
            return Map.of("plaintext", k.decrypt(EncryptionAlgorithm.parse(algo), hex(in, "ciphertext")));
          }
        };
      case "ecdsa-der-to-raw":
        return (algo, in) -> Map.of("raw", EcdsaSignatures.derToRaw(specForSize(num(in, "size")), hex(in, "der")));
      case "ecdsa-raw-to-der":
        return (algo, in) -> Map.of("der", EcdsaSignatures.rawToDer(specForSize(num(in, "size")), hex(in, "raw")));
      case "key-usage":
        return (algo, in) -> Map.of("canonical", KeyUsage.toList(KeyUsage.parseSet(str(in, "usages"))));
      case "scheme-name":
        return (algo, in) -> {
          String kind = str(in, "kind");
          String n = str(in, "name");
          String canonical =
              switch (kind) {
                case "signing-key-spec" -> SigningKeySpec.parse(n).configName();
                case "signing-algorithm" -> SigningAlgorithm.parse(n).configName();
                case "encryption-key-spec" -> EncryptionKeySpec.parse(n).configName();
                case "encryption-algorithm" -> EncryptionAlgorithm.parse(n).configName();
                case "key-spec" -> KeyType.parse(n).configName();
                default -> throw new AssertionError("unknown scheme kind " + kind);
              };
          return Map.of("canonical", canonical);
        };
      case "sealed-export-open":
        return (algo, in) -> {
          SealedKey k = PrivateKey.openSealedExport(str(in, "file"), str(in, "password").toCharArray());
          try (PrivateKey key = k.key()) {
            java.util.HashMap<String, Object> out = new java.util.HashMap<>();
            out.put("fingerprint", k.fingerprint());
            out.put("purpose", k.purpose().configName());
            out.put("usage", k.usage().isEmpty() ? null : KeyUsage.toList(k.usage()));
            out.put("key_spec", k.spec().configName());
            out.put("name", k.name().orElse(null));
            assertEquals(k.fingerprint(), key.fingerprint());
            return out;
          }
        };
      default:
        return null;
    }
  }

  private static SigningKeySpec specForSize(int size) {
    return switch (size) {
      case 32 -> SigningKeySpec.EC_P256;
      case 48 -> SigningKeySpec.EC_P384;
      default -> throw new AssertionError("no ECDSA curve with " + size + "-byte scalars");
    };
  }

  private static String str(ConfigObject o, String key) {
    ConfigValue v = o.get(key);
    if (v == null) {
      throw new AssertionError("missing '" + key + "'");
    }
    return String.valueOf(v.unwrapped());
  }

  private static int num(ConfigObject o, String key) {
    return ((Number) o.get(key).unwrapped()).intValue();
  }

  private static byte[] hex(ConfigObject o, String key) {
    return Hex.decode(str(o, key));
  }

  /** The operations this runner implements (tests/vectors/README.md lists the same). */
  static final Set<String> OPERATIONS =
      Set.of(
          "verify", "sign", "fingerprint", "public-key-parse", "canton-hash", "aes-128-gcm-decrypt", "hmac-sha-256",
          "hkdf-sha-256", "decrypt", "ecdsa-der-to-raw", "ecdsa-raw-to-der", "key-usage", "scheme-name",
          "sealed-export-open");
}
