// Ollama's JSON shapes, as ollama-js's interfaces.ts names them: a program written for
// ollama-js passes and reads the same objects. Field names are Ollama's (snake_case).

export interface Config {
  /** host:port of the gRPC server. Default: TOKENWIRE_GRPC_ADDR, else 127.0.0.1:50051. */
  host?: string;
  /** TLS: true for the system roots, or PEM buffers; mutual TLS with a key and chain. */
  tls?: boolean | { rootCerts?: Buffer; privateKey?: Buffer; certChain?: Buffer };
  /** Sent with every call (e.g. authorization). TOKENWIRE_API_KEY adds a Bearer token. */
  headers?: Record<string, string>;
  /** Per-call deadline in milliseconds (a gRPC deadline). Default: none. */
  timeout?: number;
}

export type Options = Record<string, unknown>;

/** "json", a JSON schema object, or nothing. */
export type Format = string | Record<string, unknown>;

/** Seconds as a number, or Go's duration syntax ("5m", "1h30m", "-1s"). Negative = forever. */
export type KeepAlive = string | number;

export type Think = boolean | "high" | "medium" | "low" | "max";

/** Raw bytes, base64 text, or (Node) a path to a file. */
export type Image = Uint8Array | string;

export interface ToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

export interface Tool {
  type: string;
  function: { name?: string; description?: string; parameters?: Record<string, unknown> };
}

export interface Message {
  role: string;
  content: string;
  thinking?: string;
  images?: Image[];
  tool_calls?: ToolCall[];
  tool_name?: string;
  tool_call_id?: string;
}

export interface GenerateRequest {
  model: string;
  prompt?: string;
  suffix?: string;
  system?: string;
  template?: string;
  context?: number[];
  stream?: boolean;
  raw?: boolean;
  format?: Format;
  images?: Image[];
  keep_alive?: KeepAlive;
  think?: Think;
  logprobs?: boolean;
  top_logprobs?: number;
  options?: Partial<Options>;
}

export interface ChatRequest {
  model: string;
  messages?: Message[];
  stream?: boolean;
  format?: Format;
  keep_alive?: KeepAlive;
  tools?: Tool[];
  think?: Think;
  logprobs?: boolean;
  top_logprobs?: number;
  options?: Partial<Options>;
}

export interface EmbedRequest {
  model: string;
  input: string | string[];
  truncate?: boolean;
  keep_alive?: KeepAlive;
  dimensions?: number;
  options?: Partial<Options>;
}

export interface EmbeddingsRequest {
  model: string;
  prompt: string;
  keep_alive?: KeepAlive;
  options?: Partial<Options>;
}

export interface PullRequest {
  model: string;
  insecure?: boolean;
  stream?: boolean;
}

export type PushRequest = PullRequest;

export interface CreateRequest {
  model: string;
  from?: string;
  stream?: boolean;
  quantize?: string;
  template?: string;
  license?: string | string[];
  system?: string;
  parameters?: Record<string, unknown>;
  messages?: Message[];
  adapters?: Record<string, string>;
  files?: Record<string, string>;
}

export interface ShowRequest {
  model: string;
  system?: string;
  template?: string;
  verbose?: boolean;
  options?: Partial<Options>;
}

export interface CopyRequest {
  source: string;
  destination: string;
}

export interface DeleteRequest {
  model: string;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[];
}

export interface Logprob extends TokenLogprob {
  top_logprobs?: TokenLogprob[];
}

interface Metrics {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
  /** tokenwire: prompt tokens the prefix cache served. */
  prompt_cached_count: number;
}

export interface GenerateResponse extends Metrics {
  model: string;
  created_at: Date;
  response: string;
  thinking?: string;
  done: boolean;
  done_reason: string;
  context: number[];
  tool_calls?: ToolCall[];
  logprobs?: Logprob[];
}

export interface ChatResponse extends Metrics {
  model: string;
  created_at: Date;
  message: Message;
  done: boolean;
  done_reason: string;
  logprobs?: Logprob[];
}

export interface EmbedResponse {
  model: string;
  embeddings: number[][];
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
}

export interface EmbeddingsResponse {
  embedding: number[];
}

export interface ProgressResponse {
  status: string;
  digest: string;
  total: number;
  completed: number;
}

export interface ModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
}

export interface ModelResponse {
  name: string;
  model: string;
  modified_at: Date;
  size: number;
  digest: string;
  details: ModelDetails;
  expires_at: Date;
  size_vram: number;
  context_length?: number;
}

export interface ListResponse {
  models: ModelResponse[];
}

export interface ShowResponse {
  license: string;
  modelfile: string;
  parameters: string;
  template: string;
  system: string;
  details: ModelDetails;
  messages: Message[];
  modified_at: Date;
  model_info: Record<string, unknown>;
  projector_info?: Record<string, unknown>;
  capabilities: string[];
}

export interface StatusResponse {
  status: string;
}

export interface VersionResponse {
  version: string;
}
