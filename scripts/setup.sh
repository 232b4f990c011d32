#!/usr/bin/env bash
# Idempotent set-up: a project venv, llama-cpp-python built for this CPU, the Python
# dependencies, and the default model. Safe to run again; each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
CACHE=${TOKENWIRE_CACHE:-$HOME/.cache/tokenwire}
LLAMA_VERSION=0.3.36

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
fi
PIP="$VENV/bin/pip"

# llama-cpp-python: the default build uses -march=native, which on this machine's Xeon
# turns on AMX and crashes in llama_decode. Build portable x86-64 with the SIMD levels
# this CPU really has, read from /proc/cpuinfo. pip caches wheels without regard to
# CMAKE_ARGS, so we build with --no-cache-dir into a folder keyed by version + flags.
if ! "$VENV/bin/python" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '$LLAMA_VERSION')" 2>/dev/null; then
  flags="/proc/cpuinfo"
  has() { grep -qw "$1" "$flags"; }
  CMAKE_ARGS="-DGGML_NATIVE=OFF"
  has avx && CMAKE_ARGS+=" -DGGML_AVX=ON"
  has avx2 && CMAKE_ARGS+=" -DGGML_AVX2=ON"
  has fma && CMAKE_ARGS+=" -DGGML_FMA=ON"
  has f16c && CMAKE_ARGS+=" -DGGML_F16C=ON"
  has avx512f && CMAKE_ARGS+=" -DGGML_AVX512=ON"
  has avx512_vnni && CMAKE_ARGS+=" -DGGML_AVX512_VNNI=ON"
  key=$(printf '%s|%s|%s' "$LLAMA_VERSION" "$CMAKE_ARGS" "$("$VENV/bin/python" -c 'import sys;print(sys.version_info[:2])')" | sha256sum | cut -c1-16)
  wheeldir="$CACHE/wheels/llama-cpp-python-$key"
  if ! ls "$wheeldir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $LLAMA_VERSION with CMAKE_ARGS=$CMAKE_ARGS (about 4 minutes)"
    mkdir -p "$wheeldir.tmp"
    CMAKE_ARGS="$CMAKE_ARGS" "$PIP" wheel --quiet --no-deps --no-cache-dir --no-binary llama-cpp-python \
      -w "$wheeldir.tmp" "llama-cpp-python==$LLAMA_VERSION"
    echo "$CMAKE_ARGS" > "$wheeldir.tmp/CMAKE_ARGS"
    rm -rf "$wheeldir" && mv "$wheeldir.tmp" "$wheeldir"
  fi
  "$PIP" install --quiet --no-deps --force-reinstall "$wheeldir"/llama_cpp_python-*.whl
fi

# The three distributions, editable, with their pinned dependencies (llama-cpp-python
# is already satisfied above): the client first, since it carries the generated stubs
# the shim and the server import. pip builds it in isolation with grpcio-tools.
stamp="$VENV/.deps-$(cat pyproject.toml rest_shim/pyproject.toml clients/python/pyproject.toml clients/python/setup.py | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  rm -f "$VENV"/lib/python*/site-packages/tokenwire_gen.pth  # the stubs' old home, before tokenwire-client
  "$PIP" install --quiet -e "./clients/python[cli]" -e ./rest_shim -e ".[dev]"
  touch "$stamp"
fi

# Real servers from Debian for the tests: an OCI registry for pull/push
# (docker-registry, CNCF distribution 2.8), the proxies the replica tests route
# through (nginx, haproxy) and a Prometheus that scrapes the metrics. Tests start their
# own instances on random ports; the packaged services are never started.
missing=()
for pair in docker-registry:docker-registry nginx:nginx-light haproxy:haproxy prometheus:prometheus; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  echo "installing Debian's ${missing[*]} for the tests"
  apt_install() {
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  }
  apt_install || { "${as_root[@]}" apt-get update -qq && apt_install; }
  # The packages' own services must not hold the ports or run beside the tests.
  for svc in nginx haproxy prometheus prometheus-node-exporter; do
    "${as_root[@]}" service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# grpcurl, for the tests that call the server as a grpcurl user would (auth, TLS),
