package tokenwire

// The Go runner of clients/conformance/cases.json (format: its README.md): each step
// calls this package's Client, turns the answer into Ollama's JSON shape, and checks it.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"google.golang.org/grpc/status"
)

type step struct {
	Call        string            `json:"call"`
	Args        map[string]any    `json:"args"`
	TimeoutS    float64           `json:"timeout_s"`
	LeaveAfter  int               `json:"leave_after"`
	Expect      []map[string]any  `json:"expect"`
	ExpectError map[string]any    `json:"expect_error"`
	Save        map[string]string `json:"save"`
}

type spec struct {
	Vars  map[string]any `json:"vars"`
	Cases []struct {
		Name  string `json:"name"`
		Steps []step `json:"steps"`
	} `json:"cases"`
}

var varRef = regexp.MustCompile(`\$\{(\w+)\}`)

func substitute(v any, names map[string]any) any {
	switch t := v.(type) {
	case string:
		if m := varRef.FindStringSubmatch(t); m != nil && m[0] == t {
			return names[m[1]]
		}
		return varRef.ReplaceAllStringFunc(t, func(s string) string { return fmt.Sprint(names[s[2:len(s)-1]]) })
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = substitute(x, names)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			out[k] = substitute(x, names)
		}
		return out
	}
	return v
}

var missing = errors.New("missing")

// resolve is RFC 6901 JSON Pointer over decoded JSON.
func resolve(doc any, pointer string) (any, error) {
	if pointer == "" {
		return doc, nil
	}
	for _, raw := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		token := strings.ReplaceAll(strings.ReplaceAll(raw, "~1", "/"), "~0", "~")
		switch t := doc.(type) {
		case map[string]any:
			v, ok := t[token]
			if !ok {
				return nil, missing
			}
			doc = v
		case []any:
			var i int
			if _, err := fmt.Sscan(token, &i); err != nil || i < 0 || i >= len(t) {
				return nil, missing
			}
			doc = t[i]
		default:
			return nil, missing
		}
	}
	return doc, nil
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

func size(v any) (int, bool) {
	switch t := v.(type) {
	case string:
		return len([]rune(t)), true
	case []any:
		return len(t), true
	}
	return 0, false
}

func allHold(doc any, expectations any) bool {
	list, _ := expectations.([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); !ok || holds(doc, m) != "" {
			return false
		}
	}
	return true
}

// holds is "" when the expectation holds, else why not.
func holds(doc any, e map[string]any) string {
	at, _ := e["at"].(string)
	value, err := resolve(doc, at)
	if err != nil {
		return at + ": missing"
	}
	for op, want := range e {
		if op == "at" {
			continue
		}
		ok := false
		switch op {
		case "equals":
			ok = reflect.DeepEqual(value, want)
		case "one_of":
			for _, w := range want.([]any) {
				ok = ok || reflect.DeepEqual(value, w)
			}
		case "at_most", "at_least":
			n, isNum := value.(float64)
			w, _ := want.(float64)
			ok = isNum && ((op == "at_most" && n <= w) || (op == "at_least" && n >= w))
		case "length", "min_length":
			n, has := size(value)
			w, _ := want.(float64)
			ok = has && ((op == "length" && n == int(w)) || (op == "min_length" && n >= int(w)))
		case "type":
			ok = jsonType(value) == want
		case "matches":
			s, isStr := value.(string)
			ok = isStr && regexp.MustCompile(want.(string)).MatchString(s)
		case "contains":
			list, isList := value.([]any)
			for _, x := range list {
				ok = ok || reflect.DeepEqual(x, want)
			}
			ok = ok && isList
		case "has_item", "has_no_item", "each":
			list, isList := value.([]any)
			any_, every := false, true
			for _, x := range list {
				h := allHold(x, want)
				any_, every = any_ || h, every && h
			}
			ok = isList && map[string]bool{"has_item": any_, "has_no_item": !any_, "each": every}[op]
		default:
			return "unknown op " + op
		}
		if !ok {
			shown, _ := json.Marshal(value)
			return fmt.Sprintf("%s: %.300s does not satisfy %s %v", at, shown, op, want)
		}
	}
	return ""
}

