package io.tokenwire.client;

import dev.tokenwire.v1.ChatRequest;
import dev.tokenwire.v1.ChatResponse;
import dev.tokenwire.v1.CopyModelRequest;
import dev.tokenwire.v1.CreateModelRequest;
import dev.tokenwire.v1.CreateModelResponse;
import dev.tokenwire.v1.DeleteModelRequest;
import dev.tokenwire.v1.EmbedRequest;
import dev.tokenwire.v1.EmbedResponse;
import dev.tokenwire.v1.EmbeddingsRequest;
import dev.tokenwire.v1.EmbeddingsResponse;
import dev.tokenwire.v1.GenerateRequest;
import dev.tokenwire.v1.GenerateResponse;
import dev.tokenwire.v1.GetVersionRequest;
import dev.tokenwire.v1.InferenceServiceGrpc;
import dev.tokenwire.v1.ListModelsRequest;
import dev.tokenwire.v1.ListModelsResponse;
import dev.tokenwire.v1.ListRunningModelsRequest;
import dev.tokenwire.v1.ListRunningModelsResponse;
import dev.tokenwire.v1.ModelServiceGrpc;
import dev.tokenwire.v1.PullModelRequest;
import dev.tokenwire.v1.PullModelResponse;
import dev.tokenwire.v1.PushModelRequest;
import dev.tokenwire.v1.PushModelResponse;
import dev.tokenwire.v1.ShowModelRequest;
import dev.tokenwire.v1.ShowModelResponse;
import dev.tokenwire.v1.VersionServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * tokenwire's gRPC service, for Java. Build one with {@link #builder()} (host, deadline,
 * TLS, credentials) and share it: it holds one HTTP/2 channel for every call.
 *
 * <p>Each RPC has a blocking form (a {@link ResponseStream} iterator for streams, whose
 * close() cancels the RPC) and an async form (a {@link CompletableFuture} whose cancel()
 * cancels the RPC). Failures are {@link TokenwireException}s that carry the gRPC status
 * and the HTTP status the REST shim would have answered. Requests and responses are the
 * contract's messages ({@code dev.tokenwire.v1}); {@link OllamaJson} converts Ollama's
 * JSON shapes and {@link Structs} free-form JSON.
 */
