// ollama-js's plain objects <-> the contract's messages. ts-proto already turns
// google.protobuf.Struct into plain objects and Timestamp into Date; what is left is
// Ollama's own spellings: keep_alive, format, think, done_reason, images.

import { readFileSync, existsSync } from "node:fs";

import * as inf from "./gen/tokenwire/v1/inference";
import * as mod from "./gen/tokenwire/v1/models";
import * as types from "./gen/tokenwire/v1/types";
import { keepAlive } from "./duration";
import type * as api from "./interfaces";

function options(o: Partial<api.Options> | undefined): types.Options | undefined {
  // fromPartial keeps Ollama's known keys and drops the rest, as Ollama ignores them.
  return o === undefined ? undefined : types.Options.fromPartial(o as unknown as types.Options);
}

function format(f: api.Format | undefined): types.Format | undefined {
  if (f === undefined || f === "") return undefined;
  if (f === "json") return { json: true };
  if (typeof f === "object" && f !== null && !Array.isArray(f)) return { schema: f };
  throw new Error(`invalid format: ${JSON.stringify(f)}; expected "json" or a valid JSON Schema object`);
}

const THINK_LEVELS: Record<string, types.ThinkLevel> = {
  low: types.ThinkLevel.THINK_LEVEL_LOW,
  medium: types.ThinkLevel.THINK_LEVEL_MEDIUM,
  high: types.ThinkLevel.THINK_LEVEL_HIGH,
  max: types.ThinkLevel.THINK_LEVEL_MAX,
};

function think(t: api.Think | undefined): types.Think | undefined {
  if (t === undefined) return undefined;
  if (typeof t === "boolean") return { enabled: t };
  const level = THINK_LEVELS[t];
  if (level === undefined) {
    throw new Error(`invalid think value: "${String(t)}" (must be "high", "medium", "low", "max", true, or false)`);
  }
  return { level };
}

/** ollama-js takes bytes, base64 text or, in Node, a file path. */
function image(i: api.Image): Buffer {
  if (typeof i !== "string") return Buffer.from(i);
  if (i.length < 4096 && existsSync(i)) return readFileSync(i);
  return Buffer.from(i, "base64");
}

function messages(ms: api.Message[] | undefined): types.Message[] {
  return (ms ?? []).map((m) =>
    types.Message.fromPartial({
      role: m.role,
      content: m.content,
      thinking: m.thinking,
      images: (m.images ?? []).map(image),
      tool_name: m.tool_name,
      tool_call_id: m.tool_call_id,
      tool_calls: (m.tool_calls ?? []).map((c) => ({
        id: c.id,
        function: { index: c.function.index, name: c.function.name, arguments: c.function.arguments },
      })),
    }),
  );
}

export function generateRequest(r: api.GenerateRequest): inf.GenerateRequest {
  return inf.GenerateRequest.fromPartial({
    model: r.model,
    prompt: r.prompt,
    suffix: r.suffix,
    system: r.system,
    template: r.template,
    context: r.context,
    stream: r.stream,
    raw: r.raw,
    format: format(r.format),
    images: (r.images ?? []).map(image),
    keep_alive: keepAlive(r.keep_alive),
    options: options(r.options),
    think: think(r.think),
    logprobs: r.logprobs,
    top_logprobs: r.top_logprobs,
  });
}

export function chatRequest(r: api.ChatRequest): inf.ChatRequest {
  return inf.ChatRequest.fromPartial({
    model: r.model,
    messages: messages(r.messages),
    tools: (r.tools ?? []).map((t) => ({ type: t.type, function: t.function })),
    stream: r.stream,
    format: format(r.format),
    keep_alive: keepAlive(r.keep_alive),
    options: options(r.options),
    think: think(r.think),
    logprobs: r.logprobs,
    top_logprobs: r.top_logprobs,
  });
}

export function embedRequest(r: api.EmbedRequest): inf.EmbedRequest {
  return inf.EmbedRequest.fromPartial({
    model: r.model,
    input: typeof r.input === "string" ? [r.input] : r.input,
    truncate: r.truncate,
    dimensions: r.dimensions,
    keep_alive: keepAlive(r.keep_alive),
    options: options(r.options),
  });
}

export function embeddingsRequest(r: api.EmbeddingsRequest): inf.EmbeddingsRequest {
  return inf.EmbeddingsRequest.fromPartial({
    model: r.model,
    prompt: r.prompt,
    keep_alive: keepAlive(r.keep_alive),
    options: options(r.options),
  });
}

export function createRequest(r: api.CreateRequest): mod.CreateModelRequest {
  return mod.CreateModelRequest.fromPartial({
    model: r.model,
    from: r.from,
    stream: r.stream,
    quantize: r.quantize,
    template: r.template,
    system: r.system,
    license: typeof r.license === "string" ? [r.license] : r.license,
    parameters: r.parameters,
    messages: messages(r.messages),
    adapters: r.adapters,
    files: r.files,
  });
}

export function showRequest(r: api.ShowRequest): mod.ShowModelRequest {
  return mod.ShowModelRequest.fromPartial({
    model: r.model,
    system: r.system,
    template: r.template,
    verbose: r.verbose,
    options: options(r.options),
  });
}

const DONE_REASONS: Record<number, string> = {
  [types.DoneReason.DONE_REASON_STOP]: "stop",
  [types.DoneReason.DONE_REASON_LENGTH]: "length",
  [types.DoneReason.DONE_REASON_LOAD]: "load",
  [types.DoneReason.DONE_REASON_UNLOAD]: "unload",
};

