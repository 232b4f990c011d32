package tokenwire

import (
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/tokenwire/tokenwire/clients/go/tokenwirepb/v1"
)

// Ollama's Go values <-> the contract's messages. Free-form JSON (options, schemas,
// tool arguments) goes through encoding/json, so callers never build a Struct.

var lenient = protojson.UnmarshalOptions{DiscardUnknown: true}

func toStruct(v any) (*structpb.Struct, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	return s, nil
}

func fromStruct(s *structpb.Struct) map[string]any {
	if s == nil {
		return nil
	}
	return s.AsMap()
}

// options keeps Ollama's keys with their types; unknown keys are ignored, as Ollama does.
func options(m map[string]any) (*pb.Options, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	o := &pb.Options{}
	if err := lenient.Unmarshal(b, o); err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	return o, nil
}

func format(raw json.RawMessage) (*pb.Format, error) {
	var v any
	if len(raw) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case string:
		if t == "" {
			return nil, nil
		}
		if t == "json" {
			return &pb.Format{Kind: &pb.Format_Json{Json: true}}, nil
		}
	case map[string]any:
		s, err := toStruct(t)
		if err != nil {
			return nil, err
		}
		return &pb.Format{Kind: &pb.Format_Schema{Schema: s}}, nil
	}
	return nil, fmt.Errorf(`invalid format: %s; expected "json" or a valid JSON Schema object`, raw)
}

var thinkLevels = map[string]pb.ThinkLevel{
	"low": pb.ThinkLevel_THINK_LEVEL_LOW, "medium": pb.ThinkLevel_THINK_LEVEL_MEDIUM,
	"high": pb.ThinkLevel_THINK_LEVEL_HIGH, "max": pb.ThinkLevel_THINK_LEVEL_MAX,
}

func think(t *ThinkValue) (*pb.Think, error) {
	if t == nil || t.Value == nil {
		return nil, nil
	}
	switch v := t.Value.(type) {
	case bool:
		return &pb.Think{Value: &pb.Think_Enabled{Enabled: v}}, nil
	case string:
		if level, ok := thinkLevels[v]; ok {
			return &pb.Think{Value: &pb.Think_Level{Level: level}}, nil
		}
	}
	return nil, fmt.Errorf(`invalid think value: "%v" (must be "high", "medium", "low", "max", true, or false)`, t.Value)
}

func keepAlive(d *Duration) *durationpb.Duration {
	if d == nil {
		return nil
	}
	return durationpb.New(d.Duration)
}

func images(in []ImageData) [][]byte {
	out := make([][]byte, len(in))
	for i, im := range in {
		out[i] = im
	}
	return out
}

func messagesPB(in []Message) ([]*pb.Message, error) {
	out := make([]*pb.Message, 0, len(in))
	for _, m := range in {
		msg := &pb.Message{Role: m.Role, Content: m.Content, Thinking: m.Thinking, Images: images(m.Images),
			ToolName: m.ToolName, ToolCallId: m.ToolCallID}
		for _, c := range m.ToolCalls {
			args, err := toStruct(c.Function.Arguments)
			if err != nil {
				return nil, fmt.Errorf("tool call arguments: %w", err)
			}
			msg.ToolCalls = append(msg.ToolCalls, &pb.ToolCall{Id: c.ID, Function: &pb.ToolCallFunction{
				Index: int32(c.Function.Index), Name: c.Function.Name, Arguments: args}})
		}
		out = append(out, msg)
	}
	return out, nil
}

func toolsPB(in []Tool) ([]*pb.Tool, error) {
	out := make([]*pb.Tool, 0, len(in))
	for _, t := range in {
		params, err := toStruct(t.Function.Parameters)
		if err != nil {
			return nil, fmt.Errorf("tool parameters: %w", err)
		}
		out = append(out, &pb.Tool{Type: t.Type, Function: &pb.ToolFunction{
			Name: t.Function.Name, Description: t.Function.Description, Parameters: params}})
	}
	return out, nil
}

func generateRequest(r *GenerateRequest) (*pb.GenerateRequest, error) {
	o, err := options(r.Options)
	if err != nil {
		return nil, err
	}
	f, err := format(r.Format)
	if err != nil {
		return nil, err
	}
	th, err := think(r.Think)
	if err != nil {
		return nil, err
	}
	out := &pb.GenerateRequest{Model: r.Model, Prompt: r.Prompt, Suffix: r.Suffix, Raw: r.Raw,
		Images: images(r.Images), KeepAlive: keepAlive(r.KeepAlive), Options: o, Format: f, Think: th,
		Stream: r.Stream, Logprobs: r.Logprobs, TopLogprobs: int32(r.TopLogprobs)}
	if r.System != "" {
		out.System = &r.System
	}
	if r.Template != "" {
		out.Template = &r.Template
	}
	for _, t := range r.Context {
		out.Context = append(out.Context, int32(t))
	}
	return out, nil
}

