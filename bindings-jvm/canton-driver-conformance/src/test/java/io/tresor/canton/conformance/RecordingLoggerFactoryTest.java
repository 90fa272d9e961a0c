package io.tresor.canton.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/** The logger factory the suite hands to drivers records every event, at every level, through every slf4j API. */
class RecordingLoggerFactoryTest {

  @Test
  void everyLevelAndApiIsRecordedWithFormattedMessages() {
    RecordingLoggerFactory factory = new RecordingLoggerFactory(null);
    Logger logger = factory.apply(RecordingLoggerFactoryTest.class);
    assertTrue(logger.isTraceEnabled() && logger.isDebugEnabled() && logger.isInfoEnabled());
    IllegalStateException boom = new IllegalStateException("boom");
    logger.trace("t {}", 1);
    logger.debug("d {} {}", 1, 2);
    logger.info("i {} {} {}", 1, 2, 3);
    logger.warn("w {}", "x", boom);
    logger.error("e");
    logger.atWarn().setMessage("fluent {}").addArgument("y").log();
    List<RecordingLoggerFactory.Event> events = factory.events();
    assertEquals(
        List.of(Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR, Level.WARN),
        events.stream().map(RecordingLoggerFactory.Event::level).toList());
    assertEquals(
        List.of("t 1", "d 1 2", "i 1 2 3", "w x", "e", "fluent y"),
        events.stream().map(RecordingLoggerFactory.Event::message).toList());
    assertSame(boom, events.get(3).throwable(), "a trailing Throwable argument is the event's throwable");
    assertTrue(events.get(3).fullText().contains("boom"));
    assertNull(events.get(4).throwable());
    assertEquals(Set.of(RecordingLoggerFactoryTest.class.getName()), factory.loggerNames());
    assertEquals(
        3, events.stream().filter(RecordingLoggerFactory.Event::isWarnOrError).count(), "WARN, ERROR, WARN");
  }

  @Test
  void marksSelectTheEventsOfOneCase() {
    RecordingLoggerFactory factory = new RecordingLoggerFactory(null);
    Logger logger = factory.apply(String.class);
    logger.warn("before");
    int mark = factory.mark();
    logger.warn("during");
    assertEquals(List.of("during"), factory.eventsSince(mark).stream().map(RecordingLoggerFactory.Event::message).toList());
  }
}
