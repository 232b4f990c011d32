package io.tokenwire.client;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The shared conformance cases, one dynamic test each, against the live server. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConformanceTest {
  private final AtomicInteger passed = new AtomicInteger();
  private int total;
  private TokenwireClient client;

  @TestFactory
  Stream<DynamicTest> cases() throws Exception {
    Map<String, Object> spec = Conformance.load();
    List<?> cases = (List<?>) spec.get("cases");
    total = cases.size();
    client = TokenwireClient.builder().host(LiveServer.address()).build();
    return cases.stream()
        .map(Conformance::asMap)
        .map(c -> DynamicTest.dynamicTest(String.valueOf(c.get("name")), () -> {
          Map<String, Object> names = new LinkedHashMap<>(Conformance.asMap(spec.get("vars")));
          byte[] run = new byte[4];
          new SecureRandom().nextBytes(run);
          names.put("run", HexFormat.of().formatHex(run));
          for (Object step : (List<?>) c.get("steps")) {
            Conformance.runStep(client, Conformance.asMap(step), names);
          }
          passed.incrementAndGet();
        }));
  }

  @AfterAll
  void summary() {
    if (client != null) {
      client.close();
    }
    System.out.printf(
        "conformance (clients/conformance/cases.json, Java): %d cases run, %d passed, %d failed%n",
        total, passed.get(), total - passed.get());
  }

  @Test
  void theRunnerRejectsAWrongAnswer() {
    Map<String, Object> doc =
        Map.of("models", List.of(Map.of("model", "a:latest")), "done_reason", "stop", "eval_count", 9);
    for (Map<String, Object> e :
        List.<Map<String, Object>>of(
            Map.of("at", "/eval_count", "at_most", 8),
            Map.of("at", "/done_reason", "one_of", List.of("length")),
            Map.of("at", "/models", "has_item", List.of(Map.of("at", "/model", "equals", "b"))),
            Map.of("at", "/missing", "equals", 1))) {
      assertNotEquals("", Conformance.holds(doc, e), e.toString());
    }
    assertEquals("", Conformance.holds(doc, Map.of("at", "/models/0/model", "equals", "a:latest")));
  }
}
