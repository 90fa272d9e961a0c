package tresor.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Cipher;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.jce.spec.IESParameterSpec;

/**
 * The BouncyCastle side of the ECIES interop checks, configured the way Canton configures it for
 * {@code ecies-hkdf-hmac-sha-256-aes-128-cbc}:
 *
 * <pre>
 *   Cipher.getInstance("ECIESwithSHA256andAES-CBC", "BC")
 *   IESParameterSpec(new byte[0], new byte[0], 512, 128, iv)   // iv: 16 random bytes
 *   wire format: iv(16) || BouncyCastle output (V(65) || C || T(32))
 * </pre>
 *
 * <p>Usage:
 *
 * <pre>
 *   EciesPeer encrypt &lt;public-key (SPKI, PEM or DER)&gt; &lt;in&gt; &lt;out&gt;
 *   EciesPeer decrypt &lt;private-key (PKCS#8, PEM or DER)&gt; &lt;in&gt; &lt;out&gt;
 * </pre>
 *
 * <p>Exit status: 0 on success, 1 when the operation fails (e.g. a ciphertext does not open), 2 on a
 * usage error. Failures print one line on stderr.
 */
public final class EciesPeer {
    private static final String TRANSFORMATION = "ECIESwithSHA256andAES-CBC";
    private static final int IV_LEN = 16;
    private static final int MAC_KEY_BITS = 512;
    private static final int CIPHER_KEY_BITS = 128;

    private EciesPeer() {}

    public static void main(String[] args) {
        if (args.length != 4 || !(args[0].equals("encrypt") || args[0].equals("decrypt"))) {
            System.err.println("usage: EciesPeer encrypt|decrypt <key-file> <in> <out>");
            System.exit(2);
        }
        Security.addProvider(new BouncyCastleProvider());
        try {
            byte[] key = readKeyFile(Path.of(args[1]));
            byte[] input = Files.readAllBytes(Path.of(args[2]));
            byte[] output =
                    args[0].equals("encrypt") ? encrypt(key, input) : decrypt(key, input);
            Files.write(Path.of(args[3]), output);
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            System.err.println("EciesPeer " + args[0] + " failed: " + e);
            System.exit(1);
        }
    }

    private static IESParameterSpec spec(byte[] iv) {
        return new IESParameterSpec(new byte[0], new byte[0], MAC_KEY_BITS, CIPHER_KEY_BITS, iv);
    }

    static byte[] encrypt(byte[] spki, byte[] plaintext) throws GeneralSecurityException {
        PublicKey pub = KeyFactory.getInstance("EC", "BC").generatePublic(new X509EncodedKeySpec(spki));
        SecureRandom random = new SecureRandom();
        byte[] iv = new byte[IV_LEN];
        random.nextBytes(iv);
        Cipher cipher = Cipher.getInstance(TRANSFORMATION, "BC");
        cipher.init(Cipher.ENCRYPT_MODE, pub, spec(iv), random);
        byte[] body = cipher.doFinal(plaintext);
        byte[] out = new byte[IV_LEN + body.length];
        System.arraycopy(iv, 0, out, 0, IV_LEN);
        System.arraycopy(body, 0, out, IV_LEN, body.length);
        return out;
    }

    static byte[] decrypt(byte[] pkcs8, byte[] wire) throws GeneralSecurityException {
        if (wire.length < IV_LEN) {
            throw new GeneralSecurityException(
                    "ciphertext shorter than the " + IV_LEN + "-byte IV: " + wire.length + " bytes");
        }
        PrivateKey priv =
                KeyFactory.getInstance("EC", "BC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        byte[] iv = Arrays.copyOfRange(wire, 0, IV_LEN);
        byte[] body = Arrays.copyOfRange(wire, IV_LEN, wire.length);
        Cipher cipher = Cipher.getInstance(TRANSFORMATION, "BC");
        cipher.init(Cipher.DECRYPT_MODE, priv, spec(iv));
        return cipher.doFinal(body);
    }

    /** A key file as DER: PEM ("-----BEGIN ...-----") is unwrapped, anything else is taken as DER. */
    static byte[] readKeyFile(Path path) throws IOException {
        byte[] raw = Files.readAllBytes(path);
        String text = new String(raw, StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN ");
        if (begin < 0) {
            return raw;
        }
        int bodyStart = text.indexOf('\n', begin);
        int end = text.indexOf("-----END ", begin);
        if (bodyStart < 0 || end < 0 || end < bodyStart) {
            throw new IllegalArgumentException("malformed PEM in " + path);
        }
        String body = text.substring(bodyStart + 1, end).replaceAll("\\s", "");
        return Base64.getDecoder().decode(body);
    }
}
