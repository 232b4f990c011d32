import {
  Channel,
  credentials as grpcCredentials,
  Metadata,
  type CallOptions,
  type ChannelCredentials,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ServiceError,
} from "@grpc/grpc-js";

import * as convert from "./convert";
import { asResponseError } from "./errors";
import { InferenceServiceClient } from "./gen/tokenwire/v1/inference";
import { ModelServiceClient, VersionServiceClient } from "./gen/tokenwire/v1/models";
import type * as api from "./interfaces";
import { AbortableAsyncIterator } from "./stream";

/** The server's default address (tokenwire_common/wire.py). */
export const DEFAULT_HOST = "127.0.0.1:50051";
/**
 * The metadata header every call about a model carries, as the shim and the other
 * clients send it (tokenwire_common/wire.py): an L7 proxy hashes on it to keep each
 * model warm on one replica.
 */
export const MODEL_HEADER = "x-tokenwire-model";
/** The server's message limits (tokenwire_common/wire.py): images and blobs are large. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

type Streaming<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
) => ClientReadableStream<Res>;

/** ollama-js takes a URL; gRPC wants host:port. https:// turns TLS on. */
function target(host: string): { address: string; https: boolean } {
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(host);
  return m ? { address: m[2], https: m[1] === "https" } : { address: host, https: false };
}

function channelCredentials(tls: api.Config["tls"]): ChannelCredentials {
  if (!tls) return grpcCredentials.createInsecure();
  if (tls === true) return grpcCredentials.createSsl();
  return grpcCredentials.createSsl(tls.rootCerts ?? null, tls.privateKey ?? null, tls.certChain ?? null);
}

/**
 * ollama-js's `Ollama`, over gRPC: the same methods, arguments and answers. One
 * HTTP/2 channel carries the three services.
 */
export class Ollama {
  private readonly channel: Channel;
  private readonly inference: InferenceServiceClient;
  private readonly models: ModelServiceClient;
  private readonly versions: VersionServiceClient;
  private readonly headers: Record<string, string>;
  private readonly timeout: number | undefined;
  private readonly ongoing = new Set<AbortableAsyncIterator<unknown>>();

  constructor(config: api.Config = {}) {
    const { address: host, https } = target(config.host ?? process.env.TOKENWIRE_GRPC_ADDR ?? DEFAULT_HOST);
    const creds = channelCredentials(config.tls ?? https);
    const options = {
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    };
    this.channel = new Channel(host, creds, options);
    const shared = { ...options, channelOverride: this.channel };
    this.inference = new InferenceServiceClient(host, creds, shared);
    this.models = new ModelServiceClient(host, creds, shared);
    this.versions = new VersionServiceClient(host, creds, shared);
    const key = process.env.TOKENWIRE_API_KEY;
    this.headers = { ...(key ? { authorization: `Bearer ${key}` } : {}), ...config.headers };
    this.timeout = config.timeout;
  }

  /** Aborts every stream in flight, as ollama-js's abort() does. */
  abort(): void {
    for (const it of this.ongoing) it.abort();
    this.ongoing.clear();
  }

  /** Closes the channel; calls after this fail. */
  close(): void {
    this.abort();
    this.channel.close();
  }

  generate(request: api.GenerateRequest & { stream: true }): Promise<AbortableAsyncIterator<api.GenerateResponse>>;
  generate(request: api.GenerateRequest & { stream?: false }): Promise<api.GenerateResponse>;
  async generate(
    request: api.GenerateRequest,
  ): Promise<api.GenerateResponse | AbortableAsyncIterator<api.GenerateResponse>> {
    const req = convert.generateRequest({ ...request, stream: request.stream ?? false });
    return this.streamed(this.inference.generate.bind(this.inference), req, convert.generateResponse, request.stream);
  }

  chat(request: api.ChatRequest & { stream: true }): Promise<AbortableAsyncIterator<api.ChatResponse>>;
  chat(request: api.ChatRequest & { stream?: false }): Promise<api.ChatResponse>;
  async chat(request: api.ChatRequest): Promise<api.ChatResponse | AbortableAsyncIterator<api.ChatResponse>> {
    const req = convert.chatRequest({ ...request, stream: request.stream ?? false });
    return this.streamed(this.inference.chat.bind(this.inference), req, convert.chatResponse, request.stream);
  }

