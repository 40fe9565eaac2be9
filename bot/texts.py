"""Every string the bot shows, in Chinese (default) and English (``language_code`` "en…").

Strings are ``str.format`` templates; values from the archive or the user are escaped by the
caller before formatting, so templates may contain Telegram-HTML tags.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

_TEXTS: dict[str, dict[Lang, str]] = {
    "start": {
        "zh": "<b>你好！我是报纸问答机器人。</b>\n"
              "用文字问我关于报纸的问题，我会引用报道原文作答，并注明标题、记者和日期；"
              "找不到就直说。\n\n试试这些问题：\n{examples}\n\n"
              "/search 关键词 查找报道 · /latest 最新报道 · /help 帮助",
        "en": "<b>Hello! I answer questions about the newspaper archive.</b>\n"
              "Ask in plain text; I reply by quoting the articles, with headline, reporter and "
              "date, and I say so when the archive has no answer.\n\nTry:\n{examples}\n\n"
              "/search words to find articles · /latest newest articles · /help",
    },
    "help": {
        "zh": "<b>使用方法</b>\n"
              "· 直接发送问题，例如“冠县有多少家绿色建材企业？”；可以接着追问，如“那它在哪里？”\n"
              "· 答案下方：📄 原文 看全文，🔎 更多 看其他报道，👍/👎 反馈\n"
              "· /search 关键词 — 相关报道标题和摘录\n"
              "· /latest — 最新报道\n"
              "· /about — 资料库概况\n"
              "· /reset — 重新开始对话\n"
              "· 群组中：@我 提问、回复我的消息，或用 /ask 问题\n"
              "· 任意聊天中输入 @{bot} 关键词 可以分享报道摘录",
        "en": "<b>How to use</b>\n"
              "· Send a question; follow-ups like “and where is it?” work too\n"
              "· Under an answer: 📄 原文 reads the article, 🔎 更多 shows more results, 👍/👎 "
              "feedback\n"
              "· /search words — headlines with excerpts\n"
              "· /latest — newest articles\n"
              "· /about — what the archive holds\n"
              "· /reset — start a new conversation\n"
              "· In groups: mention me, reply to me, or use /ask question\n"
              "· In any chat type @{bot} words to share an excerpt",
    },
    "cmd_start": {"zh": "开始使用", "en": "Start"},
    "cmd_help": {"zh": "使用帮助", "en": "Help"},
    "cmd_search": {"zh": "按关键词查找报道", "en": "Find articles by keyword"},
    "cmd_latest": {"zh": "最新报道", "en": "Newest articles"},
    "cmd_about": {"zh": "资料库概况", "en": "About the archive"},
    "cmd_reset": {"zh": "重新开始对话", "en": "Forget the conversation"},
    "cmd_ask": {"zh": "提问（群组中使用）", "en": "Ask a question (in groups)"},
    "no_examples": {"zh": "（资料库还是空的）", "en": "(the archive is still empty)"},
    "understood_as": {"zh": "理解为：", "en": "Understood as: "},
    "not_found": {
        "zh": "没有在报纸资料中找到“{question}”的答案。",
        "en": "The archive has no answer to “{question}”.",
    },
    "nothing_more": {
        "zh": "关于“{question}”，报纸资料中没有更多内容了。",
        "en": "The archive has nothing more about “{question}”.",
    },
    "answer_label": {"zh": "答：", "en": "Answer: "},
    "suggestions": {"zh": "相近的报道：", "en": "Closest articles:"},
    "sources": {"zh": "出处：", "en": "Sources:"},
    "reporter": {"zh": "记者 {names}", "en": "by {names}"},
    "untitled": {"zh": "（无标题）", "en": "(untitled)"},
    "btn_article": {"zh": "📄 原文 {n}", "en": "📄 原文 {n}"},
    "btn_more": {"zh": "🔎 更多", "en": "🔎 更多"},
    "btn_prev": {"zh": "◀", "en": "◀"},
    "btn_next": {"zh": "▶", "en": "▶"},
    "page_of": {"zh": "第 {page}/{pages} 页", "en": "page {page}/{pages}"},
    "no_more": {"zh": "没有更多结果了。", "en": "No more results."},
    "article_gone": {
        "zh": "这篇报道已不在资料库中。", "en": "That article is no longer in the archive.",
    },
    "button_expired": {
        "zh": "这个按钮已失效，请重新提问。", "en": "This button has expired; please ask again.",
    },
    "thanks_up": {"zh": "谢谢反馈 👍", "en": "Thanks for the feedback 👍"},
    "thanks_down": {"zh": "谢谢反馈，我们会改进 👎", "en": "Thanks, we will improve 👎"},
    "search_usage": {"zh": "用法：/search 关键词", "en": "Usage: /search words"},
    "ask_usage": {"zh": "用法：/ask 问题", "en": "Usage: /ask question"},
    "search_none": {"zh": "没有找到相关报道。", "en": "No articles found."},
    "search_head": {"zh": "<b>关于“{query}”的报道：</b>", "en": "<b>Articles about “{query}”:</b>"},
    "latest_head": {"zh": "<b>最新报道：</b>", "en": "<b>Newest articles:</b>"},
    "latest_none": {"zh": "资料库还是空的。", "en": "The archive is empty."},
    "about": {
        "zh": "<b>资料库概况</b>\n报道：{articles} 篇（{chunks} 个段落）\n日期：{dates}\n"
              "来源：{sources}\n模型：{model}",
        "en": "<b>About the archive</b>\nArticles: {articles} ({chunks} passages)\n"
              "Dates: {dates}\nSources: {sources}\nModel: {model}",
    },
    "unknown": {"zh": "未知", "en": "unknown"},
    "reset_done": {"zh": "好的，对话已重新开始。", "en": "OK, the conversation starts afresh."},
    "empty_question": {"zh": "请用文字提问。", "en": "Please ask in words."},
    "too_long": {
        "zh": "问题太长了（{length} 字），请缩短到 {limit} 字以内。",
        "en": "That question is too long ({length} characters); please keep it under {limit}.",
    },
    "text_only": {
        "zh": "我只能读文字消息，请用文字提问。",
        "en": "I can only read text messages; please type your question.",
    },
    "rate_limited": {
        "zh": "提问太快了，请 {seconds} 秒后再试。",
        "en": "Too many questions; please try again in {seconds} s.",
    },
    "not_allowed": {
        "zh": "抱歉，这个机器人只对授权用户开放。",
        "en": "Sorry, this bot is only open to authorised users.",
    },
    "upload_refused": {
        "zh": "抱歉，只有管理员可以上传稿件。",
        "en": "Sorry, only administrators can add articles.",
    },
    "upload_bad_type": {
        "zh": "不支持这种文件：{name}。请发送 .txt、.md、.jsonl、.html 或 .pdf 文件（扫描版面也可发"
              " .png、.jpg、.tif 图片）。",
        "en": "Unsupported file: {name}. Send a .txt, .md, .jsonl, .html or .pdf file (or a page "
              "scan as .png, .jpg or .tif).",
    },
    "upload_too_big": {
        "zh": "文件太大（{size} MB），上限 {limit} MB。",
        "en": "The file is too large ({size} MB); the limit is {limit} MB.",
    },
    "upload_progress": {"zh": "正在导入 {name}…", "en": "Importing {name}…"},
    "upload_progress_n": {
        "zh": "正在导入 {name}：{done}/{total} 篇…",
        "en": "Importing {name}: {done}/{total} articles…",
    },
    "upload_summary": {
        "zh": "<b>导入完成：{name}</b>\n新增 {added} 篇，替换 {replaced} 篇，未变 {unchanged} 篇，"
              "拒收 {rejected} 个。",
        "en": "<b>Imported {name}</b>\n{added} added, {replaced} replaced, {unchanged} unchanged, "
              "{rejected} rejected.",
    },
    "upload_rejected": {
        "zh": "<b>未导入：{name}</b>\n原因：{reason}",
        "en": "<b>Not imported: {name}</b>\nReason: {reason}",
    },
    "upload_no_articles": {"zh": "文件中没有找到报道。", "en": "no articles found in the file."},
    "apology": {
        "zh": "抱歉，出了点问题，请稍后再试。",
        "en": "Sorry, something went wrong. Please try again later.",
    },
    "inline_share": {"zh": "分享这段摘录", "en": "Share this excerpt"},
}


def lang_of(language_code: str | None) -> Lang:
    """English for English-speaking users, Chinese for everyone else (the archive's language)."""
    return "en" if language_code and language_code.lower().startswith("en") else "zh"


def text(key: str, lang: Lang, **values: object) -> str:
    """The ``key`` string in ``lang``, with ``values`` filled in."""
    template = _TEXTS[key][lang]
    return template.format(**values) if values else template