const EPOCH = new Date(0);

function logprobs(ls: types.Logprob[]): api.Logprob[] | undefined {
  if (ls.length === 0) return undefined;
  const token = (t: types.TokenLogprob): api.TokenLogprob => ({
    token: t.token,
    logprob: t.logprob,
    bytes: [...t.bytes],
  });
  return ls.map((l) => ({ ...token(l), top_logprobs: l.top_logprobs.map(token) }));
}

function toolCalls(cs: types.ToolCall[]): api.ToolCall[] | undefined {
  if (cs.length === 0) return undefined;
  return cs.map((c) => ({
    ...(c.id ? { id: c.id } : {}),
    function: {
      index: c.function?.index ?? 0,
      name: c.function?.name ?? "",
      arguments: c.function?.arguments ?? {},
    },
  }));
}

function message(m: types.Message | undefined): api.Message {
  const out: api.Message = { role: m?.role ?? "", content: m?.content ?? "" };
  if (m?.thinking) out.thinking = m.thinking;
  if (m?.images.length) out.images = m.images.map((i) => new Uint8Array(i));
  const calls = toolCalls(m?.tool_calls ?? []);
  if (calls) out.tool_calls = calls;
  if (m?.tool_name) out.tool_name = m.tool_name;
  if (m?.tool_call_id) out.tool_call_id = m.tool_call_id;
  return out;
}

type MetricsPB = Pick<
  inf.GenerateResponse,
  | "total_duration"
  | "load_duration"
  | "prompt_eval_count"
  | "prompt_eval_duration"
  | "eval_count"
  | "eval_duration"
  | "prompt_cached_count"
>;

function metrics(m: MetricsPB): MetricsPB {
  return {
    total_duration: m.total_duration,
    load_duration: m.load_duration,
    prompt_eval_count: m.prompt_eval_count,
    prompt_eval_duration: m.prompt_eval_duration,
    eval_count: m.eval_count,
    eval_duration: m.eval_duration,
    prompt_cached_count: m.prompt_cached_count,
  };
}

export function generateResponse(m: inf.GenerateResponse): api.GenerateResponse {
  const out: api.GenerateResponse = {
    model: m.model,
    created_at: m.created_at ?? EPOCH,
    response: m.response,
    done: m.done,
    done_reason: DONE_REASONS[m.done_reason] ?? "",
    context: m.context,
    ...metrics(m),
  };
  if (m.thinking) out.thinking = m.thinking;
  const calls = toolCalls(m.tool_calls);
  if (calls) out.tool_calls = calls;
  const lp = logprobs(m.logprobs);
  if (lp) out.logprobs = lp;
  return out;
}

export function chatResponse(m: inf.ChatResponse): api.ChatResponse {
  const out: api.ChatResponse = {
    model: m.model,
    created_at: m.created_at ?? EPOCH,
    message: message(m.message),
    done: m.done,
    done_reason: DONE_REASONS[m.done_reason] ?? "",
    ...metrics(m),
  };
  const lp = logprobs(m.logprobs);
  if (lp) out.logprobs = lp;
  return out;
}

export function embedResponse(m: inf.EmbedResponse): api.EmbedResponse {
  return {
    model: m.model,
    embeddings: m.embeddings.map((e) => e.values),
    total_duration: m.total_duration,
    load_duration: m.load_duration,
    prompt_eval_count: m.prompt_eval_count,
  };
}

function details(d: types.ModelDetails | undefined): api.ModelDetails {
  return {
    parent_model: d?.parent_model ?? "",
    format: d?.format ?? "",
    family: d?.family ?? "",
    families: d?.families ?? [],
    parameter_size: d?.parameter_size ?? "",
    quantization_level: d?.quantization_level ?? "",
  };
}

export function listResponse(m: mod.ListModelsResponse): api.ListResponse {
  return {
    models: m.models.map((x) => ({
      name: x.name,
      model: x.model,
      modified_at: x.modified_at ?? EPOCH,
      size: x.size,
      digest: x.digest,
      details: details(x.details),
      expires_at: EPOCH,
      size_vram: 0,
    })),
  };
}

export function psResponse(m: mod.ListRunningModelsResponse): api.ListResponse {
  return {
    models: m.models.map((x) => ({
      name: x.name,
      model: x.model,
      modified_at: EPOCH,
      size: x.size,
      digest: x.digest,
      details: details(x.details),
      expires_at: x.expires_at ?? EPOCH,
      size_vram: x.size_vram,
      context_length: x.context_length,
    })),
  };
}

export function showResponse(m: mod.ShowModelResponse): api.ShowResponse {
  const out: api.ShowResponse = {
    license: m.license,
    modelfile: m.modelfile,
    parameters: m.parameters,
    template: m.template,
    system: m.system,
    details: details(m.details),
    messages: m.messages.map(message),
    modified_at: m.modified_at ?? EPOCH,
    model_info: m.model_info ?? {},
    capabilities: m.capabilities,
  };
  if (m.projector_info) out.projector_info = m.projector_info;
  return out;
}

interface ProgressPB {
  status: string;
  digest: string;
  total: number;
  completed: number;
}

export function progress(m: ProgressPB): api.ProgressResponse {
  return { status: m.status, digest: m.digest, total: m.total, completed: m.completed };
}
