import type { ClientReadableStream } from "@grpc/grpc-js";

import { AbortError, asResponseError } from "./errors";

/**
 * ollama-js's AbortableAsyncIterator over a server stream. Leaving the loop (break,
 * return, a throw) or calling abort() cancels the RPC, and the server stops the
 * engine for it (the one-slot conformance case shows the slot is free at once).
 */
export class AbortableAsyncIterator<T> implements AsyncIterable<T> {
  private aborted = false;

  constructor(
    private readonly call: ClientReadableStream<unknown>,
    private readonly convert: (m: never) => T,
    private readonly onDone: () => void,
  ) {}

  abort(): void {
    this.aborted = true;
    this.call.cancel();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      for await (const message of this.call) {
        yield this.convert(message as never);
      }
    } catch (e) {
      if (this.aborted) throw new AbortError();
      throw asResponseError(e);
    } finally {
      // A consumer that stops early leaves the call running: end it here.
      this.call.cancel();
      this.onDone();
    }
  }
}
