import { status, type ServiceError } from "@grpc/grpc-js";

/**
 * ollama-js's ResponseError: `error` is the server's message and `status_code` the HTTP
 * status the REST shim would have answered. `code` and `codeName` keep the gRPC status.
 */
export class ResponseError extends Error {
  readonly error: string;
  readonly status_code: number;
  readonly code: status;
  readonly codeName: string;

  constructor(error: string, status_code: number, code: status = status.UNKNOWN) {
    super(error);
    this.name = "ResponseError";
    this.error = error;
    this.status_code = status_code;
    this.code = code;
    this.codeName = status[code] ?? "UNKNOWN";
  }
}

// The table the REST shim answers with (tokenwire_common/status.py); the conformance
// cases check that every client reports the same status.
const HTTP_STATUS: Partial<Record<status, number>> = {
  [status.OK]: 200,
  [status.INVALID_ARGUMENT]: 400,
  [status.FAILED_PRECONDITION]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.UNAUTHENTICATED]: 401,
  [status.PERMISSION_DENIED]: 403,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.ABORTED]: 409,
  [status.CANCELLED]: 499,
  [status.UNKNOWN]: 500,
  [status.INTERNAL]: 500,
  [status.DATA_LOSS]: 500,
  [status.UNIMPLEMENTED]: 501,
  [status.RESOURCE_EXHAUSTED]: 503,
  [status.UNAVAILABLE]: 503,
  [status.DEADLINE_EXCEEDED]: 504,
};

function isServiceError(e: unknown): e is ServiceError {
  return e instanceof Error && typeof (e as Partial<ServiceError>).code === "number" && "metadata" in e;
}

/** A failed call's error as a ResponseError; anything else passes through. */
export function asResponseError(e: unknown): unknown {
  if (!isServiceError(e)) return e;
  const message = e.code === status.DEADLINE_EXCEEDED ? "Deadline Exceeded" : e.details;
  return new ResponseError(message, HTTP_STATUS[e.code] ?? 500, e.code);
}

/** What iterating an aborted stream throws, as ollama-js's fetch does. */
export class AbortError extends Error {
  constructor() {
    super("The operation was aborted.");
    this.name = "AbortError";
  }
}