public final class TokenwireClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final boolean ownsChannel;
  private final Duration deadline;
  private final InferenceServiceGrpc.InferenceServiceBlockingStub inference;
  private final InferenceServiceGrpc.InferenceServiceStub inferenceAsync;
  private final ModelServiceGrpc.ModelServiceBlockingStub models;
  private final ModelServiceGrpc.ModelServiceStub modelsAsync;
  private final VersionServiceGrpc.VersionServiceBlockingStub versions;
  private final VersionServiceGrpc.VersionServiceStub versionsAsync;

  TokenwireClient(ManagedChannel channel, boolean ownsChannel, Duration deadline) {
    this.channel = channel;
    this.ownsChannel = ownsChannel;
    this.deadline = deadline;
    this.inference = InferenceServiceGrpc.newBlockingStub(channel);
    this.inferenceAsync = InferenceServiceGrpc.newStub(channel);
    this.models = ModelServiceGrpc.newBlockingStub(channel);
    this.modelsAsync = ModelServiceGrpc.newStub(channel);
    this.versions = VersionServiceGrpc.newBlockingStub(channel);
    this.versionsAsync = VersionServiceGrpc.newStub(channel);
  }

  public static TokenwireClientBuilder builder() {
    return new TokenwireClientBuilder();
  }

  /** A client for TOKENWIRE_GRPC_ADDR (default 127.0.0.1:50051), plaintext. */
  public static TokenwireClient fromEnvironment() {
    return builder().build();
  }

  /** The same channel, with another deadline for every call made through the result. */
  public TokenwireClient withDeadline(Duration deadline) {
    return new TokenwireClient(channel, false, deadline);
  }

  /**
   * The metadata header every call about a model carries, as the shim and the other
   * clients send it (tokenwire_common/wire.py): an L7 proxy hashes on it to keep each
   * model warm on one replica.
   */
  public static final String MODEL_HEADER = "x-tokenwire-model";

  private static final Metadata.Key<String> MODEL_KEY =
      Metadata.Key.of(MODEL_HEADER, Metadata.ASCII_STRING_MARSHALLER);

  private <S extends AbstractStub<S>> S timed(S stub) {
    return deadline == null ? stub : stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** The stub with this client's deadline, and the model header for {@code model}. */
  private <S extends AbstractStub<S>> S timed(S stub, String model) {
    S s = timed(stub);
    if (model == null || !model.matches("[!-~]+")) {
      return s;
    }
    Metadata headers = new Metadata();
    headers.put(MODEL_KEY, model);
    return s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private static <T> T blocking(Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      throw asTyped(e);
    }
  }

  private static RuntimeException asTyped(RuntimeException e) {
    return TokenwireException.isGrpc(e) ? TokenwireException.from(e) : e;
  }

  // Generate

  /** Generates to the end and returns the one aggregated response. */
  public GenerateResponse generate(GenerateRequest request) {
    GenerateRequest r = request.toBuilder().setStream(false).build();
    return new ResponseStream<>(() -> timed(inference, r.getModel()).generate(r)).last();
  }

  /** Streams the chunks; the last has done = true and the metrics. */
  public ResponseStream<GenerateResponse> generateStream(GenerateRequest request) {
    GenerateRequest r = request.toBuilder().setStream(true).build();
    return new ResponseStream<>(() -> timed(inference, r.getModel()).generate(r));
  }

  public CompletableFuture<GenerateResponse> generateAsync(GenerateRequest request) {
    return Calls.start(timed(inferenceAsync, request.getModel())::generate, request.toBuilder().setStream(false).build());
  }

  /** Streams chunks to {@code onChunk}; the future completes with the last. */
  public CompletableFuture<GenerateResponse> generateAsync(
      GenerateRequest request, Consumer<GenerateResponse> onChunk) {
    return Calls.start(timed(inferenceAsync, request.getModel())::generate, request.toBuilder().setStream(true).build(), onChunk);
  }

  // Chat

  public ChatResponse chat(ChatRequest request) {
    ChatRequest r = request.toBuilder().setStream(false).build();
    return new ResponseStream<>(() -> timed(inference, r.getModel()).chat(r)).last();
  }

  public ResponseStream<ChatResponse> chatStream(ChatRequest request) {
    ChatRequest r = request.toBuilder().setStream(true).build();
    return new ResponseStream<>(() -> timed(inference, r.getModel()).chat(r));
  }

  public CompletableFuture<ChatResponse> chatAsync(ChatRequest request) {
    return Calls.start(timed(inferenceAsync, request.getModel())::chat, request.toBuilder().setStream(false).build());
  }

  public CompletableFuture<ChatResponse> chatAsync(ChatRequest request, Consumer<ChatResponse> onChunk) {
    return Calls.start(timed(inferenceAsync, request.getModel())::chat, request.toBuilder().setStream(true).build(), onChunk);
  }

  // Embeddings

  public EmbedResponse embed(EmbedRequest request) {
    return blocking(() -> timed(inference, request.getModel()).embed(request));
  }

  public CompletableFuture<EmbedResponse> embedAsync(EmbedRequest request) {
    return Calls.start(timed(inferenceAsync, request.getModel())::embed, request);
  }

  public EmbeddingsResponse embeddings(EmbeddingsRequest request) {
    return blocking(() -> timed(inference, request.getModel()).embeddings(request));
  }

  public CompletableFuture<EmbeddingsResponse> embeddingsAsync(EmbeddingsRequest request) {
    return Calls.start(timed(inferenceAsync, request.getModel())::embeddings, request);
  }

  // Models

  public ListModelsResponse list() {
    return blocking(() -> timed(models).listModels(ListModelsRequest.getDefaultInstance()));
  }

  public CompletableFuture<ListModelsResponse> listAsync() {
    return Calls.start(timed(modelsAsync)::listModels, ListModelsRequest.getDefaultInstance());
  }

  /** The loaded models, as {@code ollama ps}. */
  public ListRunningModelsResponse ps() {
    return blocking(() -> timed(models).listRunningModels(ListRunningModelsRequest.getDefaultInstance()));
  }

  public CompletableFuture<ListRunningModelsResponse> psAsync() {
    return Calls.start(timed(modelsAsync)::listRunningModels, ListRunningModelsRequest.getDefaultInstance());
  }

  public ShowModelResponse show(ShowModelRequest request) {
    return blocking(() -> timed(models, request.getModel()).showModel(request));
  }

  public ShowModelResponse show(String model) {
    return show(ShowModelRequest.newBuilder().setModel(model).build());
  }

  public CompletableFuture<ShowModelResponse> showAsync(ShowModelRequest request) {
    return Calls.start(timed(modelsAsync, request.getModel())::showModel, request);
  }

  public CreateModelResponse create(CreateModelRequest request) {
    CreateModelRequest r = request.toBuilder().setStream(false).build();
    return new ResponseStream<>(() -> timed(models, r.getModel()).createModel(r)).last();
  }

  /** Progress messages; the last has status "success". */
  public ResponseStream<CreateModelResponse> createStream(CreateModelRequest request) {
    CreateModelRequest r = request.toBuilder().setStream(true).build();
    return new ResponseStream<>(() -> timed(models, r.getModel()).createModel(r));
  }

  public CompletableFuture<CreateModelResponse> createAsync(
      CreateModelRequest request, Consumer<CreateModelResponse> onProgress) {
    return Calls.start(timed(modelsAsync, request.getModel())::createModel, request.toBuilder().setStream(true).build(), onProgress);
  }

  public void copy(CopyModelRequest request) {
    blocking(() -> timed(models, request.getSource()).copyModel(request));
  }

  public void copy(String source, String destination) {
    copy(CopyModelRequest.newBuilder().setSource(source).setDestination(destination).build());
  }

  public CompletableFuture<Void> copyAsync(CopyModelRequest request) {
    return Calls.start(timed(modelsAsync, request.getSource())::copyModel, request).thenApply(r -> null);
  }

  public void delete(String model) {
    blocking(() -> timed(models, model).deleteModel(DeleteModelRequest.newBuilder().setModel(model).build()));
  }

  public CompletableFuture<Void> deleteAsync(String model) {
    DeleteModelRequest r = DeleteModelRequest.newBuilder().setModel(model).build();
    return Calls.start(timed(modelsAsync, model)::deleteModel, r).thenApply(x -> null);
  }

  public PullModelResponse pull(PullModelRequest request) {
    PullModelRequest r = request.toBuilder().setStream(false).build();
    return new ResponseStream<>(() -> timed(models, r.getModel()).pullModel(r)).last();
  }

  public ResponseStream<PullModelResponse> pullStream(PullModelRequest request) {
    PullModelRequest r = request.toBuilder().setStream(true).build();
    return new ResponseStream<>(() -> timed(models, r.getModel()).pullModel(r));
  }

  public CompletableFuture<PullModelResponse> pullAsync(
      PullModelRequest request, Consumer<PullModelResponse> onProgress) {
    return Calls.start(timed(modelsAsync, request.getModel())::pullModel, request.toBuilder().setStream(true).build(), onProgress);
  }

  public PushModelResponse push(PushModelRequest request) {
    PushModelRequest r = request.toBuilder().setStream(false).build();
    return new ResponseStream<>(() -> timed(models, r.getModel()).pushModel(r)).last();
  }

  public ResponseStream<PushModelResponse> pushStream(PushModelRequest request) {
    PushModelRequest r = request.toBuilder().setStream(true).build();
    return new ResponseStream<>(() -> timed(models, r.getModel()).pushModel(r));
  }

  public CompletableFuture<PushModelResponse> pushAsync(
      PushModelRequest request, Consumer<PushModelResponse> onProgress) {
    return Calls.start(timed(modelsAsync, request.getModel())::pushModel, request.toBuilder().setStream(true).build(), onProgress);
  }

  // Version

  public String version() {
    return blocking(() -> timed(versions).getVersion(GetVersionRequest.getDefaultInstance()).getVersion());
  }

  public CompletableFuture<String> versionAsync() {
    return Calls.start(timed(versionsAsync)::getVersion, GetVersionRequest.getDefaultInstance())
        .thenApply(r -> r.getVersion());
  }

  /** Closes the channel (when this client built it), waiting up to 5 s for calls to end. */
  @Override
  public void close() {
    if (!ownsChannel) {
      return;
    }
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
