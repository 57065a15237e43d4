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

.PHONY: install demo test bench bench-quick clean screenshots
install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/investigate demo --force $(DEMO_DIR)

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

# Every benchmark prints its figures beside a floor measured in the same run (sqlite-utils,
# bare Datasette, bare WeasyPrint, the CLI's own start-up).
#   make bench-quick   100,000 visits, under five minutes
#   make bench         full size: a million visits (an hour or more)
bench-quick: $(BIN)/.installed
	cd bench && ../$(BIN)/python import_bench.py --quick && ../$(BIN)/python commands_bench.py --visits 100000 \
	  && ../$(BIN)/python datasette_bench.py --visits 100000 && ../$(BIN)/python report_bench.py --sizes 1000 \
	  && ../$(BIN)/python network_bench.py --visits 10000

bench: $(BIN)/.installed
	cd bench && for b in import_bench commands_bench datasette_bench report_bench log_bench near_bench stats_bench \
	  merge_bench tips_bench network_bench; do echo "== $$b"; ../$(BIN)/python $$b.py || exit 1; done

screenshots: $(BIN)/.installed
	$(BIN)/python tools/screenshots.py docs/screenshots

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
