// Package tokenwire is a gRPC client for tokenwire shaped like Ollama's Go api package:
// the same methods, request and response types, and callbacks, so moving a program over
// means changing its import and its client constructor.
package tokenwire

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/tokenwire/tokenwire/clients/go/tokenwirepb/v1"
)

// DefaultAddr is where the server listens unless TOKENWIRE_GRPC_ADDR says otherwise.
const DefaultAddr = "127.0.0.1:50051"

// errLeft ends a stream early from inside a callback without being reported as a
// failure of the call (the RPC is cancelled either way).
var errLeft = errors.New("tokenwire: stream left by the callback")

// Client holds one gRPC connection; safe for concurrent use.
type Client struct {
	conn      *grpc.ClientConn
	inference pb.InferenceServiceClient
	models    pb.ModelServiceClient
	version   pb.VersionServiceClient
}

// ClientFromEnvironment connects to TOKENWIRE_GRPC_ADDR (default 127.0.0.1:50051),
// in plain text, as api.ClientFromEnvironment reads OLLAMA_HOST; TOKENWIRE_API_KEY,
// when set, is sent as a Bearer token.
func ClientFromEnvironment() (*Client, error) {
	addr := os.Getenv("TOKENWIRE_GRPC_ADDR")
	if addr == "" {
		addr = DefaultAddr
	}
	if key := os.Getenv("TOKENWIRE_API_KEY"); key != "" {
		return NewClient(addr, APIKey(key))
	}
	return NewClient(addr)
}

// NewClient connects to addr ("host:port", or an http:// URL as Ollama users write it).
// Options are grpc.DialOptions: grpc.WithTransportCredentials for TLS,
// grpc.WithPerRPCCredentials for API keys. Without any, the channel is plain text.
func NewClient(addr string, opts ...grpc.DialOption) (*Client, error) {
	addr = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "grpc://"), "/")
	all := append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20))}, opts...)
	conn, err := grpc.NewClient(addr, all...)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, inference: pb.NewInferenceServiceClient(conn),
		models: pb.NewModelServiceClient(conn), version: pb.NewVersionServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// receive reads a server stream into fn; cancelling ctx, or fn returning an error,
// cancels the RPC, and the server stops the work in its engine.
func receive[M any, R any](ctx context.Context, open func(context.Context) (grpc.ServerStreamingClient[M], error),
	convert func(*M) R, fn func(R) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := open(ctx)
	if err != nil {
		return asStatusError(err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return asStatusError(err)
		}
		if err := fn(convert(msg)); err != nil {
			return err
		}
	}
}

// Generate streams a completion to fn; the last response has Done set.
func (c *Client) Generate(ctx context.Context, req *GenerateRequest, fn GenerateResponseFunc) error {
	in, err := generateRequest(req)
	if err != nil {
		return err
	}
	open := func(ctx context.Context) (grpc.ServerStreamingClient[pb.GenerateResponse], error) {
		return c.inference.Generate(routed(ctx, in.Model), in)
	}
	return receive(ctx, open, generateResponse, fn)
}

// Chat streams a chat turn to fn.
func (c *Client) Chat(ctx context.Context, req *ChatRequest, fn ChatResponseFunc) error {
	in, err := chatRequest(req)
	if err != nil {
		return err
	}
	open := func(ctx context.Context) (grpc.ServerStreamingClient[pb.ChatResponse], error) {
		return c.inference.Chat(routed(ctx, in.Model), in)
	}
	return receive(ctx, open, chatResponse, fn)
}

func (c *Client) Embed(ctx context.Context, req *EmbedRequest) (*EmbedResponse, error) {
	o, err := options(req.Options)
	if err != nil {
		return nil, err
	}
	in := &pb.EmbedRequest{Model: req.Model, Truncate: req.Truncate, Dimensions: int32(req.Dimensions),
		KeepAlive: keepAlive(req.KeepAlive), Options: o}
	switch v := req.Input.(type) {
	case string:
		in.Input = []string{v}
	case []string:
		in.Input = v
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, errors.New("invalid input type")
			}
			in.Input = append(in.Input, s)
		}
	case nil:
	default:
		return nil, errors.New("invalid input type")
	}
	r, err := c.inference.Embed(routed(ctx, in.Model), in)
	if err != nil {
		return nil, asStatusError(err)
	}
	out := &EmbedResponse{Model: r.Model, Embeddings: [][]float32{}, TotalDuration: durationOf(r.TotalDuration),
		LoadDuration: durationOf(r.LoadDuration), PromptEvalCount: int(r.PromptEvalCount)}
	for _, e := range r.Embeddings {
		out.Embeddings = append(out.Embeddings, e.Values)
	}
	return out, nil
}

func (c *Client) Embeddings(ctx context.Context, req *EmbeddingRequest) (*EmbeddingResponse, error) {
	o, err := options(req.Options)
	if err != nil {
		return nil, err
	}
	r, err := c.inference.Embeddings(routed(ctx, req.Model), &pb.EmbeddingsRequest{Model: req.Model, Prompt: req.Prompt,
		KeepAlive: keepAlive(req.KeepAlive), Options: o})
	if err != nil {
		return nil, asStatusError(err)
	}
	return &EmbeddingResponse{Embedding: r.Embedding}, nil
}

