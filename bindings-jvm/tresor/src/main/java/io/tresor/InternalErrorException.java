package io.tresor;

/**
 * An error code this jar does not know (a native library newer than these classes); what the generated
 * {@link TresorException#fromCode(int, String)} returns for an unknown code.
 *
 * <p>Written by hand: the generator's {@code fromCode} names this class but does not generate it. It goes away
 * when {@code tools/codegen} emits {@code new InternalException(...)} for unknown codes instead.
 */
public final class InternalErrorException extends UnexpectedException {
  private static final long serialVersionUID = 1L;

  public InternalErrorException(String message) {
    super(ErrorKind.INTERNAL, message);
  }
}
