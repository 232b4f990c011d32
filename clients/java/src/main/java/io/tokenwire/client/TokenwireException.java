package io.tokenwire.client;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Map;

/**
 * A failed call: the gRPC status, the HTTP status the REST shim would have answered
 * (Ollama's {@code StatusError.StatusCode}) and the server's message. Subclasses name
 * the failures a caller acts on; catch this class for all of them.
 */
public class TokenwireException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  // The table the REST shim answers with (tokenwire_common/status.py); the conformance
  // cases check that every client reports the same status.
  private static final Map<Status.Code, Integer> HTTP_STATUS =
      Map.ofEntries(
          Map.entry(Status.Code.OK, 200),
          Map.entry(Status.Code.INVALID_ARGUMENT, 400),
          Map.entry(Status.Code.FAILED_PRECONDITION, 400),
          Map.entry(Status.Code.OUT_OF_RANGE, 400),
          Map.entry(Status.Code.UNAUTHENTICATED, 401),
          Map.entry(Status.Code.PERMISSION_DENIED, 403),
          Map.entry(Status.Code.NOT_FOUND, 404),
          Map.entry(Status.Code.ALREADY_EXISTS, 409),
          Map.entry(Status.Code.ABORTED, 409),
          Map.entry(Status.Code.CANCELLED, 499),
          Map.entry(Status.Code.UNKNOWN, 500),
          Map.entry(Status.Code.INTERNAL, 500),
          Map.entry(Status.Code.DATA_LOSS, 500),
          Map.entry(Status.Code.UNIMPLEMENTED, 501),
          Map.entry(Status.Code.RESOURCE_EXHAUSTED, 503),
          Map.entry(Status.Code.UNAVAILABLE, 503),
          Map.entry(Status.Code.DEADLINE_EXCEEDED, 504));

  private final transient Status status;
  private final int statusCode;
  private final String errorMessage;

  TokenwireException(Status status, Throwable cause) {
    super(message(status), cause);
    this.status = status;
    this.statusCode = HTTP_STATUS.getOrDefault(status.getCode(), 500);
    this.errorMessage = message(status);
  }

  private static String message(Status status) {
    if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      return "Deadline Exceeded";
    }
    String d = status.getDescription();
    return d == null ? status.getCode().name() : d;
  }

  /** The gRPC status, as the server sent it. */
  public Status getStatus() {
    return status;
  }

  /** The HTTP status the REST shim would have answered: 404, 400, 503, ... */
  public int getStatusCode() {
    return statusCode;
  }

  /** The server's message, e.g. {@code model 'x' not found}; Ollama's {@code error}. */
  public String getErrorMessage() {
    return errorMessage;
  }

  /** The model (or blob) does not exist: NOT_FOUND, HTTP 404. */
  public static final class NotFound extends TokenwireException {
    private static final long serialVersionUID = 1L;

    NotFound(Status s, Throwable cause) {
      super(s, cause);
    }
  }

  /** The request is wrong and retrying it will not help: HTTP 400. */
  public static final class InvalidRequest extends TokenwireException {
    private static final long serialVersionUID = 1L;

    InvalidRequest(Status s, Throwable cause) {
      super(s, cause);
    }
  }

  /** The call's deadline passed; the server stopped the work: HTTP 504. */
  public static final class DeadlineExceeded extends TokenwireException {
    private static final long serialVersionUID = 1L;

    DeadlineExceeded(Status s, Throwable cause) {
      super(s, cause);
    }
  }

  /** The server is busy (queue full) or unreachable; retry later or elsewhere: HTTP 503. */
  public static final class Unavailable extends TokenwireException {
    private static final long serialVersionUID = 1L;

    Unavailable(Status s, Throwable cause) {
      super(s, cause);
    }
  }

  /** Credentials are missing or not allowed: HTTP 401 or 403. */
  public static final class Unauthenticated extends TokenwireException {
    private static final long serialVersionUID = 1L;

    Unauthenticated(Status s, Throwable cause) {
      super(s, cause);
    }
  }

  /** The call was cancelled (a closed stream, a cancelled future): HTTP 499. */
  public static final class Cancelled extends TokenwireException {
    private static final long serialVersionUID = 1L;

    Cancelled(Status s, Throwable cause) {
      super(s, cause);
    }
  }

  /** The typed exception for a failed call. */
  static TokenwireException from(Throwable t) {
    if (t instanceof TokenwireException e) {
      return e;
    }
    Status s = Status.fromThrowable(t);
    return switch (s.getCode()) {
      case NOT_FOUND -> new NotFound(s, t);
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> new InvalidRequest(s, t);
      case DEADLINE_EXCEEDED -> new DeadlineExceeded(s, t);
      case UNAVAILABLE, RESOURCE_EXHAUSTED -> new Unavailable(s, t);
      case UNAUTHENTICATED, PERMISSION_DENIED -> new Unauthenticated(s, t);
      case CANCELLED -> new Cancelled(s, t);
      default -> new TokenwireException(s, t);
    };
  }

  static boolean isGrpc(Throwable t) {
    return t instanceof StatusRuntimeException || t instanceof io.grpc.StatusException;
  }
}
