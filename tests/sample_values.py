"""Test data every test file shares: the sample page, its best-known question, test users.

Import as ``from tests.sample_values import …`` (pytest puts the repository on ``sys.path``).
Not ``constants.py``: pytest puts tests/ on ``sys.path`` too, and onnxruntime's optimizer
(building the reader's ONNX model, which a test run does when the weights are new) imports a
top-level ``constants`` module of its own; this file shadowed it.
"""

from __future__ import annotations

from pathlib import Path

from tests.telegram.harness import User

ROOT = Path(__file__).resolve().parent.parent
# One page of 聊城日报 (October 2023), bundled with the package as the sample corpus.
SAMPLE_PAGE = ROOT / "retrieval" / "data" / "liaocheng-daily-page.txt"
SAMPLE_SOURCE = "聊城日报"
# A question the sample page answers, and the words of its answer.
QUESTION = "冠县有多少家绿色建材企业？"
ANSWER = "冠县共有绿色建材企业15家"
ANSWER_HEADLINE = "链上发力 攀高向强"

# Telegram users of the bot tests (offline and end to end).
ADMIN = User(4242, "编辑", "editor")
READER = User(1001, "读者", "reader")
STRANGER = User(777, "路人", "stranger")
ENGLISH = User(1002, "Reader", "reader", language_code="en")
