"""Questions from many chats, answered in batches: one embedding call for all that are waiting.

``Library.ask_batch`` embeds a list of questions in one model call, which on a CPU costs little
more than embedding one. The batcher never waits to fill a batch: the first question starts at
once, and whatever arrives while it runs goes into the next batch together. Batches run in a
worker thread so the event loop keeps serving other updates.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from retrieval.answer.conversation import History
from retrieval.answer.types import Answer
from retrieval.library import Library
from retrieval.limits import check_question

MAX_BATCH = 32


@dataclass
class _Pending:
    question: str
    history: History | None
    k: int
    offset: int
    future: asyncio.Future[Answer]


class Asker:
    """``await asker.ask(...)`` ≡ ``Library.ask(...)`` run off the event loop, batched."""

    def __init__(self, library: Library, max_batch: int = MAX_BATCH) -> None:
        self.library = library
        self.max_batch = max_batch
        self._pending: list[_Pending] = []
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # for the benchmark: how many ask_batch calls served the questions

    async def ask(self, question: str, *, history: History | None = None, k: int = 3,
                  offset: int = 0) -> Answer:
        # Checked here, not only in ask_batch: a question the library refuses (InputError)
        # must fail its own caller, not every question batched with it.
        question = check_question(question)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(question, history, k, offset, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            head = self._pending[0]
            # One ask_batch call takes one (k, offset); others wait for the next round.
            batch = [p for p in self._pending if (p.k, p.offset) == (head.k, head.offset)]
            batch = batch[: self.max_batch]
            taken = {id(p) for p in batch}
            self._pending = [p for p in self._pending if id(p) not in taken]
            self.batches += 1
            try:
                answers = await asyncio.to_thread(
                    self.library.ask_batch, [p.question for p in batch],
                    histories=[p.history for p in batch], k=head.k, offset=head.offset,
                )
            except Exception as exc:  # each caller's handler reports it to its own user
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            for pending, answer in zip(batch, answers, strict=True):
                if not pending.future.done():
                    pending.future.set_result(answer)
