package tokenwire

import (
	"context"

	"google.golang.org/grpc/metadata"
)

// ModelHeader is the metadata header every call about a model carries, as the REST
// shim and the other clients send it (tokenwire_common/wire.py), so an L7 proxy can
// hash on it and keep each model warm on one replica (deploy/).
const ModelHeader = "x-tokenwire-model"

// routed adds the model header to the call's outgoing metadata; gRPC metadata values
// are printable ASCII, which Ollama's model names always are.
func routed(ctx context.Context, model string) context.Context {
	if model == "" {
		return ctx
	}
	for _, r := range model {
		if r <= ' ' || r > '~' {
			return ctx
		}
	}
	return metadata.AppendToOutgoingContext(ctx, ModelHeader, model)
}
