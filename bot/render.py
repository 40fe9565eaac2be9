"""Library values → Telegram HTML and inline keyboards. Plain functions, no I/O.

Everything taken from the archive or the user goes through ``escape``; the only tags produced
are b, i and u, so every message passes Telegram's HTML parser. Long texts are packed into
messages of at most 4,096 visible characters without cutting a citation in two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)
from telegram.constants import ParseMode

from retrieval.answer.types import Answer, Citation, Headline, SearchResult
from retrieval.articles import Article

from . import callbacks
from .html import MAX_MESSAGE_LENGTH, escape, split_html, visible_length
from .texts import Lang, text

# Room kept on each article page for the "第 2/3 页" footer.
PAGE_FOOTER_ROOM = 40
ARTICLE_PAGE_LIMIT = MAX_MESSAGE_LENGTH - PAGE_FOOTER_ROOM
INLINE_DESCRIPTION_CHARS = 120
EXAMPLE_TITLE_CHARS = 12
# How the quoted span is marked in 原文; <u> appears nowhere else, so it also finds the page.
QUOTE_OPEN, QUOTE_CLOSE = "<b><u>", "</u></b>"


@dataclass(frozen=True, slots=True)
class Rendered:
    """Messages to send in order; the keyboard goes on the last one."""

    parts: list[str]
    keyboard: InlineKeyboardMarkup | None = None


# -- pieces ----------------------------------------------------------------------------------


def byline(title: str | None, authors: Sequence[str], date: str | None, source: str | None,
           page: str | None, lang: Lang) -> str:
    """《标题》 · 记者 甲、乙 · 2023-10-09 · 聊城日报 A1 (escaped HTML)."""
    head = f"《{escape(title)}》" if title else text("untitled", lang)
    meta = meta_line(authors, date, source, page, lang)
    return f"{head} · {meta}" if meta else head


def meta_line(authors: Sequence[str], date: str | None, source: str | None, page: str | None,
              lang: Lang) -> str:
    """记者 甲、乙 · 2023-10-09 · 聊城日报 A1 — empty when nothing is known."""
    bits = []
    if authors:
        bits.append(text("reporter", lang, names=escape("、".join(authors))))
    if date:
        bits.append(escape(date))
    where = " ".join(x for x in (source, page) if x)
    if where:
        bits.append(escape(where))
    return " · ".join(bits)


def citation_byline(citation: Citation, lang: Lang) -> str:
    return byline(citation.title, citation.authors, citation.date, citation.source,
                  citation.page, lang)


def headline_line(headline: Headline, lang: Lang) -> str:
    return byline(headline.title, (), headline.date, headline.source, None, lang)


def quote_html(citation: Citation, *, with_context: bool) -> str:
    """The cited sentences with the answering span in <b>; GAP marks omitted text."""
    parts: list[str] = []
    for segment in citation.pieces(with_context=with_context):
        body = escape(segment.text.replace("\n", " "))
        parts.append(f"<b>{body}</b>" if segment.role == "highlight" else body)
    return "".join(parts)


def quote_span(citation: Citation) -> tuple[int, int]:
    """Offsets of the quoted sentences in the article, for marking them in 原文."""
    return citation.sentences[0].start, citation.sentences[-1].end


def _button(label: str, callback: callbacks.Callback) -> InlineKeyboardButton | None:
    try:
        return InlineKeyboardButton(label, callback_data=callbacks.encode(callback))
    except ValueError:  # an imported id too long for 64 bytes: no button rather than a bad one
        return None


def _row(*buttons: InlineKeyboardButton | None) -> list[InlineKeyboardButton]:
    return [b for b in buttons if b is not None]


def pack(blocks: Sequence[str | tuple[str, str]], limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Join blocks into as few messages as fit; only a block longer than a message is cut.

    A block is HTML, joined to the previous one by a blank line, or ``(separator, html)``.
    """
    parts: list[str] = []
    current = ""
    for item in blocks:
        separator, block = item if isinstance(item, tuple) else ("\n\n", item)
        candidate = f"{current}{separator}{block}" if current else block
        if visible_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        if visible_length(block) <= limit:
            current = block
        else:
            *whole, current = split_html(block, limit)
            parts.extend(whole)
    if current:
        parts.append(current)
    return parts