// document is the answer as Ollama's JSON shapes it.
func document(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func streamDocument(chunks []any) map[string]any {
	text := ""
	for _, c := range chunks {
		m, _ := c.(map[string]any)
		if r, ok := m["response"].(string); ok {
			text += r
		} else if msg, ok := m["message"].(map[string]any); ok {
			s, _ := msg["content"].(string)
			text += s
		}
	}
	var last any
	before := []any{}
	if len(chunks) > 0 {
		last, before = chunks[len(chunks)-1], chunks[:len(chunks)-1]
	}
	return map[string]any{"chunks": chunks, "last": last, "before_last": before, "count": float64(len(chunks)), "text": text}
}

// decode fills a request struct from the step's args (Ollama's JSON names).
func decode[T any](args map[string]any) (*T, error) {
	b, _ := json.Marshal(args)
	var out T
	return &out, json.Unmarshal(b, &out)
}

func call(ctx context.Context, c *Client, s step, args map[string]any) (any, error) {
	var chunks []any
	collect := func(v any) error {
		chunks = append(chunks, document(v))
		if s.LeaveAfter > 0 && len(chunks) == s.LeaveAfter {
			return errLeft
		}
		return nil
	}
	streamed := args["stream"] == true
	answer := func(err error) (any, error) {
		if errors.Is(err, errLeft) {
			err = nil
		}
		if err != nil {
			return nil, err
		}
		if streamed {
			return streamDocument(chunks), nil
		}
		if len(chunks) == 0 {
			return nil, errors.New("no answer")
		}
		return chunks[len(chunks)-1], nil
	}
	switch s.Call {
	case "version":
		v, err := c.Version(ctx)
		return map[string]any{"version": v}, err
	case "list":
		r, err := c.List(ctx)
		return document(r), err
	case "ps":
		r, err := c.ListRunning(ctx)
		return document(r), err
	case "show":
		req, err := decode[ShowRequest](args)
		if err != nil {
			return nil, err
		}
		r, err := c.Show(ctx, req)
		return document(r), err
	case "generate":
		req, err := decode[GenerateRequest](args)
		if err != nil {
			return nil, err
		}
		return answer(c.Generate(ctx, req, func(r GenerateResponse) error { return collect(r) }))
	case "chat":
		req, err := decode[ChatRequest](args)
		if err != nil {
			return nil, err
		}
		return answer(c.Chat(ctx, req, func(r ChatResponse) error { return collect(r) }))
	case "embed":
		req, err := decode[EmbedRequest](args)
		if err != nil {
			return nil, err
		}
		r, err := c.Embed(ctx, req)
		return document(r), err
	case "embeddings":
		req, err := decode[EmbeddingRequest](args)
		if err != nil {
			return nil, err
		}
		r, err := c.Embeddings(ctx, req)
		return document(r), err
	case "create":
		req, err := decode[CreateRequest](args)
		if err != nil {
			return nil, err
		}
		return answer(c.Create(ctx, req, func(r ProgressResponse) error { return collect(r) }))
	case "copy":
		req, err := decode[CopyRequest](args)
		if err != nil {
			return nil, err
		}
		return map[string]any{"status": "success"}, c.Copy(ctx, req)
	case "delete":
		req, err := decode[DeleteRequest](args)
		if err != nil {
			return nil, err
		}
		return map[string]any{"status": "success"}, c.Delete(ctx, req)
	}
	return nil, fmt.Errorf("unknown call %q", s.Call)
}

// codeName is the gRPC status as the cases spell it: NOT_FOUND, not NotFound.
func codeName(err error) string {
	var b strings.Builder
	for i, r := range status.Code(err).String() {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	name := b.String()
	if name == "CANCELED" {
		return "CANCELLED"
	}
	return name
}

func runStep(t *testing.T, c *Client, s step, names map[string]any) {
	t.Helper()
	args, _ := substitute(s.Args, names).(map[string]any)
	if args == nil {
		args = map[string]any{}
	}
	ctx := context.Background()
	if s.TimeoutS > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(s.TimeoutS*float64(time.Second)))
		defer cancel()
	}
	doc, err := call(ctx, c, s, args)
	if err != nil {
		want, _ := substitute(s.ExpectError, names).(map[string]any)
		if want == nil {
			t.Fatalf("%s: unexpected error %v", s.Call, err)
		}
		var se StatusError
		if !errors.As(err, &se) {
			t.Fatalf("%s: %v is not a StatusError", s.Call, err)
		}
		got := map[string]any{"code": codeName(err), "status_code": float64(se.StatusCode), "message": se.ErrorMessage}
		for k, v := range want {
			if !reflect.DeepEqual(got[k], v) {
				t.Fatalf("%s: error %v is not %v", s.Call, got, want)
			}
		}
		return
	}
	if s.ExpectError != nil {
		t.Fatalf("%s: expected %v, got an answer", s.Call, s.ExpectError)
	}
	for _, e := range s.Expect {
		if why := holds(doc, substitute(e, names).(map[string]any)); why != "" {
			t.Fatalf("%s: %s", s.Call, why)
		}
	}
	for name, pointer := range s.Save {
		v, _ := resolve(doc, pointer)
		names[name] = v
	}
}

func TestConformance(t *testing.T) {
	raw, err := os.ReadFile("../conformance/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases spec
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	passed := 0
	for _, tc := range cases.Cases {
		ok := t.Run(tc.Name, func(t *testing.T) {
			run := make([]byte, 4)
			_, _ = rand.Read(run)
			names := map[string]any{"run": hex.EncodeToString(run)}
			for k, v := range cases.Vars {
				names[k] = v
			}
			for _, s := range tc.Steps {
				runStep(t, c, s, names)
			}
		})
		if ok {
			passed++
		}
	}
	fmt.Printf("conformance (clients/conformance/cases.json, Go): %d cases run, %d passed, %d failed\n",
		len(cases.Cases), passed, len(cases.Cases)-passed)
}

func TestTheRunnerRejectsAWrongAnswer(t *testing.T) {
	var doc any
	_ = json.Unmarshal([]byte(`{"models":[{"model":"a:latest"}],"done_reason":"stop","eval_count":9}`), &doc)
	for _, e := range []map[string]any{
		{"at": "/eval_count", "at_most": 8.0},
		{"at": "/done_reason", "one_of": []any{"length"}},
		{"at": "/models", "has_item": []any{map[string]any{"at": "/model", "equals": "b"}}},
		{"at": "/missing", "equals": 1.0},
	} {
		if holds(doc, e) == "" {
			t.Errorf("%v should not hold", e)
		}
	}
	if why := holds(doc, map[string]any{"at": "/models/0/model", "equals": "a:latest"}); why != "" {
		t.Error(why)
	}
}