  create(request: api.CreateRequest & { stream: true }): Promise<AbortableAsyncIterator<api.ProgressResponse>>;
  create(request: api.CreateRequest & { stream?: false }): Promise<api.ProgressResponse>;
  async create(
    request: api.CreateRequest,
  ): Promise<api.ProgressResponse | AbortableAsyncIterator<api.ProgressResponse>> {
    const req = convert.createRequest({ ...request, stream: request.stream ?? false });
    return this.streamed(this.models.createModel.bind(this.models), req, convert.progress, request.stream);
  }

  pull(request: api.PullRequest & { stream: true }): Promise<AbortableAsyncIterator<api.ProgressResponse>>;
  pull(request: api.PullRequest & { stream?: false }): Promise<api.ProgressResponse>;
  async pull(request: api.PullRequest): Promise<api.ProgressResponse | AbortableAsyncIterator<api.ProgressResponse>> {
    const req = { model: request.model, insecure: request.insecure ?? false, stream: request.stream ?? false };
    return this.streamed(this.models.pullModel.bind(this.models), { ...req, username: "", password: "" }, convert.progress, request.stream);
  }

  push(request: api.PushRequest & { stream: true }): Promise<AbortableAsyncIterator<api.ProgressResponse>>;
  push(request: api.PushRequest & { stream?: false }): Promise<api.ProgressResponse>;
  async push(request: api.PushRequest): Promise<api.ProgressResponse | AbortableAsyncIterator<api.ProgressResponse>> {
    const req = { model: request.model, insecure: request.insecure ?? false, stream: request.stream ?? false };
    return this.streamed(this.models.pushModel.bind(this.models), { ...req, username: "", password: "" }, convert.progress, request.stream);
  }

  async embed(request: api.EmbedRequest): Promise<api.EmbedResponse> {
    const res = await this.unary(this.inference.embed.bind(this.inference), convert.embedRequest(request));
    return convert.embedResponse(res);
  }

  async embeddings(request: api.EmbeddingsRequest): Promise<api.EmbeddingsResponse> {
    const res = await this.unary(this.inference.embeddings.bind(this.inference), convert.embeddingsRequest(request));
    return { embedding: res.embedding };
  }

  async list(): Promise<api.ListResponse> {
    return convert.listResponse(await this.unary(this.models.listModels.bind(this.models), {}));
  }

  async ps(): Promise<api.ListResponse> {
    return convert.psResponse(await this.unary(this.models.listRunningModels.bind(this.models), {}));
  }

  async show(request: api.ShowRequest): Promise<api.ShowResponse> {
    const res = await this.unary(this.models.showModel.bind(this.models), convert.showRequest(request));
    return convert.showResponse(res);
  }

  async copy(request: api.CopyRequest): Promise<api.StatusResponse> {
    await this.unary(this.models.copyModel.bind(this.models), request);
    return { status: "success" };
  }

  async delete(request: api.DeleteRequest): Promise<api.StatusResponse> {
    await this.unary(this.models.deleteModel.bind(this.models), request);
    return { status: "success" };
  }

  async version(): Promise<api.VersionResponse> {
    return this.unary(this.versions.getVersion.bind(this.versions), {});
  }

  private metadata(request: unknown): Metadata {
    const md = new Metadata();
    for (const [k, v] of Object.entries(this.headers)) md.set(k, v);
    const r = request as { model?: unknown; source?: unknown };
    const model = typeof r.model === "string" ? r.model : typeof r.source === "string" ? r.source : "";
    if (/^[!-~]+$/.test(model)) md.set(MODEL_HEADER, model);
    return md;
  }

  private callOptions(): Partial<CallOptions> {
    return this.timeout === undefined ? {} : { deadline: Date.now() + this.timeout };
  }

  private unary<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method(request, this.metadata(request), this.callOptions(), (error, response) => {
        if (error) reject(asResponseError(error));
        else resolve(response);
      });
    });
  }

  /** A stream as an AbortableAsyncIterator, or (stream false) its one message. */
  private async streamed<Req, Res, T>(
    method: Streaming<Req, Res>,
    request: Req,
    toApi: (m: Res) => T,
    stream: boolean | undefined,
  ): Promise<T | AbortableAsyncIterator<T>> {
    const call = method(request, this.metadata(request), this.callOptions());
    const it: AbortableAsyncIterator<T> = new AbortableAsyncIterator<T>(call, toApi as (m: never) => T, () =>
      this.ongoing.delete(it as AbortableAsyncIterator<unknown>),
    );
    this.ongoing.add(it as AbortableAsyncIterator<unknown>);
    if (stream) return it;
    let last: T | undefined;
    for await (const m of it) last = m;
    if (last === undefined) throw new Error("Did not receive done or success response in stream.");
    return last;
  }
}
