package io.tokenwire.client;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/** The async forms: a call as a CompletableFuture whose cancel() cancels the RPC. */
final class Calls {
  private Calls() {}

  /** A future that cancels its RPC when cancelled. */
  private static final class CallFuture<T> extends CompletableFuture<T> {
    private volatile ClientCallStreamObserver<?> call;

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      ClientCallStreamObserver<?> c = call;
      if (cancelled && c != null) {
        c.cancel("cancelled by the caller", null);
      }
      return cancelled;
    }
  }

  /**
   * Runs {@code method}; {@code onEach} sees every message of a stream, and the future
   * completes with the last one, or fails with a {@link TokenwireException}.
   */
  static <Req, Res> CompletableFuture<Res> start(
      BiConsumer<Req, io.grpc.stub.StreamObserver<Res>> method, Req request, Consumer<Res> onEach) {
    CallFuture<Res> future = new CallFuture<>();
    method.accept(
        request,
        new ClientResponseObserver<Req, Res>() {
          private Res last;

          @Override
          public void beforeStart(ClientCallStreamObserver<Req> requestStream) {
            future.call = requestStream;
          }

          @Override
          public void onNext(Res value) {
            last = value;
            if (onEach != null) {
              onEach.accept(value);
            }
          }

          @Override
          public void onError(Throwable t) {
            future.completeExceptionally(TokenwireException.from(t));
          }

          @Override
          public void onCompleted() {
            if (last == null) {
              future.completeExceptionally(new IllegalStateException("the server sent no message"));
            } else {
              future.complete(last);
            }
          }
        });
    return future;
  }

  static <Req, Res> CompletableFuture<Res> start(
      BiConsumer<Req, io.grpc.stub.StreamObserver<Res>> method, Req request) {
    return start(method, request, null);
  }
}
