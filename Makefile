# tokenwire: gRPC model runner + Ollama-compatible REST shim.
# `make serve` and `make test` do whatever set-up is still missing first.
VENV ?= .venv
PY := $(VENV)/bin/python
BUF_VERSION := 1.75.0
GEN := gen/python
PROTOS := $(wildcard proto/tokenwire/v1/*.proto)

.PHONY: setup proto lint serve test bench clean

setup:
	@bash scripts/setup.sh

# Generated stubs are build output: git-ignored, never edited. A .pth file puts
# gen/python on the venv's path so `import tokenwire.v1` works everywhere.
proto: $(GEN)/.stamp
$(GEN)/.stamp: $(PROTOS)
	@rm -rf $(GEN) && mkdir -p $(GEN)
	$(PY) -m grpc_tools.protoc -Iproto --python_out=$(GEN) --pyi_out=$(GEN) --grpc_python_out=$(GEN) $(PROTOS)
	@touch $(GEN)/tokenwire/__init__.py $(GEN)/tokenwire/v1/__init__.py
	@$(PY) -c "import site,os; open(os.path.join(site.getsitepackages()[0],'tokenwire_gen.pth'),'w').write(os.path.abspath('$(GEN)')+'\n')"
	@touch $@

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd proto && npx --yes @bufbuild/buf@$(BUF_VERSION) lint

serve: setup
	$(PY) -m scripts.serve

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench.engine
	$(PY) -m bench.shim

clean:
	rm -rf $(GEN) .pytest_cache
