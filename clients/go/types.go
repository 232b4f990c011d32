package tokenwire

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// The request and response types of Ollama's Go api package, with its field names and
// JSON keys, so a program moves over by changing its import.

// Duration is a keep-alive: JSON numbers are seconds, strings Go durations ("5m"),
// any negative value means forever, as in Ollama's api.Duration.
type Duration struct {
	time.Duration
}

func (d Duration) MarshalJSON() ([]byte, error) {
	if d.Duration < 0 {
		return []byte("-1"), nil
	}
	return []byte(`"` + d.Duration.String() + `"`), nil
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch t := v.(type) {
	case float64:
		if t < 0 {
			d.Duration = time.Duration(math.MaxInt64)
		} else {
			d.Duration = time.Duration(t * float64(time.Second))
		}
	case string:
		parsed, err := time.ParseDuration(t)
		if err != nil {
			return err
		}
		if parsed < 0 {
			parsed = time.Duration(math.MaxInt64)
		}
		d.Duration = parsed
	default:
		return fmt.Errorf("unsupported type: '%T'", v)
	}
	return nil
}

// ThinkValue is Ollama's `think`: a bool or a level ("low", "medium", "high", "max").
type ThinkValue struct {
	Value any
}

func (t ThinkValue) MarshalJSON() ([]byte, error) { return json.Marshal(t.Value) }

func (t *ThinkValue) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &t.Value) }

// ImageData is an image's raw bytes (base64 in JSON, as Go encodes []byte).
type ImageData []byte

type GenerateRequest struct {
	Model       string          `json:"model"`
	Prompt      string          `json:"prompt"`
	Suffix      string          `json:"suffix"`
	System      string          `json:"system"`
	Template    string          `json:"template"`
	Context     []int           `json:"context,omitempty"`
	Stream      *bool           `json:"stream,omitempty"`
	Raw         bool            `json:"raw,omitempty"`
	Format      json.RawMessage `json:"format,omitempty"`
	KeepAlive   *Duration       `json:"keep_alive,omitempty"`
	Images      []ImageData     `json:"images,omitempty"`
	Options     map[string]any  `json:"options"`
	Think       *ThinkValue     `json:"think,omitempty"`
	Logprobs    bool            `json:"logprobs,omitempty"`
	TopLogprobs int             `json:"top_logprobs,omitempty"`
}

type Metrics struct {
	TotalDuration      time.Duration `json:"total_duration,omitempty"`
	LoadDuration       time.Duration `json:"load_duration,omitempty"`
	PromptEvalCount    int           `json:"prompt_eval_count,omitempty"`
	PromptEvalDuration time.Duration `json:"prompt_eval_duration,omitempty"`
	EvalCount          int           `json:"eval_count,omitempty"`
	EvalDuration       time.Duration `json:"eval_duration,omitempty"`
	// Not Ollama's: of PromptEvalCount, the tokens the prefix cache served.
	PromptCachedCount int `json:"prompt_cached_count,omitempty"`
}

type TokenLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes,omitempty"`
}

type Logprob struct {
	TokenLogprob
	TopLogprobs []TokenLogprob `json:"top_logprobs,omitempty"`
}

