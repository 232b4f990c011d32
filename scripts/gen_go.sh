#!/usr/bin/env bash
# The Go stubs of proto/tokenwire/v1, committed under clients/go/tokenwirepb/v1 as Go
# modules expect. One command, used by `make proto-go` and by the contract test that
# checks the committed files are current: gen_go.sh [OUT_DIR] (default clients/go).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${TOKENWIRE_CACHE:-$HOME/.cache/tokenwire}
OUT=${1:-clients/go}
WKT=$(.venv/bin/python -c 'import grpc_tools, os; print(os.path.join(os.path.dirname(grpc_tools.__file__), "_proto"))')
mkdir -p "$OUT"
"$CACHE/bin/protoc-4.36.2" -Iproto -I"$WKT" \
  --plugin=protoc-gen-go="$CACHE/bin/protoc-gen-go-v1.36.12" \
  --plugin=protoc-gen-go-grpc="$CACHE/bin/protoc-gen-go-grpc-v1.6.2" \
  --go_out="$OUT" --go_opt=module=github.com/tokenwire/tokenwire/clients/go \
  --go-grpc_out="$OUT" --go-grpc_opt=module=github.com/tokenwire/tokenwire/clients/go \
  proto/tokenwire/v1/*.proto
