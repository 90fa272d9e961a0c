package io.tresor.bench;

import io.tresor.Aes128Gcm;
import io.tresor.EncryptionAlgorithm;
import io.tresor.KeyType;
import io.tresor.PrivateKey;
import io.tresor.PublicKey;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.SecureRandom;
import java.security.Security;
import java.security.Signature;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jce.spec.IESParameterSpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * tresor's Java API against the JDK's providers (SunEC, SunRsaSign/SunJCE) and BouncyCastle, one key per row shared
 * by the three (tresor's key, imported into the others), one ciphertext per row made by tresor in Canton's format and
 * opened by all three. Method names are {@code <row>_<implementation>}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CryptoBenchmarks {

  static {
    Security.addProvider(new BouncyCastleProvider());
  }

  private final byte[] msg = new byte[64];
  private final byte[] kib = new byte[1024];
  private final SecureRandom random = new SecureRandom();

  private PrivateKey ed;
  private PublicKey edPub;
  private byte[] edSig;
  private Signature edSignJdk, edVerifyJdk, edSignBc, edVerifyBc;
  private byte[] edSigJdk, edSigBc;

  private PrivateKey p256;
  private PublicKey p256Pub;
  private byte[] p256Sig, p256SigJdk, p256SigBc;
  private Signature p256SignJdk, p256VerifyJdk, p256SignBc, p256VerifyBc;

  private PrivateKey p384;
  private PublicKey p384Pub;
  private byte[] p384Sig, p384SigJdk, p384SigBc;
  private Signature p384SignJdk, p384VerifyJdk, p384SignBc, p384VerifyBc;

  private PrivateKey eciesKey;
  private byte[] eciesCt;
  private JdkEcies eciesJdk;
  private Cipher eciesBc;
  private java.security.PrivateKey eciesBcKey;

  private PrivateKey rsa;
  private byte[] rsaCt;
  private Cipher rsaJdk, rsaBc;
  private java.security.PrivateKey rsaJdkKey, rsaBcKey;
  private OAEPParameterSpec oaep;

  private Aes128Gcm aes;
  private SecretKeySpec aesKey;
  private Cipher aesJdk, aesBc;

  private static Signature signer(String algo, String provider, java.security.PrivateKey k) throws GeneralSecurityException {
    Signature s = Signature.getInstance(algo, provider);
    s.initSign(k);
    return s;
  }

  private static Signature verifier(String algo, String provider, java.security.PublicKey k) throws GeneralSecurityException {
    Signature s = Signature.getInstance(algo, provider);
    s.initVerify(k);
    return s;
  }

  private static java.security.PrivateKey priv(String kf, String provider, PrivateKey k) throws Exception {
    return KeyFactory.getInstance(kf, provider).generatePrivate(new PKCS8EncodedKeySpec(k.toDer()));
  }

  private static java.security.PublicKey pub(String kf, String provider, PublicKey k) throws Exception {
    return KeyFactory.getInstance(kf, provider).generatePublic(new X509EncodedKeySpec(k.toDer()));
  }

  private static byte[] sign(Signature s, byte[] m) throws GeneralSecurityException {
    s.update(m);
    return s.sign();
  }

  private static void verify(Signature s, byte[] m, byte[] sig) throws GeneralSecurityException {
    s.update(m);
    if (!s.verify(sig)) {
      throw new IllegalStateException("a signature does not verify");
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    random.nextBytes(msg);
    random.nextBytes(kib);

    ed = PrivateKey.generate(KeyType.ED25519);
    edPub = ed.publicKey();
    edSig = ed.sign(msg);
    edSignJdk = signer("Ed25519", "SunEC", priv("Ed25519", "SunEC", ed));
    edVerifyJdk = verifier("Ed25519", "SunEC", pub("Ed25519", "SunEC", edPub));
    edSignBc = signer("Ed25519", "BC", priv("Ed25519", "BC", ed));
    edVerifyBc = verifier("Ed25519", "BC", pub("Ed25519", "BC", edPub));
    edSigJdk = sign(edSignJdk, msg);
    edSigBc = sign(edSignBc, msg);
    if (!Arrays.equals(edSig, edSigJdk) || !Arrays.equals(edSig, edSigBc)) {
      throw new IllegalStateException("Ed25519 signatures differ between implementations");
    }

    p256 = PrivateKey.generate(KeyType.EC_P256);
    p256Pub = p256.publicKey();
    p256Sig = p256.sign(msg);
    p256SignJdk = signer("SHA256withECDSA", "SunEC", priv("EC", "SunEC", p256));
    p256VerifyJdk = verifier("SHA256withECDSA", "SunEC", pub("EC", "SunEC", p256Pub));
    p256SignBc = signer("SHA256withECDSA", "BC", priv("EC", "BC", p256));
    p256VerifyBc = verifier("SHA256withECDSA", "BC", pub("EC", "BC", p256Pub));
    p256SigJdk = sign(p256SignJdk, msg);
    p256SigBc = sign(p256SignBc, msg);
    p256Pub.verify(msg, p256SigJdk);
    verify(p256VerifyBc, msg, p256Sig);

    p384 = PrivateKey.generate(KeyType.EC_P384);
    p384Pub = p384.publicKey();
    p384Sig = p384.sign(msg);
    p384SignJdk = signer("SHA384withECDSA", "SunEC", priv("EC", "SunEC", p384));
    p384VerifyJdk = verifier("SHA384withECDSA", "SunEC", pub("EC", "SunEC", p384Pub));
    p384SignBc = signer("SHA384withECDSA", "BC", priv("EC", "BC", p384));
    p384VerifyBc = verifier("SHA384withECDSA", "BC", pub("EC", "BC", p384Pub));
    p384SigJdk = sign(p384SignJdk, msg);
    p384SigBc = sign(p384SignBc, msg);
    p384Pub.verify(msg, p384SigBc);

    eciesKey = PrivateKey.generate(KeyType.EC_P256);
    try (PublicKey pk = eciesKey.publicKey()) {
      eciesCt = pk.encrypt(EncryptionAlgorithm.ECIES_HKDF_HMAC_SHA256_AES128_CBC, msg);
    }
    eciesJdk = new JdkEcies(priv("EC", "SunEC", eciesKey));
    eciesBc = Cipher.getInstance("ECIESwithSHA256andAES-CBC", "BC");
    eciesBcKey = priv("EC", "BC", eciesKey);
    if (!Arrays.equals(msg, eciesJdk.decrypt(eciesCt)) || !Arrays.equals(msg, eciesDecrypt_bc())
        || !Arrays.equals(msg, eciesDecrypt_tresor())) {
      throw new IllegalStateException("ECIES implementations disagree");
    }

    rsa = PrivateKey.generate(KeyType.RSA_2048);
    try (PublicKey pk = rsa.publicKey()) {
      rsaCt = pk.encrypt(EncryptionAlgorithm.RSA_OAEP_SHA256, msg);
    }
    oaep = new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT);
    rsaJdk = Cipher.getInstance("RSA/ECB/OAEPPadding", "SunJCE");
    rsaJdkKey = priv("RSA", "SunRsaSign", rsa);
    rsaBc = Cipher.getInstance("RSA/NONE/OAEPWithSHA256AndMGF1Padding", "BC");
    rsaBcKey = priv("RSA", "BC", rsa);
    if (!Arrays.equals(msg, rsaDecrypt_jdk()) || !Arrays.equals(msg, rsaDecrypt_bc())
        || !Arrays.equals(msg, rsaDecrypt_tresor())) {
      throw new IllegalStateException("RSA-OAEP implementations disagree");
    }

    aes = Aes128Gcm.generate();
    aesKey = new SecretKeySpec(aes.toBytes(), "AES");
    aesJdk = Cipher.getInstance("AES/GCM/NoPadding", "SunJCE");
    aesBc = Cipher.getInstance("AES/GCM/NoPadding", "BC");
    if (!Arrays.equals(kib, aes.decrypt(aesGcm1k_jdk())) || !Arrays.equals(kib, aes.decrypt(aesGcm1k_bc()))) {
      throw new IllegalStateException("AES-GCM implementations disagree");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    for (AutoCloseable c : new AutoCloseable[] {ed, edPub, p256, p256Pub, p384, p384Pub, eciesKey, rsa, aes}) {
      try {
        c.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  // --- Ed25519 ---------------------------------------------------------------------------------------------------

  @Benchmark
  public byte[] ed25519Sign_tresor() throws Exception {
    return ed.sign(msg);
  }

  @Benchmark
  public byte[] ed25519Sign_jdk() throws Exception {
    return sign(edSignJdk, msg);
  }

  @Benchmark
  public byte[] ed25519Sign_bc() throws Exception {
    return sign(edSignBc, msg);
  }

  @Benchmark
  public void ed25519Verify_tresor() throws Exception {
    edPub.verify(msg, edSig);
  }

  @Benchmark
  public void ed25519Verify_jdk() throws Exception {
    verify(edVerifyJdk, msg, edSigJdk);
  }

  @Benchmark
  public void ed25519Verify_bc() throws Exception {
    verify(edVerifyBc, msg, edSigBc);
  }

  // --- ECDSA P-256 -----------------------------------------------------------------------------------------------

  @Benchmark
  public byte[] p256Sign_tresor() throws Exception {
    return p256.sign(msg);
  }

  @Benchmark
  public byte[] p256Sign_jdk() throws Exception {
    return sign(p256SignJdk, msg);
  }

  @Benchmark
  public byte[] p256Sign_bc() throws Exception {
    return sign(p256SignBc, msg);
  }

  @Benchmark
  public void p256Verify_tresor() throws Exception {
    p256Pub.verify(msg, p256Sig);
  }

  @Benchmark
  public void p256Verify_jdk() throws Exception {
    verify(p256VerifyJdk, msg, p256SigJdk);
  }

  @Benchmark
  public void p256Verify_bc() throws Exception {
    verify(p256VerifyBc, msg, p256SigBc);
  }

  // --- ECDSA P-384 -----------------------------------------------------------------------------------------------

  @Benchmark
  public byte[] p384Sign_tresor() throws Exception {
    return p384.sign(msg);
  }

  @Benchmark
  public byte[] p384Sign_jdk() throws Exception {
    return sign(p384SignJdk, msg);
  }

  @Benchmark
  public byte[] p384Sign_bc() throws Exception {
    return sign(p384SignBc, msg);
  }

  @Benchmark
  public void p384Verify_tresor() throws Exception {
    p384Pub.verify(msg, p384Sig);
  }

  @Benchmark
  public void p384Verify_jdk() throws Exception {
    verify(p384VerifyJdk, msg, p384SigJdk);
  }

  @Benchmark
  public void p384Verify_bc() throws Exception {
    verify(p384VerifyBc, msg, p384SigBc);
  }

  // --- ECIES-CBC (Canton's default asymmetric encryption), decrypt ------------------------------------------------

  @Benchmark
  public byte[] eciesDecrypt_tresor() throws Exception {
    return eciesKey.decrypt(EncryptionAlgorithm.ECIES_HKDF_HMAC_SHA256_AES128_CBC, eciesCt);
  }

  @Benchmark
  public byte[] eciesDecrypt_jdk() throws Exception {
    return eciesJdk.decrypt(eciesCt);
  }

  @Benchmark
  public byte[] eciesDecrypt_bc() throws Exception {
    IESParameterSpec spec = new IESParameterSpec(new byte[0], new byte[0], 512, 128, Arrays.copyOf(eciesCt, 16));
    eciesBc.init(Cipher.DECRYPT_MODE, eciesBcKey, spec);
    return eciesBc.doFinal(eciesCt, 16, eciesCt.length - 16);
  }

  // --- RSA-2048 OAEP-SHA256, decrypt -------------------------------------------------------------------------------

  @Benchmark
  public byte[] rsaDecrypt_tresor() throws Exception {
    return rsa.decrypt(EncryptionAlgorithm.RSA_OAEP_SHA256, rsaCt);
  }

  @Benchmark
  public byte[] rsaDecrypt_jdk() throws Exception {
    rsaJdk.init(Cipher.DECRYPT_MODE, rsaJdkKey, oaep);
    return rsaJdk.doFinal(rsaCt);
  }

  @Benchmark
  public byte[] rsaDecrypt_bc() throws Exception {
    rsaBc.init(Cipher.DECRYPT_MODE, rsaBcKey);
    return rsaBc.doFinal(rsaCt);
  }

  // --- AES-128-GCM, 1 KiB, encrypt in Canton's format (a fresh random IV each time) -------------------------------

  @Benchmark
  public byte[] aesGcm1k_tresor() throws Exception {
    return aes.encrypt(kib);
  }

  private byte[] gcm(Cipher c) throws GeneralSecurityException {
    byte[] iv = new byte[12];
    random.nextBytes(iv);
    c.init(Cipher.ENCRYPT_MODE, aesKey, new GCMParameterSpec(128, iv));
    byte[] out = new byte[12 + kib.length + 16];
    System.arraycopy(iv, 0, out, 0, 12);
    c.doFinal(kib, 0, kib.length, out, 12);
    return out;
  }

  @Benchmark
  public byte[] aesGcm1k_jdk() throws Exception {
    return gcm(aesJdk);
  }

  @Benchmark
  public byte[] aesGcm1k_bc() throws Exception {
    return gcm(aesBc);
  }

}
