# Routine tasks. `make demo` and `make test` are the two commands of the README.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/renxing/web/static/vendor
STAMP := $(VENV)/.installed
# Test processes: both cores by default; each has its own PostgreSQL database and Chromium.
JOBS ?= 2

.PHONY: demo serve test test-sqlite test-postgres lint format bench vendor install clean catalogs messages

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) vendor catalogs

# Translations: zh-CN strings in the code, English in locale/en/LC_MESSAGES/messages.po.
# `make messages` collects new strings into the .pot and the .po; `make catalogs` compiles the .mo.
LOCALE := src/renxing/locale
CATALOG := $(LOCALE)/en/LC_MESSAGES/messages

$(CATALOG).mo: $(CATALOG).po $(STAMP)
	$(BIN)/pybabel -q compile -d $(LOCALE) -D messages

catalogs: $(CATALOG).mo

messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k _lp:1c,2 -k bilingual --no-location --sort-output -o $(LOCALE)/messages.pot src/renxing
	$(BIN)/pybabel -q update -i $(LOCALE)/messages.pot -d $(LOCALE) -D messages --no-fuzzy-matching --ignore-obsolete

# Leaflet, ECharts and htmx come from the npm registry, pinned by package-lock.json.
$(VENDOR)/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/images
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	cp node_modules/leaflet/dist/images/* $(VENDOR)/images/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	touch $@

vendor: $(VENDOR)/.stamp

demo: install
	$(BIN)/renxing demo

serve: install
	$(BIN)/renxing serve

test: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -n $(JOBS) tests

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: install
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var
