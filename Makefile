# `make demo` and `make test` are the README's two commands; .ci/run calls `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint

setup: $(STAMP)

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