type GenerateResponse struct {
	Model      string     `json:"model"`
	CreatedAt  time.Time  `json:"created_at"`
	Response   string     `json:"response"`
	Thinking   string     `json:"thinking,omitempty"`
	Done       bool       `json:"done"`
	DoneReason string     `json:"done_reason,omitempty"`
	Context    []int      `json:"context,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	Logprobs   []Logprob  `json:"logprobs,omitempty"`
	Metrics
}

type ToolCallFunction struct {
	Index     int            `json:"index"`
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

type ToolCall struct {
	ID       string           `json:"id,omitempty"`
	Function ToolCallFunction `json:"function"`
}

type ToolFunction struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// A JSON schema: any value that encodes to a JSON object.
	Parameters any `json:"parameters"`
}

type Tool struct {
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

type Message struct {
	Role       string      `json:"role"`
	Content    string      `json:"content"`
	Thinking   string      `json:"thinking,omitempty"`
	Images     []ImageData `json:"images,omitempty"`
	ToolCalls  []ToolCall  `json:"tool_calls,omitempty"`
	ToolName   string      `json:"tool_name,omitempty"`
	ToolCallID string      `json:"tool_call_id,omitempty"`
}

type ChatRequest struct {
	Model       string          `json:"model"`
	Messages    []Message       `json:"messages"`
	Stream      *bool           `json:"stream,omitempty"`
	Format      json.RawMessage `json:"format,omitempty"`
	KeepAlive   *Duration       `json:"keep_alive,omitempty"`
	Tools       []Tool          `json:"tools,omitempty"`
	Options     map[string]any  `json:"options"`
	Think       *ThinkValue     `json:"think,omitempty"`
	Logprobs    bool            `json:"logprobs,omitempty"`
	TopLogprobs int             `json:"top_logprobs,omitempty"`
}

type ChatResponse struct {
	Model      string    `json:"model"`
	CreatedAt  time.Time `json:"created_at"`
	Message    Message   `json:"message"`
	DoneReason string    `json:"done_reason,omitempty"`
	Done       bool      `json:"done"`
	Logprobs   []Logprob `json:"logprobs,omitempty"`
	Metrics
}

type EmbedRequest struct {
	Model string `json:"model"`
	// A string or a []string, as Ollama accepts.
	Input      any            `json:"input"`
	KeepAlive  *Duration      `json:"keep_alive,omitempty"`
	Truncate   *bool          `json:"truncate,omitempty"`
	Dimensions int            `json:"dimensions,omitempty"`
	Options    map[string]any `json:"options"`
}

type EmbedResponse struct {
	Model           string        `json:"model"`
	Embeddings      [][]float32   `json:"embeddings"`
	TotalDuration   time.Duration `json:"total_duration,omitempty"`
	LoadDuration    time.Duration `json:"load_duration,omitempty"`
	PromptEvalCount int           `json:"prompt_eval_count,omitempty"`
}

type EmbeddingRequest struct {
	Model     string         `json:"model"`
	Prompt    string         `json:"prompt"`
	KeepAlive *Duration      `json:"keep_alive,omitempty"`
	Options   map[string]any `json:"options"`
}

type EmbeddingResponse struct {
	Embedding []float64 `json:"embedding"`
}

type ModelDetails struct {
	ParentModel       string   `json:"parent_model"`
	Format            string   `json:"format"`
	Family            string   `json:"family"`
	Families          []string `json:"families"`
	ParameterSize     string   `json:"parameter_size"`
	QuantizationLevel string   `json:"quantization_level"`
}

type ListModelResponse struct {
	Name       string       `json:"name"`
	Model      string       `json:"model"`
	ModifiedAt time.Time    `json:"modified_at"`
	Size       int64        `json:"size"`
	Digest     string       `json:"digest"`
	Details    ModelDetails `json:"details,omitempty"`
}

type ListResponse struct {
	Models []ListModelResponse `json:"models"`
}

type ProcessModelResponse struct {
	Name          string       `json:"name"`
	Model         string       `json:"model"`
	Size          int64        `json:"size"`
	Digest        string       `json:"digest"`
	Details       ModelDetails `json:"details,omitempty"`
	ExpiresAt     time.Time    `json:"expires_at"`
	SizeVRAM      int64        `json:"size_vram"`
	ContextLength int          `json:"context_length"`
}

type ProcessResponse struct {
	Models []ProcessModelResponse `json:"models"`
}

type ShowRequest struct {
	Model   string         `json:"model"`
	System  string         `json:"system"`
	Verbose bool           `json:"verbose"`
	Options map[string]any `json:"options"`
}

type ShowResponse struct {
	License       string         `json:"license,omitempty"`
	Modelfile     string         `json:"modelfile,omitempty"`
	Parameters    string         `json:"parameters,omitempty"`
	Template      string         `json:"template,omitempty"`
	System        string         `json:"system,omitempty"`
	Details       ModelDetails   `json:"details,omitempty"`
	Messages      []Message      `json:"messages,omitempty"`
	ModelInfo     map[string]any `json:"model_info,omitempty"`
	ProjectorInfo map[string]any `json:"projector_info,omitempty"`
	Capabilities  []string       `json:"capabilities,omitempty"`
	ModifiedAt    time.Time      `json:"modified_at,omitempty"`
}

type CreateRequest struct {
	Model    string            `json:"model"`
	Stream   *bool             `json:"stream,omitempty"`
	Quantize string            `json:"quantize,omitempty"`
	From     string            `json:"from,omitempty"`
	Files    map[string]string `json:"files,omitempty"`
	Adapters map[string]string `json:"adapters,omitempty"`
	Template string            `json:"template,omitempty"`
	// A string or a []string, as Ollama accepts.
	License    any            `json:"license,omitempty"`
	System     string         `json:"system,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Messages   []Message      `json:"messages,omitempty"`
}

type CopyRequest struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
}

type DeleteRequest struct {
	Model string `json:"model"`
}

type PullRequest struct {
	Model    string `json:"model"`
	Insecure bool   `json:"insecure,omitempty"`
	Stream   *bool  `json:"stream,omitempty"`
}

type PushRequest = PullRequest

type ProgressResponse struct {
	Status    string `json:"status"`
	Digest    string `json:"digest,omitempty"`
	Total     int64  `json:"total,omitempty"`
	Completed int64  `json:"completed,omitempty"`
}

type (
	GenerateResponseFunc func(GenerateResponse) error
	ChatResponseFunc     func(ChatResponse) error
	PullProgressFunc     func(ProgressResponse) error
	PushProgressFunc     func(ProgressResponse) error
	CreateProgressFunc   func(ProgressResponse) error
)
