# `make demo` and `make test` are the README's two commands; .ci/run calls `make test`.
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
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/newsqa parse retrieval/data/liaocheng-daily-page.txt --source 聊城日报

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
