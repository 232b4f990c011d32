package io.tokenwire.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tokenwire.v1.ChatRequest;
import dev.tokenwire.v1.DoneReason;
import dev.tokenwire.v1.GenerateRequest;
import dev.tokenwire.v1.GenerateResponse;
import dev.tokenwire.v1.Message;
import dev.tokenwire.v1.Options;
import dev.tokenwire.v1.ShowModelResponse;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The client's own behaviour against the live server (one slot). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TokenwireClientTest {
  private static final String MODEL = "smollm2:135m";
  private TokenwireClient client;

  @BeforeAll
  void connect() {
    client = TokenwireClient.builder().host(LiveServer.address()).build();
  }

  @AfterAll
  void close() {
    client.close();
  }

  /** Greedy counting runs for minutes without an end-of-generation token. */
  private static GenerateRequest counting() {
    return GenerateRequest.newBuilder()
        .setModel(MODEL)
        .setPrompt("1, 2, 3, 4, 5, 6, 7, 8, 9, 10,")
        .setRaw(true)
        .setOptions(Options.newBuilder().setNumPredict(100000).setTemperature(0))
        .build();
  }

  /** With one slot, this finishes within its deadline only if nothing else holds the slot. */
  private void slotIsFree() {
    GenerateResponse r =
        client
            .withDeadline(Duration.ofSeconds(30))
            .generate(
                GenerateRequest.newBuilder()
                    .setModel(MODEL)
                    .setPrompt("Say yes.")
                    .setOptions(Options.newBuilder().setNumPredict(4))
                    .build());
    assertTrue(r.getDone());
    assertTrue(r.getEvalCount() <= 4);
  }

  @Test
  void closingAStreamPartWayCancelsItAndFreesTheSlot() {
    int seen = 0;
    try (ResponseStream<GenerateResponse> stream = client.generateStream(counting())) {
      while (stream.hasNext() && seen < 2) {
        stream.next();
        seen++;
      }
    }
    assertEquals(2, seen);
    slotIsFree();
  }

  @Test
  void cancellingTheAsyncFormCancelsTheRpcAndFreesTheSlot() throws Exception {
    CountDownLatch two = new CountDownLatch(2);
    CompletableFuture<GenerateResponse> future = client.generateAsync(counting(), r -> two.countDown());
    assertTrue(two.await(60, TimeUnit.SECONDS));
    assertTrue(future.cancel(true));
    assertThrows(CancellationException.class, future::join);
    slotIsFree();
  }

  @Test
  void theAsyncFormsComplete() throws Exception {
    AtomicInteger chunks = new AtomicInteger();
    ChatRequest chat =
        ChatRequest.newBuilder()
            .setModel(MODEL)
            .addMessages(Message.newBuilder().setRole("user").setContent("Say hi."))
            .setOptions(Options.newBuilder().setNumPredict(4))
            .build();
    var last = client.chatAsync(chat, r -> chunks.incrementAndGet()).get(60, TimeUnit.SECONDS);
    assertTrue(last.getDone());
    assertTrue(chunks.get() >= 2);
    assertEquals("assistant", client.chatAsync(chat).get(60, TimeUnit.SECONDS).getMessage().getRole());
    assertFalse(client.listAsync().get().getModelsList().isEmpty());
    assertTrue(client.versionAsync().get().matches("\\d+\\.\\d+\\.\\d+.*"));
  }

  @Test
  void freeFormJsonIsPlainJava() {
    ShowModelResponse show = client.show(MODEL);
    Map<String, Object> info = Structs.fromStruct(show.getModelInfo());
    assertEquals("llama", info.get("general.architecture"));
    assertInstanceOf(Long.class, info.get("llama.embedding_length"));
  }

  @Test
  void failuresAreTypedAndKeepBothStatuses() {
    var notFound = assertThrows(TokenwireException.NotFound.class, () -> client.show("no-such-model"));
    assertEquals(404, notFound.getStatusCode());
    assertEquals(Status.Code.NOT_FOUND, notFound.getStatus().getCode());
    assertEquals("model 'no-such-model:latest' not found", notFound.getErrorMessage());

    var streamed =
        assertThrows(
            TokenwireException.NotFound.class,
            () -> client.generateStream(counting().toBuilder().setModel("no-such-model").build()).next());
    assertEquals("model 'no-such-model' not found", streamed.getErrorMessage());

    var future = client.showAsync(dev.tokenwire.v1.ShowModelRequest.newBuilder().setModel("nope").build());
    var failed = assertThrows(ExecutionException.class, () -> future.get(30, TimeUnit.SECONDS));
    assertInstanceOf(TokenwireException.NotFound.class, failed.getCause());

    var invalid =
        assertThrows(
            TokenwireException.InvalidRequest.class,
            () -> client.generate(counting().toBuilder().setRaw(true).setSystem("x").build()));
    assertEquals(400, invalid.getStatusCode());

    var late =
        assertThrows(
            TokenwireException.DeadlineExceeded.class,
            () -> client.withDeadline(Duration.ofMillis(500)).generate(counting()));
    assertEquals(504, late.getStatusCode());
    slotIsFree();
  }

  @Test
  void ollamaJsonSpeaksOllamasSpellings() {
    GenerateRequest r =
        OllamaJson.merge(
                Map.of(
                    "model", MODEL,
                    "keep_alive", "5m",
                    "format", "json",
                    "think", "high",
                    "options", Map.of("num_predict", 3, "temperature", 0.5, "not_an_option", 1),
                    "images", List.of("aGk=")),
                GenerateRequest.newBuilder())
            .build();
    assertEquals(300, r.getKeepAlive().getSeconds());
    assertTrue(r.getFormat().getJson());
    assertEquals("THINK_LEVEL_HIGH", r.getThink().getLevel().name());
    assertEquals(3, r.getOptions().getNumPredict());
    assertEquals("hi", r.getImages(0).toStringUtf8());
    assertEquals(90, OllamaJson.merge(Map.of("keep_alive", 90), GenerateRequest.newBuilder()).getKeepAlive().getSeconds());

    Map<String, Object> out =
        OllamaJson.toMap(GenerateResponse.newBuilder().setDone(true).setDoneReason(DoneReason.DONE_REASON_LENGTH).build());
    assertEquals("length", out.get("done_reason"));
    assertEquals(true, out.get("done"));
    assertEquals(0L, out.get("total_duration"));

    assertThrows(IllegalArgumentException.class, () -> KeepAlive.parseGoDuration("5"), "missing unit");
    var bad = assertThrows(IllegalArgumentException.class, () -> OllamaJson.merge(Map.of("think", "loud"), GenerateRequest.newBuilder()));
    assertTrue(bad.getMessage().startsWith("invalid think value: \"loud\""));
  }
}
