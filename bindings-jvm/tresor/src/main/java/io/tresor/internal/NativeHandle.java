package io.tresor.internal;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * The native side of a Java object: a {@code long} handle, freed exactly once, never while a call uses it.
 *
 * <p>Every call does {@link #acquire()} (which fails with {@link IllegalStateException} once the object is closed),
 * passes the handle to the native method, and {@link #release()}s it. {@link #close()} marks the handle closed; it is
 * freed at once when no call is using it, otherwise by the last call to release it. A {@link Cleaner} closes handles
 * whose owner became unreachable without being closed. Thread-safe and lock-free.
 *
 * <p>Not API.
 */
public final class NativeHandle {

  private static final Cleaner CLEANER =
      Cleaner.create(
          r -> {
            Thread t = new Thread(r, "tresor-cleaner");
            t.setDaemon(true);
            return t;
          });

  /** The closed bit; the bits below count the calls using the handle. */
  private static final long CLOSED = 1L << 62;

  private final long handle;
  private final LongConsumer free;
  private final String what;
  private final AtomicLong state = new AtomicLong();
  private final Cleaner.Cleanable cleanable;

  private NativeHandle(Object owner, long handle, LongConsumer free, String what) {
    if (handle == 0) {
      throw new IllegalArgumentException("a native handle is never 0");
    }
    this.handle = handle;
    this.free = free;
    this.what = what;
    // The cleaning action refers to this NativeHandle, never to the owner.
    this.cleanable = CLEANER.register(owner, this::close);
  }

  /**
   * Tie {@code handle} to {@code owner}: {@code free} runs once, after {@code owner} closes it or becomes unreachable.
   */
  public static NativeHandle of(Object owner, long handle, LongConsumer free, String what) {
    return new NativeHandle(owner, handle, free, what);
  }

  /** The handle, for one native call; pair with {@link #release()} in a {@code finally}. */
  public long acquire() {
    while (true) {
      long s = state.get();
      if ((s & CLOSED) != 0) {
        throw new IllegalStateException("this " + what + " is closed");
      }
      if (state.compareAndSet(s, s + 1)) {
        return handle;
      }
    }
  }

  /** The end of the call that acquired the handle. */
  public void release() {
    if (state.decrementAndGet() == CLOSED) {
      free.accept(handle);
    }
  }

  /** Close (idempotent): the handle is freed now, or when the last running call releases it. */
  public void close() {
    while (true) {
      long s = state.get();
      if ((s & CLOSED) != 0) {
        return;
      }
      if (state.compareAndSet(s, s | CLOSED)) {
        if (s == 0) {
          free.accept(handle);
        }
        return;
      }
    }
  }

  /** Close through the cleaner registration (so the cleaner does not run it again). */
  public void closeNow() {
    cleanable.clean();
  }

  public boolean isClosed() {
    return (state.get() & CLOSED) != 0;
  }
}