# built from the Go module proxy into the cache once per machine (about 90 s).
GRPCURL_VERSION=v1.9.3
if [ ! -x "$CACHE/bin/grpcurl-$GRPCURL_VERSION" ]; then
  echo "building grpcurl $GRPCURL_VERSION for the tests"
  mkdir -p "$CACHE/bin"
  GOBIN="$CACHE/bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION"
  mv "$CACHE/bin/grpcurl" "$CACHE/bin/grpcurl-$GRPCURL_VERSION"
fi

# protoc-gen-go, for the contract test that compiles the protos for Go with their
# go_package (and for the Go client's stubs), from the Go module proxy, once per machine.
PROTOC_GEN_GO_VERSION=v1.36.12
if [ ! -x "$CACHE/bin/protoc-gen-go-$PROTOC_GEN_GO_VERSION" ]; then
  echo "building protoc-gen-go $PROTOC_GEN_GO_VERSION"
  mkdir -p "$CACHE/bin"
  GOBIN="$CACHE/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  mv "$CACHE/bin/protoc-gen-go" "$CACHE/bin/protoc-gen-go-$PROTOC_GEN_GO_VERSION"
fi

# protoc-gen-go-grpc, for the Go service stubs (scripts/gen_go.sh), once per machine.
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2
if [ ! -x "$CACHE/bin/protoc-gen-go-grpc-$PROTOC_GEN_GO_GRPC_VERSION" ]; then
  echo "building protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION"
  mkdir -p "$CACHE/bin"
  GOBIN="$CACHE/bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"
  mv "$CACHE/bin/protoc-gen-go-grpc" "$CACHE/bin/protoc-gen-go-grpc-$PROTOC_GEN_GO_GRPC_VERSION"
fi

# protoc itself (the Java and C# generators are not in grpcio-tools), from Maven Central,
# checked against its pinned digest, for the contract test.
PROTOC_VERSION=4.36.2
PROTOC_SHA256=f6ee22d65361338459208da8bff801c9ca689741cba9187b34990dd45198f864
if [ ! -x "$CACHE/bin/protoc-$PROTOC_VERSION" ]; then
  echo "fetching protoc $PROTOC_VERSION from Maven Central"
  mkdir -p "$CACHE/bin"
  curl -fsSL -o "$CACHE/bin/protoc.tmp" \
    "https://repo1.maven.org/maven2/com/google/protobuf/protoc/$PROTOC_VERSION/protoc-$PROTOC_VERSION-linux-x86_64.exe"
  echo "$PROTOC_SHA256  $CACHE/bin/protoc.tmp" | sha256sum -c --quiet
  chmod +x "$CACHE/bin/protoc.tmp" && mv "$CACHE/bin/protoc.tmp" "$CACHE/bin/protoc-$PROTOC_VERSION"
fi

# The Node client's dependencies and the official ollama npm client's for the tests
# (tests/js), as their lockfiles pin them; npm ci again only when a lockfile is newer
# than the install.
for dir in clients/node tests/js; do
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# The Java client's Maven dependencies, plugins and code generators (protoc and
# protoc-gen-grpc-java, from Maven Central), into ~/.m2 once per pom.xml.
pom_key=$(sha256sum clients/java/pom.xml | cut -c1-16)
if [ ! -f "$CACHE/maven-warm-$pom_key" ]; then
  echo "warming the Maven repository for clients/java"
  (cd clients/java && mvn -q -B -ntp -DskipTests package dependency:resolve-plugins >/dev/null)
  mkdir -p "$CACHE" && touch "$CACHE/maven-warm-$pom_key"
fi

# Stubs current with proto/ (the editable install generated them once; this catches
# later proto edits), then the default model into the download cache.
make --no-print-directory proto
"$VENV/bin/python" -m server.bootstrap
