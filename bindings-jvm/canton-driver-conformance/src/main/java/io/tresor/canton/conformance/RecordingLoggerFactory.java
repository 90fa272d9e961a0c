package io.tresor.canton.conformance;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import scala.Function1;

/**
 * The {@code loggerFactory} the suite hands to {@code create}: every logger it makes records every event (all levels
 * are enabled) into one list, so a case can assert what the driver logged while it ran. Events at INFO and above are
 * echoed to the given stream for the test report.
 */
public final class RecordingLoggerFactory implements Function1<Class<?>, Logger> {

  /** One logged event; {@code message} is formatted, {@code throwable} may be null. */
  public record Event(Level level, String loggerName, String message, Throwable throwable) {

    /** The message and the whole cause chain's messages, for substring checks. */
    public String fullText() {
      StringBuilder text = new StringBuilder(message == null ? "" : message);
      for (Throwable t = throwable; t != null; t = t.getCause()) {
        text.append(" | ").append(t).append(' ');
        if (t.getCause() == t) {
          break;
        }
      }
      return text.toString();
    }

    public boolean isWarnOrError() {
      return level == Level.WARN || level == Level.ERROR;
    }

    @Override
    public String toString() {
      return level + " " + loggerName + " - " + fullText();
    }
  }

  private final List<Event> events = new ArrayList<>();
  private final Set<String> loggerNames = ConcurrentHashMap.newKeySet();
  private final PrintStream echo;

  public RecordingLoggerFactory(PrintStream echo) {
    this.echo = echo;
  }

  @Override
  public Logger apply(Class<?> owner) {
    String name = owner == null ? "null" : owner.getName();
    loggerNames.add(name);
    return new RecordingLogger(name);
  }

  /** How many events have been recorded so far; a mark for {@link #eventsSince(int)}. */
  public synchronized int mark() {
    return events.size();
  }

  public synchronized List<Event> eventsSince(int mark) {
    return List.copyOf(events.subList(mark, events.size()));
  }

  public synchronized List<Event> events() {
    return List.copyOf(events);
  }

  /** The names of the loggers the driver asked for. */
  public Set<String> loggerNames() {
    return Set.copyOf(loggerNames);
  }

  private synchronized void record(Event event) {
    events.add(event);
    if (echo != null && event.level().toInt() >= Level.INFO.toInt()) {
      echo.println("[driver log] " + event);
    }
  }

  private final class RecordingLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;

    RecordingLogger(String name) {
      this.name = name;
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(
        Level level, Marker marker, String pattern, Object[] arguments, Throwable throwable) {
      String message = MessageFormatter.basicArrayFormat(pattern, arguments);
      record(new Event(level, name, message, throwable));
    }

    @Override
    public boolean isTraceEnabled() {
      return true;
    }

    @Override
    public boolean isDebugEnabled() {
      return true;
    }

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isWarnEnabled() {
      return true;
    }

    @Override
    public boolean isErrorEnabled() {
      return true;
    }
  }
}