func chatRequest(r *ChatRequest) (*pb.ChatRequest, error) {
	o, err := options(r.Options)
	if err != nil {
		return nil, err
	}
	f, err := format(r.Format)
	if err != nil {
		return nil, err
	}
	th, err := think(r.Think)
	if err != nil {
		return nil, err
	}
	msgs, err := messagesPB(r.Messages)
	if err != nil {
		return nil, err
	}
	tools, err := toolsPB(r.Tools)
	if err != nil {
		return nil, err
	}
	return &pb.ChatRequest{Model: r.Model, Messages: msgs, Tools: tools, Stream: r.Stream, Format: f,
		KeepAlive: keepAlive(r.KeepAlive), Options: o, Think: th, Logprobs: r.Logprobs,
		TopLogprobs: int32(r.TopLogprobs)}, nil
}

var doneReasons = map[pb.DoneReason]string{
	pb.DoneReason_DONE_REASON_STOP: "stop", pb.DoneReason_DONE_REASON_LENGTH: "length",
	pb.DoneReason_DONE_REASON_LOAD: "load", pb.DoneReason_DONE_REASON_UNLOAD: "unload",
}

func when(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

type metricsPB interface {
	GetTotalDuration() int64
	GetLoadDuration() int64
	GetPromptEvalCount() int32
	GetPromptEvalDuration() int64
	GetEvalCount() int32
	GetEvalDuration() int64
	GetPromptCachedCount() int32
}

func metrics(m metricsPB) Metrics {
	return Metrics{
		TotalDuration: time.Duration(m.GetTotalDuration()), LoadDuration: time.Duration(m.GetLoadDuration()),
		PromptEvalCount: int(m.GetPromptEvalCount()), PromptEvalDuration: time.Duration(m.GetPromptEvalDuration()),
		EvalCount: int(m.GetEvalCount()), EvalDuration: time.Duration(m.GetEvalDuration()),
		PromptCachedCount: int(m.GetPromptCachedCount()),
	}
}

func byteInts(b []byte) []int {
	out := make([]int, len(b))
	for i, x := range b {
		out[i] = int(x)
	}
	return out
}

func logprobs(in []*pb.Logprob) []Logprob {
	var out []Logprob
	for _, e := range in {
		lp := Logprob{TokenLogprob: TokenLogprob{Token: e.Token, Logprob: e.Logprob, Bytes: byteInts(e.Bytes)}}
		for _, t := range e.TopLogprobs {
			lp.TopLogprobs = append(lp.TopLogprobs, TokenLogprob{Token: t.Token, Logprob: t.Logprob, Bytes: byteInts(t.Bytes)})
		}
		out = append(out, lp)
	}
	return out
}

func toolCalls(in []*pb.ToolCall) []ToolCall {
	var out []ToolCall
	for _, c := range in {
		out = append(out, ToolCall{ID: c.Id, Function: ToolCallFunction{
			Index: int(c.GetFunction().GetIndex()), Name: c.GetFunction().GetName(),
			Arguments: fromStruct(c.GetFunction().GetArguments())}})
	}
	return out
}

func generateResponse(m *pb.GenerateResponse) GenerateResponse {
	out := GenerateResponse{Model: m.Model, CreatedAt: when(m.CreatedAt), Response: m.Response,
		Thinking: m.Thinking, Done: m.Done, DoneReason: doneReasons[m.DoneReason], ToolCalls: toolCalls(m.ToolCalls),
		Logprobs: logprobs(m.Logprobs), Metrics: metrics(m)}
	for _, t := range m.Context {
		out.Context = append(out.Context, int(t))
	}
	return out
}

func message(m *pb.Message) Message {
	out := Message{Role: m.GetRole(), Content: m.GetContent(), Thinking: m.GetThinking(),
		ToolCalls: toolCalls(m.GetToolCalls()), ToolName: m.GetToolName(), ToolCallID: m.GetToolCallId()}
	for _, im := range m.GetImages() {
		out.Images = append(out.Images, im)
	}
	return out
}

func chatResponse(m *pb.ChatResponse) ChatResponse {
	return ChatResponse{Model: m.Model, CreatedAt: when(m.CreatedAt), Message: message(m.Message),
		DoneReason: doneReasons[m.DoneReason], Done: m.Done, Logprobs: logprobs(m.Logprobs), Metrics: metrics(m)}
}

func details(d *pb.ModelDetails) ModelDetails {
	return ModelDetails{ParentModel: d.GetParentModel(), Format: d.GetFormat(), Family: d.GetFamily(),
		Families: d.GetFamilies(), ParameterSize: d.GetParameterSize(), QuantizationLevel: d.GetQuantizationLevel()}
}

func progress(status, digest string, total, completed int64) ProgressResponse {
	return ProgressResponse{Status: status, Digest: digest, Total: total, Completed: completed}
}

func durationOf(ns int64) time.Duration { return time.Duration(ns) }
