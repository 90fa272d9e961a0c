package io.tresor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tresor.internal.Native;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every code of the core's error table reaches Java as its generated class, through the native boundary. */
class ErrorMappingTest {

  private static final Map<String, Class<? extends TresorException>> FAMILIES = new HashMap<>();

  static {
    FAMILIES.put("argument", ArgumentException.class);
    FAMILIES.put("input", InputException.class);
    FAMILIES.put("crypto", CryptoException.class);
    FAMILIES.put("store", StoreException.class);
    FAMILIES.put("kms", KmsException.class);
    FAMILIES.put("internal", UnexpectedException.class);
  }

  @Test
  void everyCodeOfTheNativeTableIsThrownAsItsClass() throws Exception {
    String[] table = Native.Testing_errorTable();
    assertEquals(ErrorKind.values().length, table.length, "the jar and the native library have the same kinds");
    for (String row : table) {
      String[] f = row.split(":");
      int code = Integer.parseInt(f[0]);
      ErrorKind kind = byCode(code);
      assertEquals(f[1], kind.kindName(), row);
      assertEquals(Boolean.parseBoolean(f[3]), kind.isRetryable(), row);
      String expectedClass = f[4].replaceFirst("Error$", "") + "Exception";
      try {
        Native.Testing_fail(code);
        fail("no exception for " + row);
      } catch (TresorException e) {
        assertEquals(expectedClass, e.getClass().getSimpleName(), row);
        assertEquals(code, e.code(), row);
        assertEquals(f[1], e.kind(), row);
        assertEquals(kind, e.errorKind(), row);
        assertEquals(Boolean.parseBoolean(f[3]), e.isRetryable(), row);
        assertTrue(FAMILIES.get(f[2]).isInstance(e), row + " is a " + f[2] + " exception");
        assertEquals(kind, TresorException.fromCode(code, "m").errorKind());
      }
    }
  }

  @Test
  void aPanicInTheLibraryIsAPanicException() {
    PanicException e = assertThrows(PanicException.class, Native::Testing_panic);
    assertTrue(e.getMessage().contains("deliberate panic"), e.getMessage());
    assertEquals(902, e.code());
  }

  @Test
  void anUnknownCodeIsAnInternalError() {
    TresorException e = TresorException.fromCode(999, "from the future");
    assertEquals(ErrorKind.INTERNAL, e.errorKind());
    assertTrue(e.getMessage().contains("999"));
  }

  @Test
  void realFailuresCarryTheirKind() {
    assertThrows(UnknownSchemeException.class, () -> KeyType.parse("dsa-1024"));
    assertThrows(MalformedDataException.class, () -> PrivateKey.openSealedExport("not json", "pw".toCharArray()));
    assertThrows(NullArgumentException.class, () -> Hmac.sha256(null, new byte[0]));
  }

  private static ErrorKind byCode(int code) {
    for (ErrorKind k : ErrorKind.values()) {
      if (k.code() == code) {
        return k;
      }
    }
    throw new AssertionError("the native library has code " + code + " that ErrorKind does not");
  }
}
