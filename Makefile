# Every target bootstraps .venv from python3 alone and reuses it while
# pyproject.toml and the constraints file are unchanged.
# `make help` lists the targets; plain `make` runs `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
PY_SOURCES := src tests scripts benchmarks
# The TypeScript generator and runtime, installed from package-lock.json; the
# stamp lives inside node_modules so deleting it forces a fresh `npm ci`.
NODE_STAMP := node_modules/.flyteres-installed
# The code generators (grpcio-tools, betterproto, mypy-protobuf) live in a venv
# of their own: the grpcio-tools whose gencode widest runtimes accept needs
# protobuf < 7, which .venv does not have.
GEN_VENV := .venv-gen
GEN_REQUIREMENTS := requirements/gen.txt
GEN_STAMP := $(GEN_VENV)/.installed

# The tests `make check` leaves out besides the slow-marked ones: they need node
# or buf, regenerate gen/, or start server processes. `make test` runs them.
.PHONY: help all check demo test lint gen gen-check gen-venv vectors breaking pytest node-test compat bench lock venv clean
.DEFAULT_GOAL := all

# One line per target: the text after `##` on the target's own line.
help: ## list the targets with what each does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

all: test ## the default: the same as make test

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create .venv from requirements/constraints.txt (other targets do it when needed)

