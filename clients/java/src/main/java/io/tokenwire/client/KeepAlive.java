package io.tokenwire.client;

import com.google.protobuf.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * keep_alive as Ollama reads it: a number is seconds, text is Go's time.ParseDuration
 * syntax ({@code "5m"}, {@code "1h30m"}, {@code "-1s"}); negative means forever. The
 * wire type is google.protobuf.Duration (tokenwire_common/duration.py is the server's).
 */
public final class KeepAlive {
  private static final Map<String, Double> UNITS =
      Map.of(
          "ns", 1.0, "us", 1e3, "µs", 1e3, "μs", 1e3, "ms", 1e6, "s", 1e9, "m", 60e9, "h", 3600e9);
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");

  private KeepAlive() {}

  /** A {@link java.time.Duration} as keep_alive. */
  public static Duration of(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  /** Seconds (a number) or Go's duration text, as in Ollama's JSON. */
  public static Duration of(Object value) {
    double ns;
    if (value instanceof Number n) {
      ns = n.doubleValue() * 1e9;
    } else if (value instanceof String s) {
      ns = parseGoDuration(s);
    } else {
      throw new IllegalArgumentException("Unsupported type: '" + value + "'");
    }
    long seconds = (long) (ns / 1e9);
    return Duration.newBuilder()
        .setSeconds(seconds)
        .setNanos((int) Math.round(ns - seconds * 1e9))
        .build();
  }

  /** Go's time.ParseDuration, in nanoseconds; errors carry Go's message. */
  public static double parseGoDuration(String text) {
    if (text.equals("0") || text.equals("+0") || text.equals("-0")) {
      return 0;
    }
    String rest = text;
    int sign = 1;
    if (rest.startsWith("-") || rest.startsWith("+")) {
      sign = rest.startsWith("-") ? -1 : 1;
      rest = rest.substring(1);
    }
    if (rest.isEmpty()) {
      throw new IllegalArgumentException("time: invalid duration \"" + text + "\"");
    }
    double total = 0;
    Matcher m = PART.matcher(rest);
    int at = 0;
    while (at < rest.length()) {
      if (!m.find(at) || m.start() != at) {
        if (rest.substring(at).matches("[\\d.]+")) {
          throw new IllegalArgumentException("time: missing unit in duration \"" + text + "\"");
        }
        throw new IllegalArgumentException("time: invalid duration \"" + text + "\"");
      }
      total += Double.parseDouble(m.group(1)) * UNITS.get(m.group(2));
      at = m.end();
    }
    return sign * total;
  }
}
