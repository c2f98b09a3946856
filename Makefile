# The README's two commands are `make run` and `make test`; everything else is for developers.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHROMIUM_PATH ?= /usr/bin/chromium
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run serve test lint format browser checkers pdf-libs bench bench-report clean messages

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "ccmtracker needs Python 3.12 or newer; found " + sys.version.split()[0] + ". With pyenv: pyenv install 3.13")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## Serve the tracker on http://127.0.0.1:8000 (PORT=8001 make run for another port) with the
## seed statement and a local staff login.
PORT ?= 8000
run: install pdf-libs
	DJANGO_DEBUG=1 $(PY) manage.py migrate --no-input
	DJANGO_DEBUG=1 $(PY) manage.py seed
	PORT=$(PORT) DJANGO_DEBUG=1 $(PY) manage.py create_local_staff
	PORT=$(PORT) DJANGO_DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

## The production configuration on one machine: DEBUG off, gunicorn (workers: see
## gunicorn.conf.py), static files by whitenoise. Needs DJANGO_SECRET_KEY and
## DJANGO_ALLOWED_HOSTS, and a TLS proxy in front (README, "Production").
serve: install pdf-libs
	$(PY) manage.py check --deploy --fail-level WARNING
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input -v 0
	$(VENV)/bin/gunicorn ccmtracker.wsgi

## Run the whole suite, browser tests included (installs Debian's Chromium, and the Nu HTML
## Checker with Java, if missing). The browser tests run in a second pytest beside the rest
## (they wait on Chromium much of the time, and share nothing with it: each run has its own
## in-memory test database and temporary folder); their output follows the rest's, and
## either failing fails `make test`. PYTEST_ARGS adds options to both.
test: install browser checkers pdf-libs
	@tmp="$$(mktemp -d)"; \
	$(PY) -m pytest -m browser --basetemp="$$tmp/pytest" $(PYTEST_ARGS) >"$$tmp/browser.log" 2>&1 & \
	browser_pid=$$!; \
	trap 'kill $$browser_pid 2>/dev/null; rm -rf "$$tmp"' INT TERM; \
	rest=0; $(PY) -m pytest -m "not browser" $(PYTEST_ARGS) || rest=$$?; \
	browser=0; wait $$browser_pid || browser=$$?; \
	echo "== the browser tests (Chromium, Playwright), run beside the rest"; \
	cat "$$tmp/browser.log"; rm -rf "$$tmp"; \
	[ $$rest -eq 0 ] || echo "make test: the tests above the browser tests FAILED (exit $$rest)"; \
	[ $$browser -eq 0 ] || echo "make test: the browser tests FAILED (exit $$browser)"; \
	[ $$rest -eq 0 ] && [ $$browser -eq 0 ]

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r ccmtracker commitments gunicorn.conf.py

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Measure: a synthetic tracker served by gunicorn (and through nginx, docs/nginx/), driven by
## wrk; writes docs/benchmarks.md. Installs Debian's wrk and nginx-light when missing.
## Its own databases (var/bench/, ccm_perf_bench in PostgreSQL), never the development one.
bench: install
	@command -v wrk >/dev/null || { echo "Installing Debian's wrk..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk; fi; }
	$(PY) bench/run.py

## The meeting report's time to render, HTML and PDF, at 2,000 commitments and 50,000
## follow-ups (bench/report.py): its own database under var/bench/; writes its part of
## docs/benchmarks.md.
bench-report: install pdf-libs
	$(PY) bench/report.py

browser:
	@if [ ! -x "$(CHROMIUM_PATH)" ]; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium; \
	  else echo "Browser tests need Chromium: install it, or set CHROMIUM_PATH to a Chromium binary."; exit 1; fi; \
	fi

## The meeting report's PDF (WeasyPrint) needs Pango and a font: Debian's libpango-1.0-0,
## libpangoft2-1.0-0 and fonts-dejavu-core, installed when WeasyPrint cannot load or the font
## is missing (as root, or with sudo), like Chromium.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
pdf-libs: install
	@if ! $(PY) -c 'import weasyprint' >/dev/null 2>&1 || ! dpkg -s fonts-dejavu-core >/dev/null 2>&1; then \
	  echo "Installing Debian's Pango and DejaVu fonts for the meeting report's PDF..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES); \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq $(PDF_PACKAGES); \
	  else echo "The meeting report's PDF needs Pango and a font: install $(PDF_PACKAGES)."; exit 1; fi; \
	fi

## The Nu HTML Checker (npm vnu-jar, pinned in package-lock.json) that tests/test_standards.py
## runs; it needs Java 17+. --ignore-scripts: its install script would download a Java.
## Lighthouse (npm lighthouse) too, for tests/browser/test_lighthouse.py; it drives Debian's
## Chromium and needs Node 18.16+.
VNU_JAR := node_modules/vnu-jar/build/dist/vnu.jar
checkers: $(VNU_JAR)
	@command -v java >/dev/null || { echo "Installing Debian's Java runtime for the HTML checker..."; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq default-jre-headless; \
	  else echo "The HTML checker needs Java 17 or newer: install it."; exit 1; fi; }

$(VNU_JAR): package.json package-lock.json
	@command -v npm >/dev/null || { echo "The HTML checker is installed with npm: install Node.js and npm."; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) staticfiles node_modules .pytest_cache .ruff_cache

## Refresh the French and Spanish catalogues after changing a marked string, then compile them.
messages: install
	DJANGO_DEBUG=1 $(PY) manage.py makemessages -l fr -l es --ignore=.venv --ignore=node_modules --ignore=tests --no-obsolete
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules
