// A program built on Ollama's own Go client (github.com/ollama/ollama/api), run by
// tests/e2e/test_go_client.py against the shim. It prints what it saw as one JSON object.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/ollama/ollama/api"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	client, err := api.ClientFromEnvironment() // OLLAMA_HOST
	must(err)
	ctx := context.Background()
	model, withSystem := os.Args[1], os.Args[2]
	greedy := map[string]any{"temperature": 0, "num_predict": 12, "seed": 1}
	out := map[string]any{}
	no := false

	generate := func(m string, stream bool) string {
		var b strings.Builder
		req := &api.GenerateRequest{Model: m, Prompt: "Name a colour.", Options: greedy, Stream: &stream}
		must(client.Generate(ctx, req, func(r api.GenerateResponse) error {
			b.WriteString(r.Response)
			return nil
		}))
		return b.String()
	}
	out["generate_streamed"] = generate(model, true)
	out["generate"] = generate(model, false)
	out["generate_system"] = generate(withSystem, false)

	history := []api.Message{
		{Role: "user", Content: "My name is Ada."},
		{Role: "assistant", Content: "Hello Ada."},
		{Role: "user", Content: "What is my name?"},
	}
	var chat strings.Builder
	must(client.Chat(ctx, &api.ChatRequest{Model: model, Messages: history, Options: greedy, Stream: &no},
		func(r api.ChatResponse) error {
			chat.WriteString(r.Message.Content)
			return nil
		}))
	out["chat"] = chat.String()

	shown, err := client.Show(ctx, &api.ShowRequest{Model: withSystem})
	must(err)
	out["show_system"] = shown.System
	out["show_modelfile_has_system"] = strings.Contains(shown.Modelfile, "SYSTEM ")

	listed, err := client.List(ctx)
	must(err)
	names := []string{}
	for _, m := range listed.Models {
		names = append(names, m.Name)
	}
	out["list"] = names

	embedded, err := client.Embed(ctx, &api.EmbedRequest{Model: model, Input: []string{"a", "b"}})
	must(err)
	out["embed"] = []int{len(embedded.Embeddings), len(embedded.Embeddings[0])}

	_, err = client.Show(ctx, &api.ShowRequest{Model: "does-not-exist"})
	var status api.StatusError
	if errors.As(err, &status) {
		out["error"] = map[string]any{"status": status.StatusCode, "message": status.ErrorMessage}
	}
	must(json.NewEncoder(os.Stdout).Encode(out))
}
