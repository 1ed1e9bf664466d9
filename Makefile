# Every target bootstraps .venv from python3 alone and reuses it while
# pyproject.toml and the constraints file are unchanged.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
PY_SOURCES := src tests scripts benchmarks

.PHONY: all demo test lint gen gen-check breaking pytest lock venv clean

all: test

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[dev]'
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/flyteres demo

gen: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/gen.py

gen-check: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python scripts/gen.py --check

lint: $(STAMP)
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy
	$(BIN)/buf lint
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

pytest: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint gen-check pytest

# Record the exact versions the tests ran with (run after changing dependencies).
lock: venv
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^flyteres' > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache
