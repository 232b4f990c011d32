// @tokenwire/client: ollama-js's API over tokenwire's gRPC contract.
import { Ollama } from "./client";

export { Ollama, DEFAULT_HOST, MODEL_HEADER } from "./client";
export { ResponseError, AbortError } from "./errors";
export { AbortableAsyncIterator } from "./stream";
export { parseGoDuration } from "./duration";
export * from "./interfaces";

/** A client for TOKENWIRE_GRPC_ADDR, as ollama-js exports one for OLLAMA_HOST. */
const ollama = new Ollama();
export default ollama;