# -- answers ---------------------------------------------------------------------------------


def answer_message(answer: Answer, *, offset: int, k: int, lang: Lang) -> Rendered:
    """An answer: the quote with its answering span bold, then numbered sources; buttons."""
    blocks: list[str | tuple[str, str]] = []
    if answer.resolved.strip() != answer.question.strip():
        blocks.append(f"<i>{text('understood_as', lang)}{escape(answer.resolved)}</i>")
    rows: list[list[InlineKeyboardButton]] = []
    if answer.found:
        first = answer.citations[0]
        if answer.span:
            blocks.append(f"{text('answer_label', lang)}<b>{escape(answer.span)}</b>")
        blocks.append(f"{quote_html(first, with_context=False)} [{first.n}]")
        # One block per citation, so a split never separates a source from its quote.
        for citation in answer.citations:
            line = f"[{citation.n}] {citation_byline(citation, lang)}"
            if citation.n > 1:
                line += f"\n{quote_html(citation, with_context=False)}"
            if citation.n == 1:
                blocks.append(f"{text('sources', lang)}\n{line}")
            else:
                blocks.append(("\n", line))
        rows.append(_row(*(
            _button(text("btn_article", lang, n=c.n), callbacks.OpenArticle(c.article_id,
                                                                            *quote_span(c)))
            for c in answer.citations
        )))
    else:
        if answer.more:
            message = text("nothing_more", lang, question=answer.resolved)
        else:
            message = text("not_found", lang, question=answer.question.strip())
        blocks.append(escape(message))
        if answer.suggestions:
            lines = [text("suggestions", lang)]
            lines += [f"[{n}] {headline_line(h, lang)}"
                      for n, h in enumerate(answer.suggestions, start=1)]
            blocks.append("\n".join(lines))
            rows.append(_row(*(
                _button(text("btn_article", lang, n=n), callbacks.OpenArticle(h.article_id))
                for n, h in enumerate(answer.suggestions, start=1)
            )))
    rows.append(_row(
        _button(text("btn_more", lang), callbacks.MoreResults(offset + k)) if answer.found
        else None,
        _button("👍", callbacks.Vote(True)),
        _button("👎", callbacks.Vote(False)),
    ))
    return Rendered(pack(blocks), InlineKeyboardMarkup([r for r in rows if r]))


# -- articles --------------------------------------------------------------------------------


def article_pages(article: Article, start: int, end: int, lang: Lang) -> tuple[list[str], int]:
    """The whole article as pages of Telegram HTML with the quoted span ``start:end`` marked
    (bold, underlined); also the index of the page where that span begins (0 if none)."""
    body = article.text
    quoted = 0 <= start < end <= len(body)
    if quoted:
        marked = (escape(body[:start]) + QUOTE_OPEN + escape(body[start:end]) + QUOTE_CLOSE
                  + escape(body[end:]))
    else:
        marked = escape(body)
    head = [f"<b>{escape(article.title)}</b>" if article.title else text("untitled", lang)]
    if article.subtitle:
        head.append(escape(article.subtitle))
    meta = meta_line(article.authors, article.date, article.source, article.page, lang)
    if meta:
        head.append(meta)
    # Paragraphs separated by blank lines read better on a phone than single newlines.
    pages = split_html("\n".join(head) + "\n\n" + marked.replace("\n", "\n\n"),
                       ARTICLE_PAGE_LIMIT)
    quote_page = next((i for i, p in enumerate(pages) if "<u>" in p), 0) if quoted else 0
    if len(pages) > 1:
        pages = [f"{p}\n\n<i>{text('page_of', lang, page=i, pages=len(pages))}</i>"
                 for i, p in enumerate(pages, start=1)]
    return pages, quote_page


def article_keyboard(article_id: str, page: int, pages: int, start: int,
                     end: int, lang: Lang) -> InlineKeyboardMarkup | None:
    """◀ ▶ under an article page (None for a one-page article)."""
    if pages <= 1:
        return None
    row = _row(
        _button(text("btn_prev", lang), callbacks.ArticlePage(article_id, page - 1, start, end))
        if page > 0 else None,
        _button(text("btn_next", lang), callbacks.ArticlePage(article_id, page + 1, start, end))
        if page < pages - 1 else None,
    )
    return InlineKeyboardMarkup([row]) if row else None


