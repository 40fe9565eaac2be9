# `make demo` and `make test` are the README's two commands; .ci/run calls `make test`, then
# `make lint` (ruff, then mypy on retrieval/, bot/ and bench/ as pyproject.toml says).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EMULATOR := tests/telegram/emulator/node_modules/.package-lock.json

.PHONY: setup demo test lint

setup: $(STAMP) $(EMULATOR)

# Telegram Bot API emulator for the bot's end-to-end tests (tests/telegram/emulator).
$(EMULATOR): tests/telegram/emulator/package-lock.json
	npm ci --prefix tests/telegram/emulator --no-audit --no-fund --loglevel=error

# torch first, pinned to the CPU wheel: letting pip resolve it through
# sentence-transformers would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,ocr]'
	touch $(STAMP)

DEMO_INDEX := .newsqa/demo-index

# Re-running is cheap: unchanged articles are skipped by their content hash.
demo: setup
	$(VENV)/bin/newsqa ingest retrieval/data/liaocheng-daily-page.txt --source 聊城日报 --index $(DEMO_INDEX)
	$(VENV)/bin/newsqa ask "冠县有多少家绿色建材企业？" --index $(DEMO_INDEX)

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
