# Two commands set up a fresh machine from a clean clone:
#   make demo   creates .venv, installs investigate, builds the demo workspace
#   make test   creates .venv, installs investigate with its test extra, runs every test
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
DEMO_DIR ?= demo-workspace

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

.PHONY: install demo test bench clean screenshots
install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/investigate demo --force $(DEMO_DIR)

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

bench: $(BIN)/.installed
	cd bench && for b in import_bench near_bench stats_bench report_bench datasette_bench merge_bench tips_bench; do \
	  echo "== $$b"; ../$(BIN)/python $$b.py || exit 1; done

screenshots: $(BIN)/.installed
	$(BIN)/python tools/screenshots.py docs/screenshots

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
