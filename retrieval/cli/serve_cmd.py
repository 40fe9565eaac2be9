"""``newsqa serve`` (the Telegram bot), ``newsqa feedback export`` and ``newsqa feedback pairs``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import main
from .index_cmd import index_option


@main.command()
@index_option
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              help="Bot config file (TOML). Default: $NEWSQA_BOT_CONFIG, else "
                   "~/.config/newsqa/bot.toml if it exists.")
@click.option("--feedback", "feedback_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Feedback database (default: $NEWSQA_FEEDBACK or the user data dir).")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where conversations and rate-limit windows are kept across restarts "
                   "(default: $NEWSQA_STATE or state.sqlite in the user data dir).")
@click.option("--admin", "admins", type=int, multiple=True,
              help="Telegram user id allowed to upload documents (repeatable).")
@click.option("--allow-user", "allowed_users", type=int, multiple=True,
              help="Only these user ids (and --allow-chat chats) may use the bot (repeatable).")
@click.option("--allow-chat", "allowed_chats", type=int, multiple=True,
              help="Chat id (e.g. a group) whose members may use the bot (repeatable).")
@click.option("--rate-limit", type=click.IntRange(1), default=None,
              help="Questions per user per --rate-window seconds [default: 20].")
@click.option("--rate-window", type=click.FloatRange(min=0.1), default=None,
              help="Rate-limit window in seconds [default: 60].")
@click.option("--webhook-url", help="Receive updates by webhook at this public HTTPS URL "
                                    "instead of long polling.")
@click.option("--listen", default="127.0.0.1", show_default=True,
              help="Address the webhook server binds to (behind a reverse proxy).")
@click.option("--port", default=8443, show_default=True, type=click.IntRange(1, 65535),
              help="Port the webhook server listens on.")
@click.option("--webhook-secret", envvar="TELEGRAM_WEBHOOK_SECRET",
              help="Secret Telegram sends with each webhook call "
                   "(default: $TELEGRAM_WEBHOOK_SECRET, else random per start).")
@click.option("--metrics-port", type=click.IntRange(1, 65535),
              help="Serve Prometheus metrics on /metrics and a health check on /healthz "
                   "at this port (off by default).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Address the metrics endpoint binds to (0.0.0.0 inside a container).")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Logging detail on stderr (the bot token is always redacted).")
def serve(index_dir: Path | None, config: Path | None, feedback_path: Path | None,
          state_path: Path | None, admins: tuple[int, ...], allowed_users: tuple[int, ...],
          allowed_chats: tuple[int, ...], rate_limit: int | None, rate_window: float | None,
          webhook_url: str | None, listen: str, port: int, webhook_secret: str | None,
          metrics_port: int | None, metrics_host: str, log_level: str) -> None:
    """Run the Telegram bot (token: $TELEGRAM_BOT_TOKEN or the config file).

    Long polling by default; --webhook-url switches to a webhook. Stops cleanly on
    SIGINT/SIGTERM. Bot API server: $TELEGRAM_API_BASE_URL (default api.telegram.org).
    """
    from bot.app import MetricsEndpoint, Webhook, run, setup_logging
    from bot.config import load_settings

    from ..feedback import FeedbackStore
    from ..library import Library
    from ..state import BotState

    settings = load_settings(
        config, index_dir=index_dir, feedback_path=feedback_path, admins=admins or None,
        allowed_users=allowed_users or None, allowed_chats=allowed_chats or None,
        rate_limit=rate_limit, rate_window=rate_window, state_path=state_path,
    )
    webhook = None
    if webhook_url:
        if not webhook_url.startswith("https://") and "127.0.0.1" not in webhook_url:
            raise click.BadParameter("Telegram only posts to https:// URLs",
                                     param_hint="--webhook-url")
        webhook = Webhook(webhook_url, listen=listen, port=port, secret=webhook_secret)
    setup_logging(settings.token, log_level)
    # Open the archive and load the model before taking updates, so the first user does not
    # wait for it (and a broken index fails here, with a message, not in a handler).
    library = Library.open(settings.index_dir)
    library.warm_up()
    metrics = MetricsEndpoint(metrics_port, metrics_host) if metrics_port else None
    with library, FeedbackStore.open(settings.feedback_path) as feedback, \
            BotState.open(settings.state_path) as state:
        run(settings, library, feedback, webhook=webhook, state=state, metrics=metrics)


@main.group()
def feedback() -> None:
    """Reader feedback (👍/👎) recorded by the bot."""


@feedback.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@click.option("--feedback", "feedback_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Feedback database (default: $NEWSQA_FEEDBACK or the user data dir).")
def export(fmt: str, output: Path | None, feedback_path: Path | None) -> None:
    """Write every vote with its question, answer and cited articles, oldest first."""
    from ..feedback import FeedbackStore, write_csv, write_jsonl

    with FeedbackStore.open(feedback_path, create=False) as store:
        rows = store.all()
    writer = write_csv if fmt == "csv" else write_jsonl
    if output is None:
        writer(rows, sys.stdout)
        return
    with output.open("w", encoding="utf-8", newline="") as out:
        writer(rows, out)
    click.echo(f"{output}: {len(rows)} feedback rows", err=True)


@feedback.command("pairs")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for contexts.jsonl, qa.jsonl and review.jsonl (created if missing).")
@index_option
@click.option("--feedback", "feedback_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Feedback database (default: $NEWSQA_FEEDBACK or the user data dir).")
def pairs(output: Path, index_dir: Path | None, feedback_path: Path | None) -> None:
    """Turn voted answers into question/answer pairs for training the reader.

    Each 👍 answer becomes a pair: the question, the part of the cited article the reader
    read and the short answer's place in it, in the shape `python -m retrieval.reader.train
    --data` reads (mix it with DRCD: docs/reader.md). Each answer voted 👎 goes to
    OUTPUT/review.jsonl: write the right words into its "answer" (or "" when the passage
    does not say it) and run this again; reviewed lines become pairs and are kept.
    """
    from ..feedback import REVIEW_FILE, FeedbackStore, read_review, training_pairs
    from ..library import Library

    reviewed = read_review(output / REVIEW_FILE)  # checked before anything is written
    with FeedbackStore.open(feedback_path, create=False) as store:
        rows = store.all()
    with Library.open(index_dir) as library:
        made = training_pairs(rows, library.article, reviewed)
    made.write(output)
    n = len(made.questions)
    waiting = sum(line["answer"] is None for line in made.review)
    said = [f"{output}: {n} pair{'' if n == 1 else 's'} from {len(rows)} votes"]
    if made.review:
        said.append(f"{waiting} of {len(made.review)} voted-down answers to review in "
                    f"{output / REVIEW_FILE}")
    if made.left_out:
        said.append("left out: " + ", ".join(
            f"{count} {reason}" for reason, count in sorted(made.left_out.items())))
    click.echo("; ".join(said), err=True)
