# Two commands: `make demo` and `make test`. Each creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint typecheck contracts unit wheel docs bench constraints clean

# constraints.txt pins every package `make test` installs, so CI installs what was tested; `make constraints`
# rewrites it from the working environment after a dependency changes.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt 'pip>=24'
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/yikatong demo --out demo-output

test: lint typecheck contracts docs wheel unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q

# The built wheel in a fresh virtual environment, run from an empty folder (scripts/check_wheel.sh).
wheel: $(STAMP)
	PYTHON=$(PYTHON) scripts/check_wheel.sh

# The documentation site (mkdocs-material, API reference by mkdocstrings from the docstrings); any warning fails.
# Not --quiet: it drops the warnings before --strict counts them, so a broken link would pass.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

constraints: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip freeze --exclude-editable --all | grep -v '^setuptools==' | LC_ALL=C sort -f > constraints.txt

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) demo-output site .pytest_cache .mypy_cache .ruff_cache
