# eldercare — the two commands a newcomer needs: `make demo` and `make test`.
# Everything is installed by this file: a clean machine needs only python3.11 (and, for the
# browser tests, Debian's chromium, which `make browser` installs when run as root).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# npm packages the browser tests use (axe-core), from package-lock.json; not needed to run the site.
NODE_STAMP := node_modules/.installed-$(shell cksum package-lock.json | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
export DEBUG ?= 1

.PHONY: demo test install browser nginx npm migrate worker lint bench bench-province bench-data stop-db clean screenshots

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)

browser:
	@if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh | grep -q .; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "chromium missing: run 'sudo apt-get install chromium' for the browser tests (they are skipped without it)"; fi

# The production-file tests run Debian's nginx on spare ports (tests/deploy/test_production_files.py).
nginx:
	@if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then echo "nginx: $$(/usr/sbin/nginx -v 2>&1)"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	else echo "nginx missing: run 'sudo apt-get install nginx' for the nginx tests (they are skipped without it)"; fi

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-*; touch $@

npm: $(NODE_STAMP)

migrate: install
	$(PY) manage.py migrate --no-input -v0

demo: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --no-input -v0
	@echo ""
	@echo "  http://$(HOST):$(PORT)/   演示账号（密码 eldercare-demo）："
	@echo "    county   县民政局        town     锦屏镇民政办"
	@echo "    village  锦屏镇第一个村  village2 锦屏镇第二个村"
	@echo "    clinic   锦屏镇卫生院    police   锦屏镇派出所"
	@echo ""
	@# The background-job worker (census imports) runs beside the web server and stops with it.
	$(PY) manage.py db_worker --no-reload -v0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: migrate
	$(PY) manage.py db_worker --no-reload

test: install browser nginx npm
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run -v1
	$(PY) -m pytest --create-db -q -n 2

# The browser tests again, writing their screenshots to docs/screenshots/ (look at them after).
screenshots: install browser npm
	SCREENSHOTS=1 $(PY) -m pytest --create-db -q -n 2 tests/e2e

lint: install
	$(PY) -m ruff check .

bench: migrate
	$(PY) -m bench

# The province-scale dataset (1,000,000 elders, 20,000,000 visits: ~10 GB, its own database) and
# the oversight pages' timings on it (docs/performance.md "Province scale").
bench-province: install
	$(PY) -m bench.province --flush
	$(PY) -m bench.province --measure

stop-db:
	$(PY) -m eldercare.embedded_db stop

clean: stop-db
	rm -rf var node_modules
