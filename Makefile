# tokenwire: gRPC model runner + Ollama-compatible REST shim.
# `make serve` and `make test` do whatever set-up is still missing first.
VENV ?= .venv
PY := $(VENV)/bin/python
BUF_VERSION := 1.75.0
BUF := npx --yes @bufbuild/buf@$(BUF_VERSION)

.PHONY: setup proto proto-go proto-baseline lint serve test bench compare clean

setup:
	@bash scripts/setup.sh

# Python stubs are build output (clients/python/tokenwire, git-ignored), written by the
# one generator that `pip install ./clients/python` also runs; it skips work when the
# protos have not changed.
proto:
	@$(PY) clients/python/build_stubs.py >/dev/null

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd proto && $(BUF) lint && $(BUF) format --diff --exit-code
	cd proto && $(BUF) breaking --against tokenwire-v1.binpb
	cd clients/go && go vet ./... && test -z "$$(gofmt -l .)"
	cd clients/node && npm run --silent build   # buf generate + tsc --strict
	$(PY) -m scripts.validate_k8s

# The Go stubs, committed (clients/go/tokenwirepb/v1); a contract test checks they are current.
proto-go: setup
	bash scripts/gen_go.sh

# The frozen v1 contract that `buf breaking` compares against. Rebuild it only when a
# breaking change is meant (a new major version), never to make lint pass.
proto-baseline:
	cd proto && $(BUF) build --exclude-source-info -o tokenwire-v1.binpb

serve: setup
	$(PY) -m server.supervisor

# Python's suites (server, shim, Python client), then the Go, Node and Java clients': each runs
# the conformance cases against one server its own suite starts. Their logs are kept and
# the summary lines (with the case count per language) printed; a failure prints the end.
test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)
	cd clients/go && go test -count=1 -v ./... > ../../.go-test.log 2>&1; status=$$?; \
	  grep -E '^(ok|FAIL|--- FAIL|panic|conformance)' ../../.go-test.log; \
	  [ $$status -eq 0 ] || tail -60 ../../.go-test.log; exit $$status
	cd clients/node && npm test > ../../.node-test.log 2>&1; status=$$?; \
	  grep -E '^(conformance|ℹ (tests|pass|fail))|✖' ../../.node-test.log; \
	  [ $$status -eq 0 ] || tail -60 ../../.node-test.log; exit $$status
	cd clients/java && mvn -B -ntp verify > ../../.java-test.log 2>&1; status=$$?; \
	  grep -E '^conformance|Tests run:|FAIL' ../../.java-test.log; \
	  [ $$status -eq 0 ] || tail -80 ../../.java-test.log; exit $$status

bench: setup
	$(PY) -m bench.engine
	$(PY) -m bench.shim
	$(PY) -m bench.client
	$(PY) -m bench.observe

# tokenwire beside llama-server and llama-cpp-python's server on the same GGUF (bench/compare);
# builds llama-server once (about 5 minutes), then about 25 minutes on 2 cores. Writes docs/bench/.
compare: setup
	$(VENV)/bin/pip install --quiet -e ".[bench]"
	$(PY) -m bench.compare $(COMPARE_ARGS)

clean:
	rm -rf clients/python/tokenwire .pytest_cache
