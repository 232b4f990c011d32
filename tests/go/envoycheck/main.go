// envoycheck reads an Envoy bootstrap in YAML and checks it as Envoy would at start:
// strict protojson (an unknown field or type fails) into envoy.config.bootstrap.v3,
// then the protoc-gen-validate rules the Envoy API carries. Debian has no Envoy, so
// tests/e2e/test_envoy_config.py runs this on deploy/envoy/tokenwire.yaml instead.
package main

import (
	"fmt"
	"os"

	bootstrap "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"
)

func main() {
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		fail(fmt.Errorf("not YAML: %w", err))
	}
	var b bootstrap.Bootstrap
	if err := (protojson.UnmarshalOptions{}).Unmarshal(js, &b); err != nil {
		fail(fmt.Errorf("not an Envoy bootstrap: %w", err))
	}
	if err := b.ValidateAll(); err != nil {
		fail(fmt.Errorf("invalid: %w", err))
	}
	fmt.Printf("valid: %d listeners, %d clusters\n", len(b.GetStaticResources().GetListeners()),
		len(b.GetStaticResources().GetClusters()))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