func (c *Client) List(ctx context.Context) (*ListResponse, error) {
	r, err := c.models.ListModels(ctx, &pb.ListModelsRequest{})
	if err != nil {
		return nil, asStatusError(err)
	}
	out := &ListResponse{Models: []ListModelResponse{}}
	for _, m := range r.Models {
		out.Models = append(out.Models, ListModelResponse{Name: m.Name, Model: m.Model, ModifiedAt: when(m.ModifiedAt),
			Size: m.Size, Digest: m.Digest, Details: details(m.Details)})
	}
	return out, nil
}

func (c *Client) ListRunning(ctx context.Context) (*ProcessResponse, error) {
	r, err := c.models.ListRunningModels(ctx, &pb.ListRunningModelsRequest{})
	if err != nil {
		return nil, asStatusError(err)
	}
	out := &ProcessResponse{Models: []ProcessModelResponse{}}
	for _, m := range r.Models {
		out.Models = append(out.Models, ProcessModelResponse{Name: m.Name, Model: m.Model, Size: m.Size,
			Digest: m.Digest, Details: details(m.Details), ExpiresAt: when(m.ExpiresAt), SizeVRAM: m.SizeVram,
			ContextLength: int(m.ContextLength)})
	}
	return out, nil
}

func (c *Client) Show(ctx context.Context, req *ShowRequest) (*ShowResponse, error) {
	o, err := options(req.Options)
	if err != nil {
		return nil, err
	}
	in := &pb.ShowModelRequest{Model: req.Model, Verbose: req.Verbose, Options: o}
	if req.System != "" {
		in.System = &req.System
	}
	r, err := c.models.ShowModel(routed(ctx, in.Model), in)
	if err != nil {
		return nil, asStatusError(err)
	}
	out := &ShowResponse{License: r.License, Modelfile: r.Modelfile, Parameters: r.Parameters, Template: r.Template,
		System: r.System, Details: details(r.Details), ModelInfo: fromStruct(r.ModelInfo),
		ProjectorInfo: fromStruct(r.ProjectorInfo), Capabilities: r.Capabilities, ModifiedAt: when(r.ModifiedAt)}
	for _, m := range r.Messages {
		out.Messages = append(out.Messages, message(m))
	}
	return out, nil
}

func (c *Client) Create(ctx context.Context, req *CreateRequest, fn CreateProgressFunc) error {
	in := &pb.CreateModelRequest{Model: req.Model, Stream: req.Stream, Quantize: req.Quantize, From: req.From,
		Files: req.Files, Adapters: req.Adapters}
	if req.Template != "" {
		in.Template = &req.Template
	}
	if req.System != "" {
		in.System = &req.System
	}
	switch v := req.License.(type) {
	case string:
		in.License = []string{v}
	case []string:
		in.License = v
	}
	if req.Parameters != nil {
		params, err := toStruct(req.Parameters)
		if err != nil {
			return err
		}
		in.Parameters = params
	}
	msgs, err := messagesPB(req.Messages)
	if err != nil {
		return err
	}
	in.Messages = msgs
	open := func(ctx context.Context) (grpc.ServerStreamingClient[pb.CreateModelResponse], error) {
		return c.models.CreateModel(routed(ctx, in.Model), in)
	}
	convert := func(m *pb.CreateModelResponse) ProgressResponse {
		return progress(m.Status, m.Digest, m.Total, m.Completed)
	}
	return receive(ctx, open, convert, fn)
}

func (c *Client) Pull(ctx context.Context, req *PullRequest, fn PullProgressFunc) error {
	in := &pb.PullModelRequest{Model: req.Model, Insecure: req.Insecure, Stream: req.Stream}
	open := func(ctx context.Context) (grpc.ServerStreamingClient[pb.PullModelResponse], error) {
		return c.models.PullModel(routed(ctx, in.Model), in)
	}
	convert := func(m *pb.PullModelResponse) ProgressResponse {
		return progress(m.Status, m.Digest, m.Total, m.Completed)
	}
	return receive(ctx, open, convert, fn)
}

func (c *Client) Push(ctx context.Context, req *PushRequest, fn PushProgressFunc) error {
	in := &pb.PushModelRequest{Model: req.Model, Insecure: req.Insecure, Stream: req.Stream}
	open := func(ctx context.Context) (grpc.ServerStreamingClient[pb.PushModelResponse], error) {
		return c.models.PushModel(routed(ctx, in.Model), in)
	}
	convert := func(m *pb.PushModelResponse) ProgressResponse {
		return progress(m.Status, m.Digest, m.Total, m.Completed)
	}
	return receive(ctx, open, convert, fn)
}

func (c *Client) Copy(ctx context.Context, req *CopyRequest) error {
	_, err := c.models.CopyModel(routed(ctx, req.Source), &pb.CopyModelRequest{Source: req.Source, Destination: req.Destination})
	return asStatusError(err)
}

func (c *Client) Delete(ctx context.Context, req *DeleteRequest) error {
	_, err := c.models.DeleteModel(routed(ctx, req.Model), &pb.DeleteModelRequest{Model: req.Model})
	return asStatusError(err)
}

// Version is the server's version, e.g. "0.33.0".
func (c *Client) Version(ctx context.Context) (string, error) {
	r, err := c.version.GetVersion(ctx, &pb.GetVersionRequest{})
	if err != nil {
		return "", asStatusError(err)
	}
	return r.Version, nil
}