$(GEN_STAMP): $(GEN_REQUIREMENTS)
	@test -x $(GEN_VENV)/bin/python || $(PYTHON) -m venv $(GEN_VENV)
	$(GEN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(GEN_REQUIREMENTS)
	@touch $@

gen-venv: $(GEN_STAMP) ## create .venv-gen, the pinned code generators of requirements/gen.txt

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The main job on the sample project in examples/: conversions, the Flyte 2
# migration as a diff, and what the sample platform will do to each task: once
# with Helm values and a quota, once with what kubectl prints (flyteadmin's
# ConfigMap, which leaves values to its built-ins, and the namespace's
# ResourceQuota and LimitRange); then the mixed flytekit + Flyte 2 project, and
# verify on a migration's before and after.
# migrate and check exit 1 when they find something, which is the point here.
demo: $(STAMP) ## convert typical declarations, migrate and check the sample project in examples/
	$(BIN)/flyteres demo
	@echo; echo "== flyteres migrate --diff examples/project (Flyte 2, kubernetes policy)"
	@$(BIN)/flyteres migrate --diff examples/project; test $$? -le 1
	@echo; echo "== flyteres check examples/project --platform examples/admin.yaml --quota examples/quota.yaml"
	@$(BIN)/flyteres check examples/project --platform examples/admin.yaml --quota examples/quota.yaml; test $$? -le 1
	@echo; echo "== flyteres check examples/project --platform examples/flyte-admin-configmap.yaml" \
		"--cluster examples/quota.yaml --cluster examples/limitrange.yaml (kubectl output; flyteadmin's built-ins)"
	@$(BIN)/flyteres check examples/project --platform examples/flyte-admin-configmap.yaml \
		--cluster examples/quota.yaml --cluster examples/limitrange.yaml; test $$? -le 1
	@echo; echo "== flyteres check examples/mixed --platform examples/admin.yaml --quota examples/quota.yaml" \
		"--limitrange examples/limitrange.yaml (flytekit and Flyte 2 in one project)"
	@$(BIN)/flyteres check examples/mixed --platform examples/admin.yaml --quota examples/quota.yaml \
		--limitrange examples/limitrange.yaml; test $$? -le 1
	@echo; echo "== flyteres verify tests/verify_pairs/oom_retry/old tests/verify_pairs/oom_retry/new" \
		"(did a migration keep each task's resources?)"
	@$(BIN)/flyteres verify tests/verify_pairs/oom_retry/old tests/verify_pairs/oom_retry/new; test $$? -le 1

# gen/ (Python and TypeScript) from proto/; writes nothing else.
gen: $(STAMP) $(GEN_STAMP) $(NODE_STAMP) ## regenerate gen/ (Python and TypeScript) from proto/
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/gen.py

# The golden wire vectors in tests/vectors/, from scripts/vectors.py.
vectors: $(STAMP) ## regenerate the golden wire vectors in tests/vectors/
	$(BIN)/python scripts/vectors.py

gen-check: $(STAMP) $(GEN_STAMP) $(NODE_STAMP) ## fail if gen/ or tests/vectors/ differ from a fresh generation
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/gen.py --check
	$(BIN)/python scripts/vectors.py --check

lint: $(STAMP) ## ruff, ruff format --check, mypy, buf lint, buf format and buf breaking
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy
	$(BIN)/buf lint
	$(BIN)/buf format --diff --exit-code
	@$(MAKE) --no-print-directory breaking

# buf breaking against the main branch, when main has an IDL to compare with.
breaking: $(STAMP) ## buf breaking of proto/ against the main branch
	@ref=""; \
	for r in main origin/main; do \
	  if git rev-parse --verify -q "$$r^{commit}" >/dev/null 2>&1 && git cat-file -e "$$r:proto" 2>/dev/null; then ref=$$r; break; fi; \
	done; \
	if [ -n "$$ref" ]; then \
	  echo "buf breaking --against .git#ref=$$ref"; \
	  $(BIN)/buf breaking --against ".git#ref=$$ref"; \
	else \
	  echo "buf breaking: no main branch with proto/ to compare against, skipped"; \
	fi

# The generation tests regenerate gen/ts, so the node tools come first.
pytest: $(STAMP) $(GEN_STAMP) $(NODE_STAMP) ## the whole pytest suite (PYTEST_ARGS are passed on)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

# The TypeScript consumer reads every golden vector with the generated code.
node-test: $(NODE_STAMP) ## the TypeScript consumer reads every golden vector (node --test)
	node --test tests/ts/

# The oldest and newest protobuf and grpcio the package declares, each in a small
# venv of its own under .venv-compat/ (kept while its requirements file is
# unchanged): every generated module imports, and the wire tests pass.
compat: $(STAMP) ## the wire tests on the oldest and newest protobuf/grpcio runtimes (requirements/compat-*.txt)
	$(BIN)/python scripts/compat.py floor newest

test: lint gen-check pytest node-test compat ## everything: lint, generated-code drift, pytest, node and runtime-range tests

# The fast inner loop: lint and types without buf, and the tests that are not
# slow and need neither node nor buf. Run make test before pushing.
check: $(STAMP) ## fast inner loop: ruff, ruff format --check, mypy, pytest -m "not slow"
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

# Speed reports (not pass/fail): each script prints its figures and targets.
# CORPUS=path also reads a real project (a tree, or a git directory) with check.
bench: $(STAMP) $(NODE_STAMP) ## run the benchmarks in benchmarks/ (reports, not pass/fail); CORPUS=dir adds a real tree
	@for b in startup quantity convert migrate migrate_scale service service_attack check; do echo "== benchmarks/$$b.py"; $(BIN)/python benchmarks/$$b.py || exit 1; echo; done
	@if [ -n "$(CORPUS)" ]; then echo "== benchmarks/corpus.py $(CORPUS)"; $(BIN)/python benchmarks/corpus.py "$(CORPUS)"; fi
	@echo "== benchmarks/migrate_corpus.py $(CORPUS)"; $(BIN)/python benchmarks/migrate_corpus.py $(CORPUS)

# Record the exact versions the tests ran with (run after changing dependencies).
lock: venv ## record the installed versions in requirements/constraints.txt
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^flyteres' > $(CONSTRAINTS)

clean: ## remove .venv, node_modules and build and tool caches
	rm -rf $(VENV) $(GEN_VENV) .venv-compat node_modules build dist .mypy_cache .pytest_cache .ruff_cache
