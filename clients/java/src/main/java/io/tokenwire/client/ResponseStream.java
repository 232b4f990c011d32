package io.tokenwire.client;

import io.grpc.Context;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A server stream as a blocking {@link Iterator}. Closing it (try-with-resources, or
 * {@link #close()} part-way) cancels the RPC, and the server stops the engine for it:
 * the one-slot conformance case shows the next request starts at once.
 */
public final class ResponseStream<T> implements Iterator<T>, Iterable<T>, AutoCloseable {
  private final Context.CancellableContext context;
  private final Iterator<T> responses;

  ResponseStream(Supplier<Iterator<T>> call) {
    // The blocking stub binds the call to the current Context: cancelling ours cancels it.
    this.context = Context.current().withCancellation();
    Context previous = context.attach();
    try {
      this.responses = call.get();
    } catch (RuntimeException e) {
      throw TokenwireException.from(e);
    } finally {
      context.detach(previous);
    }
  }

  @Override
  public boolean hasNext() {
    try {
      return responses.hasNext();
    } catch (RuntimeException e) {
      throw TokenwireException.from(e);
    }
  }

  @Override
  public T next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    try {
      return responses.next();
    } catch (RuntimeException e) {
      throw TokenwireException.from(e);
    }
  }

  /** This stream, once: {@code for (GenerateResponse r : client.generateStream(req))}. */
  @Override
  public Iterator<T> iterator() {
    return this;
  }

  /** The rest of the stream as a {@link Stream}; closing that closes this. */
  public Stream<T> stream() {
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL),
            false)
        .onClose(this::close);
  }

  /** Reads to the end and returns the last message (the one with the metrics). */
  T last() {
    try (this) {
      T last = null;
      while (hasNext()) {
        last = next();
      }
      if (last == null) {
        throw new IllegalStateException("the server sent no message");
      }
      return last;
    }
  }

  /** Cancels the RPC if it is still running; harmless after the end. */
  @Override
  public void close() {
    context.cancel(null);
  }
}
