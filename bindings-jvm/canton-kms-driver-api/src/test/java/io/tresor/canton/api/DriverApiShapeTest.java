package io.tresor.canton.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.EncryptionKeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KeySpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverException;
import com.digitalasset.canton.crypto.kms.driver.api.v1.KmsDriverHealth;
import com.digitalasset.canton.crypto.kms.driver.api.v1.PublicKey;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningAlgoSpec;
import com.digitalasset.canton.crypto.kms.driver.api.v1.SigningKeySpec;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import pureconfig.ConfigReader;
import pureconfig.ConfigWriter;

/**
 * The binary shape of the driver API declared in this module, checked bullet by bullet against spec/canton-compat.md
 * §1a ("The driver API as a JVM implementer sees it"), by reflection on the compiled classes: what {@code javap}
 * shows for Canton's own jar must hold for this one, so a driver compiled here links against Canton's classes.
 * {@link JavaShapeFactory} and {@link JavaShapeDriver} additionally prove at compile time that a Java implementation
 * can be written the way §1a describes.
 */
class DriverApiShapeTest {

  private static final String API = "com.digitalasset.canton.driver.api.";
  private static final String KMS = "com.digitalasset.canton.crypto.kms.driver.api.";
  private static final String V1 = KMS + "v1.";

  private static Class<?> load(String name) {
    try {
      return Class.forName(name, false, DriverApiShapeTest.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new AssertionError("missing class " + name, e);
    }
  }

  /** One line per public method as javap prints it, with generic types: "abstract Future<...> name(A, B)". */
  private static Set<String> methods(Class<?> c) {
    return Arrays.stream(c.getDeclaredMethods())
        .filter(m -> !m.isSynthetic())
        .map(DriverApiShapeTest::describe)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static String describe(Method m) {
    String params =
        Arrays.stream(m.getGenericParameterTypes())
            .map(t -> t.getTypeName())
            .collect(Collectors.joining(", "));
    String kind =
        Modifier.isStatic(m.getModifiers())
            ? "static "
            : Modifier.isAbstract(m.getModifiers()) ? "abstract " : "";
    return kind + m.getGenericReturnType().getTypeName() + " " + m.getName() + "(" + params + ")";
  }

  // --- Types and packages -------------------------------------------------------------------------------

  @Test
  void typesAndPackages_traitsAreInterfacesInCantonsPackages() {
    for (String trait :
        new String[] {
          API + "DriverFactory",
          API + "v1.DriverFactory",
          KMS + "KmsDriver",
          KMS + "KmsDriverFactory",
          V1 + "KmsDriver",
          V1 + "KmsDriverFactory",
          V1 + "KmsDriverHealth",
          V1 + "KeySpec",
          V1 + "SigningKeySpec",
          V1 + "SigningAlgoSpec",
          V1 + "EncryptionKeySpec",
          V1 + "EncryptionAlgoSpec",
        }) {
      assertTrue(load(trait).isInterface(), trait + " is a Java interface");
    }
    for (String caseClass : new String[] {V1 + "KmsDriverException", V1 + "PublicKey"}) {
      Class<?> c = load(caseClass);
      assertFalse(c.isInterface(), caseClass);
      assertTrue(Modifier.isFinal(c.getModifiers()), caseClass + " is a final case class");
      assertTrue(scala.Product.class.isAssignableFrom(c), caseClass + " is a scala.Product");
    }
  }

  @Test
  void typesAndPackages_inheritance() {
    assertTrue(load(API + "DriverFactory").isAssignableFrom(load(API + "v1.DriverFactory")));
    assertTrue(load(API + "DriverFactory").isAssignableFrom(load(KMS + "KmsDriverFactory")));
    Class<?> v1Factory = load(V1 + "KmsDriverFactory");
    assertEquals(
        Set.of(KMS + "KmsDriverFactory", API + "v1.DriverFactory"),
        Arrays.stream(v1Factory.getInterfaces()).map(Class::getName).collect(Collectors.toSet()));
    assertEquals(
        Set.of(KMS + "KmsDriver", "java.lang.AutoCloseable"),
        Arrays.stream(load(V1 + "KmsDriver").getInterfaces())
            .map(Class::getName)
            .collect(Collectors.toSet()));
    assertTrue(KeySpec.class.isAssignableFrom(SigningKeySpec.class));
    assertTrue(KeySpec.class.isAssignableFrom(EncryptionKeySpec.class));
    assertFalse(KeySpec.class.isAssignableFrom(SigningAlgoSpec.class));
    assertFalse(KeySpec.class.isAssignableFrom(EncryptionAlgoSpec.class));
    assertTrue(scala.Product.class.isAssignableFrom(KeySpec.class), "KeySpec extends Product");
    assertTrue(java.io.Serializable.class.isAssignableFrom(KeySpec.class), "KeySpec extends Serializable");
    assertTrue(scala.Product.class.isAssignableFrom(KmsDriverHealth.class));
    assertEquals(0, SigningAlgoSpec.class.getInterfaces().length, "SigningAlgoSpec is a bare sealed trait");
    assertEquals(0, EncryptionAlgoSpec.class.getInterfaces().length, "EncryptionAlgoSpec is a bare sealed trait");
    assertTrue(RuntimeException.class.isAssignableFrom(KmsDriverException.class));
  }

  // --- Factory from Java --------------------------------------------------------------------------------

  @Test
  void factory_versionlessRoots() {
    assertEquals(
        Set.of("abstract java.lang.String name()", "abstract int version()"),
        methods(load(API + "DriverFactory")));
    assertEquals(Set.of(), methods(load(KMS + "KmsDriverFactory")));
    assertEquals(Set.of(), methods(load(KMS + "KmsDriver")));
  }

  @Test
  void factory_v1DriverFactoryMethods() {
    assertEquals(
        Set.of(
            "abstract java.lang.String name()",
            "abstract int version()",
            "abstract scala.Option<java.lang.String> buildInfo()",
            "abstract pureconfig.ConfigReader<java.lang.Object> configReader()",
            "abstract pureconfig.ConfigWriter<java.lang.Object> configWriter(boolean)",
            "abstract java.lang.Object create(java.lang.Object,"
                + " scala.Function1<java.lang.Class<?>, org.slf4j.Logger>,"
                + " scala.concurrent.ExecutionContext)"),
        methods(load(API + "v1.DriverFactory")));
  }

  @Test
  void factory_v1KmsDriverFactoryHasVersionValAsAbstractGetterAndSetter() {
    assertEquals(
        Set.of(
            "abstract void"
                + " com$digitalasset$canton$crypto$kms$driver$api$v1$KmsDriverFactory$_setter_$version_$eq(int)",
            "abstract int version()",
            "static void $init$(" + V1 + "KmsDriverFactory)"),
        methods(load(V1 + "KmsDriverFactory")));
  }

  @Test
  void factory_javaImplementationReportsVersion1WithoutTraitInitialiser() {
    JavaShapeFactory factory = new JavaShapeFactory();
    assertEquals(1, factory.version());
    assertEquals("java-shape", factory.name());
    assertTrue(factory.buildInfo().isDefined());
  }

  // --- Driver from Java ---------------------------------------------------------------------------------

  @Test
  void driver_curriedParameterListsAreFlattenedAndResultsAreScalaFutures() {
    String f = "scala.concurrent.Future";
    String ctx = "io.opentelemetry.context.Context";
    String set = "scala.collection.immutable.Set";
    assertEquals(
        Set.of(
            "abstract " + f + "<" + V1 + "KmsDriverHealth> health()",
            "abstract " + set + "<" + V1 + "SigningKeySpec> supportedSigningKeySpecs()",
            "abstract " + set + "<" + V1 + "SigningAlgoSpec> supportedSigningAlgoSpecs()",
            "abstract " + set + "<" + V1 + "EncryptionKeySpec> supportedEncryptionKeySpecs()",
            "abstract " + set + "<" + V1 + "EncryptionAlgoSpec> supportedEncryptionAlgoSpecs()",
            "abstract " + f + "<java.lang.String> generateSigningKeyPair(" + V1
                + "SigningKeySpec, scala.Option<java.lang.String>, " + ctx + ")",
            "abstract " + f + "<java.lang.String> generateEncryptionKeyPair(" + V1
                + "EncryptionKeySpec, scala.Option<java.lang.String>, " + ctx + ")",
            "abstract " + f + "<java.lang.String> generateSymmetricKey(scala.Option<java.lang.String>, "
                + ctx + ")",
            "abstract " + f + "<byte[]> sign(byte[], java.lang.String, " + V1 + "SigningAlgoSpec, " + ctx
                + ")",
            "abstract " + f + "<byte[]> decryptAsymmetric(byte[], java.lang.String, " + V1
                + "EncryptionAlgoSpec, " + ctx + ")",
            "abstract " + f + "<byte[]> encryptSymmetric(byte[], java.lang.String, " + ctx + ")",
            "abstract " + f + "<byte[]> decryptSymmetric(byte[], java.lang.String, " + ctx + ")",
            "abstract " + f + "<" + V1 + "PublicKey> getPublicKey(java.lang.String, " + ctx + ")",
            "abstract " + f + "<scala.runtime.BoxedUnit> keyExistsAndIsActive(java.lang.String, " + ctx
                + ")",
            "abstract " + f + "<scala.runtime.BoxedUnit> deleteKey(java.lang.String, " + ctx + ")"),
        methods(load(V1 + "KmsDriver")));
  }

  @Test
  void driver_closeComesFromAutoCloseable() throws NoSuchMethodException {
    Method close = load(V1 + "KmsDriver").getMethod("close");
    assertEquals(void.class, close.getReturnType());
    assertEquals(AutoCloseable.class, close.getDeclaringClass());
  }

  @Test
  void driver_traitHasNoInitialiser() {
    // Nothing runs when a driver is constructed: a Java driver and a Scala one behave alike, and a Scala
    // driver compiled here never calls an initialiser that Canton's copy of the trait might lack.
    assertTrue(
        Arrays.stream(load(V1 + "KmsDriver").getDeclaredMethods())
            .noneMatch(m -> m.getName().equals("$init$")));
  }

  // --- Values from Java ---------------------------------------------------------------------------------

  private static void assertCaseObjects(Class<?> sealedTrait, String... members) throws Exception {
    Set<String> declared =
        Arrays.stream(sealedTrait.getDeclaredClasses())
            .map(Class::getSimpleName)
            .collect(Collectors.toCollection(TreeSet::new));
    Set<String> expected =
        Arrays.stream(members).map(m -> m + "$").collect(Collectors.toCollection(TreeSet::new));
    assertEquals(expected, declared, sealedTrait.getSimpleName() + " members");
    for (String member : members) {
      Class<?> c = load(sealedTrait.getName() + "$" + member + "$");
      Field module = c.getField("MODULE$");
      assertTrue(Modifier.isStatic(module.getModifiers()) && Modifier.isFinal(module.getModifiers()));
      assertEquals(c, module.getType());
      Object value = module.get(null);
      assertTrue(sealedTrait.isInstance(value));
      assertEquals(member, value.toString(), "case object toString is its name");
      assertTrue(value instanceof scala.Product && value instanceof java.io.Serializable);
    }
  }

  @Test
  void values_specEnumsHaveExactlyCantonsMembers() throws Exception {
    assertCaseObjects(SigningKeySpec.class, "EcCurve25519", "EcP256", "EcP384", "EcSecp256k1");
    assertCaseObjects(SigningAlgoSpec.class, "Ed25519", "EcDsaSha256", "EcDsaSha384");
    assertCaseObjects(EncryptionKeySpec.class, "EcP256", "Rsa2048");
    assertCaseObjects(
        EncryptionAlgoSpec.class, "EciesHkdfHmacSha256Aes128Cbc", "RsaEsOaepSha256");
    assertEquals(0, KeySpec.class.getDeclaredClasses().length, "no symmetric spec");
  }

  @Test
  void values_caseObjectsAreReachedAsModuleSingletons() {
    // These lines compile only if Java sees the nested objects the way §1a says.
    SigningKeySpec p256 = SigningKeySpec.EcP256$.MODULE$;
    EncryptionKeySpec encP256 = EncryptionKeySpec.EcP256$.MODULE$;
    KmsDriverHealth ok = KmsDriverHealth.Ok$.MODULE$;
    assertSame(p256, SigningKeySpec.EcP256$.MODULE$);
    assertTrue(ok == KmsDriverHealth.Ok$.MODULE$);
    assertFalse(p256.equals(encP256), "signing and encryption EcP256 are different objects");
    assertEquals("Ok", ok.toString());
  }

  @Test
  void values_healthCaseClasses() throws Exception {
    // One case object (Ok) and three case classes, each with its companion object.
    assertEquals(
        new TreeSet<>(Set.of("Ok$", "Degraded", "Degraded$", "Failed", "Failed$", "Fatal", "Fatal$")),
        Arrays.stream(KmsDriverHealth.class.getDeclaredClasses())
            .map(Class::getSimpleName)
            .collect(Collectors.toCollection(TreeSet::new)));
    assertEquals(KmsDriverHealth.Ok$.class, KmsDriverHealth.Ok$.class.getField("MODULE$").getType());
    for (String name : new String[] {"Degraded", "Failed", "Fatal"}) {
      Class<?> c = load(V1 + "KmsDriverHealth$" + name);
      assertTrue(Modifier.isFinal(c.getModifiers()));
      assertNotNull(c.getConstructor(String.class));
      assertEquals(String.class, c.getMethod("reason").getReturnType());
    }
    KmsDriverHealth failed = new KmsDriverHealth.Failed("down");
    assertEquals(new KmsDriverHealth.Failed("down"), failed, "structural equality");
    assertEquals("Failed(down)", failed.toString());
    assertEquals("slow", new KmsDriverHealth.Degraded("slow").reason());
    assertEquals("gone", new KmsDriverHealth.Fatal("gone").reason());
  }

  @Test
  void values_kmsDriverExceptionMessageAndAccessors() throws Exception {
    assertNotNull(KmsDriverException.class.getConstructor(Throwable.class, boolean.class));
    IllegalStateException cause = new IllegalStateException("key not found");
    KmsDriverException e = new KmsDriverException(cause, true);
    assertEquals("KMS Driver exception (retryable=true): key not found", e.getMessage());
    assertSame(cause, e.getCause());
    assertSame(cause, e.exception());
    assertTrue(e.retryable());
    assertEquals(
        "KMS Driver exception (retryable=false): null",
        new KmsDriverException(new RuntimeException(), false).getMessage());
  }

  @Test
  void values_publicKeyConstructorAndAccessors() throws Exception {
    assertNotNull(PublicKey.class.getConstructor(byte[].class, KeySpec.class));
    byte[] der = {0x30, 0x00};
    PublicKey key = new PublicKey(der, EncryptionKeySpec.Rsa2048$.MODULE$);
    assertSame(der, key.key());
    assertSame(EncryptionKeySpec.Rsa2048$.MODULE$, key.spec());
    assertEquals(byte[].class, PublicKey.class.getMethod("key").getReturnType());
    assertEquals(KeySpec.class, PublicKey.class.getMethod("spec").getReturnType());
  }

  @Test
  void values_futuresAndSetsFromJava() throws Exception {
    scala.concurrent.Future<String> ok = scala.concurrent.Future.successful("id");
    assertEquals("id", ok.value().get().get());
    // Future.failed(t) does not compile from Java: the trait's own failed() method keeps scalac from emitting a
    // static forwarder of that name. A Java driver writes Future$.MODULE$.failed(t) (or uses a Promise).
    assertTrue(
        Arrays.stream(scala.concurrent.Future.class.getMethods())
            .noneMatch(m -> m.getName().equals("failed") && Modifier.isStatic(m.getModifiers())));
    scala.concurrent.Future<String> failed =
        scala.concurrent.Future$.MODULE$.failed(new KmsDriverException(new RuntimeException("x"), false));
    assertTrue(failed.value().get().isFailure());
    scala.collection.immutable.Set<SigningKeySpec> specs =
        scala.jdk.javaapi.CollectionConverters.asScala(Set.<SigningKeySpec>of(SigningKeySpec.EcP256$.MODULE$))
            .toSet();
    assertEquals(1, specs.size());
    assertTrue(specs.contains(SigningKeySpec.EcP256$.MODULE$));
  }

  // --- Config from Java without Scala macros ------------------------------------------------------------

  @Test
  void config_readerAndWriterFromJavaRoundTripARecord() {
    JavaShapeFactory factory = new JavaShapeFactory();
    ConfigReader<Object> reader = factory.configReader();
    ConfigWriter<Object> writer = factory.configWriter(false);
    ConfigValue raw = ConfigValueFactory.fromMap(Map.of("region", "eu", "password", "hunter2"));
    scala.util.Either<?, Object> read = reader.from(raw);
    assertTrue(read.isRight(), () -> "reader failed: " + read);
    Object config = read.toOption().get();
    assertEquals(new JavaShapeFactory.Config("eu", "hunter2"), config);
    assertEquals(read, reader.from(writer.to(config)), "write then read gives the same value");
    String confidential = factory.configWriter(true).to(config).render();
    assertFalse(confidential.contains("hunter2"), confidential);
  }

  @Test
  void config_readerReportsAMissingField() {
    scala.util.Either<?, Object> read =
        new JavaShapeFactory().configReader().from(ConfigValueFactory.fromMap(Map.of("region", "eu")));
    if (read.isRight()) {
      fail("a config without 'password' must not read");
    }
  }
}
