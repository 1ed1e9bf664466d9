# Every target bootstraps .venv from python3 alone and reuses it while
# pyproject.toml and the constraints file are unchanged.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
PY_SOURCES := src tests scripts benchmarks
# The TypeScript generator and runtime, installed from package-lock.json; the
# stamp lives inside node_modules so deleting it forces a fresh `npm ci`.
NODE_STAMP := node_modules/.flyteres-installed

.PHONY: all demo test lint gen gen-check vectors breaking pytest node-test bench lock venv clean

all: test

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[dev]'
	@touch $@

venv: $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The main job on the sample project in examples/: conversions, the Flyte 2
# migration as a diff, and what the sample platform will do to each task.
# migrate and check exit 1 when they find something, which is the point here.
demo: $(STAMP)
	$(BIN)/flyteres demo
	@echo; echo "== flyteres migrate --diff examples/project (Flyte 2, kubernetes policy)"
	@$(BIN)/flyteres migrate --diff examples/project; test $$? -le 1
	@echo; echo "== flyteres check examples/project --platform examples/admin.yaml --quota examples/quota.yaml"
	@$(BIN)/flyteres check examples/project --platform examples/admin.yaml --quota examples/quota.yaml; test $$? -le 1

# gen/ (Python and TypeScript) from proto/; writes nothing else.
gen: $(STAMP) $(NODE_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/gen.py

# The golden wire vectors in tests/vectors/, from scripts/vectors.py.
vectors: $(STAMP)
	$(BIN)/python scripts/vectors.py

gen-check: $(STAMP) $(NODE_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/gen.py --check
	$(BIN)/python scripts/vectors.py --check

lint: $(STAMP)
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy
	$(BIN)/buf lint
	$(BIN)/buf format --diff --exit-code
	@$(MAKE) --no-print-directory breaking

# buf breaking against the main branch, when main has an IDL to compare with.
breaking: $(STAMP)
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
pytest: $(STAMP) $(NODE_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

# The TypeScript consumer reads every golden vector with the generated code.
node-test: $(NODE_STAMP)
	node --test tests/ts/

test: lint gen-check pytest node-test

# Speed reports (not pass/fail): each script prints its figures and targets.
bench: $(STAMP) $(NODE_STAMP)
	@for b in quantity convert migrate service; do echo "== benchmarks/$$b.py"; $(BIN)/python benchmarks/$$b.py || exit 1; echo; done

# Record the exact versions the tests ran with (run after changing dependencies).
lock: venv
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^flyteres' > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) node_modules build dist .mypy_cache .pytest_cache .ruff_cache
