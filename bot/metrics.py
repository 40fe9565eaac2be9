"""Prometheus metrics and ``/healthz`` for the bot (``newsqa serve --metrics-port N``).

Counters live in the bot's own registry (not the process-global one), so two bots in one
test process do not collide. The index figures are read at scrape time from ``Library.about``,
which is cached per database generation, so a scrape costs no scan of the archive.

The HTTP side is the standard library's WSGI server in a daemon thread: prometheus-client's
``make_wsgi_app`` serves the metrics, and one small branch in front of it answers ``/healthz``;
the bot's event loop is never involved, so a scrape cannot delay an answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from retrieval.errors import InputError

if TYPE_CHECKING:
    from retrieval.library import Library

logger = logging.getLogger(__name__)

# Questions take ~0.1 s alone and seconds under a burst (docs/bot.md "Capacity").
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """What the handlers count: questions by outcome, answer latency, votes, errors."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.questions = Counter(
            "newsqa_questions", "Questions answered, by outcome", ["outcome"],
            registry=self.registry)
        self.latency = Histogram(
            "newsqa_answer_seconds", "Seconds from a question's arrival to its answer",
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self.votes = Counter("newsqa_votes", "Reader feedback votes", ["vote"],
                             registry=self.registry)
        self.errors = Counter("newsqa_errors", "Exceptions raised while handling updates",
                              registry=self.registry)
        for outcome in ("answered", "not_found"):  # exported at 0 before the first question
            self.questions.labels(outcome)
        for vote in ("up", "down"):
            self.votes.labels(vote)

    def answered(self, *, found: bool, seconds: float) -> None:
        self.questions.labels("answered" if found else "not_found").inc()
        self.latency.observe(seconds)

    def voted(self, *, up: bool) -> None:
        self.votes.labels("up" if up else "down").inc()

    def error(self) -> None:
        self.errors.inc()

    def watch(self, library: Library) -> None:
        """Export the archive's size and last write alongside the counters."""
        self.registry.register(_IndexCollector(library))


class _IndexCollector(Collector):
    def __init__(self, library: Library) -> None:
        self.library = library

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = self.library.about()
        yield GaugeMetricFamily("newsqa_index_articles", "Articles in the index",
                                value=stats.articles)
        yield GaugeMetricFamily("newsqa_index_chunks", "Passages in the index",
                                value=stats.chunks)
        yield GaugeMetricFamily("newsqa_index_bytes", "Index size on disk",
                                value=stats.bytes_on_disk)
        yield GaugeMetricFamily(
            "newsqa_index_chunks_pending_vectors",
            "Passages found by word search that still wait for their vectors",
            value=stats.pending_vectors)
        if stats.updated:
            yield GaugeMetricFamily(
                "newsqa_index_last_ingest_timestamp_seconds",
                "Unix time of the index's last committed ingest or delete",
                value=datetime.fromisoformat(stats.updated).timestamp())


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("metrics %s", format % args)


def serve(metrics: Metrics, port: int, *, host: str = "127.0.0.1",
          healthy: Callable[[], str | None]) -> WSGIServer:
    """Serve ``/metrics`` and ``/healthz`` on ``host:port`` in a daemon thread.

    ``healthy()`` returns None when all is well, else what is wrong (``/healthz`` then
    answers 503 with that text).
    """
    metrics_app = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            problem = healthy()
            body = (problem or "ok").encode("utf-8") + b"\n"
            status = "200 OK" if problem is None else "503 Service Unavailable"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                                    ("Content-Length", str(len(body)))])
            return [body]
        return metrics_app(environ, start_response)

    try:
        server = make_server(host, port, app, server_class=_Server, handler_class=_QuietHandler)
    except OSError as exc:  # port taken, address not on this machine…
        raise InputError(f"cannot serve metrics on {host}:{port} ({exc.strerror or exc}); "
                         "choose another --metrics-port or --metrics-host") from exc
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("metrics on http://%s:%d/metrics, health on /healthz", host, port)
    return server