# -- search, latest, about, start ------------------------------------------------------------


def search_message(query: str, results: Sequence[SearchResult], lang: Lang) -> Rendered:
    """Headlines with the best passage of each, numbered, with 📄 buttons."""
    if not results:
        return Rendered([text("search_none", lang)])
    blocks = [text("search_head", lang, query=escape(query))]
    for n, result in enumerate(results, start=1):
        citation = result.citation
        blocks.append(f"<b>{n}.</b> {citation_byline(citation, lang)}\n"
                      f"{quote_html(citation, with_context=True)}")
    buttons = [_button(text("btn_article", lang, n=n),
                       callbacks.OpenArticle(r.citation.article_id, *quote_span(r.citation)))
               for n, r in enumerate(results, start=1)]
    return Rendered(pack(blocks), _keyboard_rows(buttons))


def latest_message(articles: Sequence[Article], lang: Lang) -> Rendered:
    if not articles:
        return Rendered([text("latest_none", lang)])
    lines = [text("latest_head", lang)]
    lines += [f"{n}. {byline(a.title, a.authors, a.date, a.source, a.page, lang)}"
              for n, a in enumerate(articles, start=1)]
    buttons = [_button(text("btn_article", lang, n=n), callbacks.OpenArticle(a.id))
               for n, a in enumerate(articles, start=1)]
    return Rendered(pack(lines), _keyboard_rows(buttons))


def _keyboard_rows(buttons: Sequence[InlineKeyboardButton | None],
                   per_row: int = 4) -> InlineKeyboardMarkup | None:
    kept = [b for b in buttons if b is not None]
    if not kept:
        return None
    return InlineKeyboardMarkup([kept[i: i + per_row] for i in range(0, len(kept), per_row)])


def about_message(*, articles: int, chunks: int, first_date: str | None,
                  last_date: str | None, sources: dict[str, int], model: str,
                  lang: Lang) -> str:
    unknown = text("unknown", lang)
    if first_date and last_date:
        dates = escape(first_date if first_date == last_date else f"{first_date} – {last_date}")
    else:
        dates = unknown
    named = [f"{escape(name or unknown)} ({count})" for name, count in sorted(sources.items())]
    return text("about", lang, articles=articles, chunks=chunks, dates=dates,
                sources="、".join(named) or unknown, model=escape(model))


def example_questions(articles: Sequence[Article], n: int = 3) -> list[str]:
    """Candidate example questions built from real headlines (the caller keeps those that
    the library actually answers)."""
    titled = [a for a in articles if a.title and a.kind == "article"]
    # Short headlines make questions that fit on one line of a phone screen.
    titled.sort(key=lambda a: len(a.title or "") > EXAMPLE_TITLE_CHARS)
    return [f"《{a.title}》说了什么？" for a in titled[:n]]


def start_message(examples: Sequence[str], lang: Lang) -> str:
    listed = "\n".join(f"· {escape(q)}" for q in examples) or text("no_examples", lang)
    return text("start", lang, examples=listed)


def help_message(bot_username: str, lang: Lang) -> str:
    return text("help", lang, bot=escape(bot_username))


# -- inline mode -----------------------------------------------------------------------------


def inline_results(results: Sequence[SearchResult], lang: Lang) -> list[InlineQueryResultArticle]:
    """One shareable result per article: headline + excerpt; posts the cited excerpt."""
    out: list[InlineQueryResultArticle] = []
    for n, result in enumerate(results, start=1):
        citation = result.citation
        shared = (f"{quote_html(citation, with_context=False)}\n"
                  f"—— {citation_byline(citation, lang)}")
        shared = split_html(shared)[0]
        description = citation.excerpt.replace("\n", " ")
        if len(description) > INLINE_DESCRIPTION_CHARS:
            description = description[: INLINE_DESCRIPTION_CHARS - 1] + "…"
        out.append(InlineQueryResultArticle(
            id=f"{n}-{citation.article_id}"[:64],
            title=citation.title or text("untitled", lang),
            description=description,
            input_message_content=InputTextMessageContent(shared, parse_mode=ParseMode.HTML),
        ))
    return out
