# Two commands set up a fresh machine from a clean clone:
#   make demo   creates .venv, installs investigate, builds the demo workspace
#   make test   creates .venv, installs investigate with its test extra, runs every test
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
DEMO_DIR ?= demo-workspace

# The package's bytecode is compiled once, as pip compiles an installed wheel: an editable
# install writes it on first import, except where PYTHONDONTWRITEBYTECODE is set (as on this
# project's machines), and there every command compiled its hundred modules again (0.1 s each).
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/python -m compileall -q investigate >/dev/null
	touch $@

.PHONY: install demo test bench bench-quick clean screenshots
install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/investigate demo --force $(DEMO_DIR)

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

# Every benchmark prints its figures beside a floor measured in the same run (sqlite-utils,
# bare Datasette, bare WeasyPrint, the CLI's own start-up). Each one runs whatever the one
# before it found (a missed aim is printed, not a reason to stop the table); the exit status
# says whether any missed.
#   make bench-quick   100,000 visits, under five minutes
#   make bench         full size: a million visits (an hour or more)
bench-quick: $(BIN)/.installed
	cd bench && status=0; for b in "import_bench.py --quick" "commands_bench.py --visits 100000" \
	  "datasette_bench.py --visits 100000" "report_bench.py --sizes 1000" "network_bench.py --visits 10000"; \
	  do echo "== $$b"; ../$(BIN)/python $$b || status=1; done; exit $$status

bench: $(BIN)/.installed
	cd bench && status=0; for b in import_bench commands_bench datasette_bench report_bench log_bench near_bench \
	  stats_bench merge_bench tips_bench network_bench; do echo "== $$b"; ../$(BIN)/python $$b.py || status=1; done; \
	  exit $$status

screenshots: $(BIN)/.installed
	$(BIN)/python tools/screenshots.py docs/screenshots

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
