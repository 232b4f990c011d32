// A few calls about one model with the Go client, for tests/e2e/test_affinity_header.py:
// the proxy in front logs the x-tokenwire-model header of each.
package main

import (
	"context"
	"fmt"
	"os"

	api "github.com/tokenwire/tokenwire/clients/go"
)

func main() {
	client, err := api.ClientFromEnvironment()
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	model := os.Args[1]
	stream := false
	err = client.Generate(ctx, &api.GenerateRequest{Model: model, Prompt: "hi", Stream: &stream,
		Options: map[string]any{"num_predict": 1}}, func(api.GenerateResponse) error { return nil })
	if err != nil {
		panic(err)
	}
	if _, err := client.Show(ctx, &api.ShowRequest{Model: model}); err != nil {
		panic(err)
	}
	if _, err := client.Embed(ctx, &api.EmbedRequest{Model: model, Input: "hi"}); err != nil {
		panic(err)
	}
	fmt.Println("ok")
}
