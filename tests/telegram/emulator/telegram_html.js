'use strict';
// Telegram's HTML parse mode for the emulator (doc #8): turns markup into the plain text and
// entities a real Bot API returns, or throws the 400 "can't parse entities" it would answer.
// Same rules and messages as tests/telegram/html_rules.py (the Python checker used by the
// harness and the offline request); offsets are UTF-16 units, which JS strings already count.

const STYLE_TAGS = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline',
  s: 'strikethrough', strike: 'strikethrough', del: 'strikethrough', 'tg-spoiler': 'spoiler',
  span: 'spoiler',
};
const OTHER_TAGS = {
  a: 'text_link', code: 'code', pre: 'pre', blockquote: 'blockquote', 'tg-emoji': 'custom_emoji',
};
const ALLOWED_ATTRIBUTES = {
  a: ['href'], span: ['class'], 'tg-emoji': ['emoji-id'], blockquote: ['expandable'], code: ['class'],
};
const NAMED = { lt: '<', gt: '>', amp: '&', quot: '"' };
const ENTITY = /^&(lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);/;
const ATTRIBUTE = /^\s*([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/;

class HtmlError extends Error {}

const fail = (what) => new HtmlError(`can't parse entities: ${what}`);

function decodeEntity(body) {
  if (NAMED[body]) return NAMED[body];
  const code = /^#[xX]/.test(body) ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
  return String.fromCodePoint(code);
}

function decodeAttribute(value, at) {
  if (value.includes('<') || /&(?!(lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);)/.test(value)) {
    throw fail(`unescaped character in attribute value at byte offset ${at}`);
  }
  return value.replace(/&(lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);/g, (_m, body) => decodeEntity(body));
}

function parseAttributes(raw, name, at) {
  const attributes = {};
  let rest = raw;
  while (rest.trim() !== '') {
    const match = ATTRIBUTE.exec(rest);
    if (!match || match[0].length === 0) {
      throw fail(`invalid attributes of tag "${name}" at byte offset ${at}`);
    }
    const value = [match[2], match[3], match[4]].find((v) => v !== undefined) || '';
    attributes[match[1].toLowerCase()] = decodeAttribute(value, at);
    rest = rest.slice(match[0].length);
  }
  return attributes;
}

function checkStartTag(name, attributes, stack, at) {
  const kind = STYLE_TAGS[name] || OTHER_TAGS[name];
  if (!kind) throw fail(`unsupported start tag "${name}" at byte offset ${at}`);
  const allowed = ALLOWED_ATTRIBUTES[name] || [];
  const unknown = Object.keys(attributes).filter((k) => !allowed.includes(k)).sort();
  if (unknown.length) {
    throw fail(`unsupported attribute "${unknown[0]}" of tag "${name}" at byte offset ${at}`);
  }
  if (name === 'a' && !attributes.href) {
    throw fail(`tag "a" must have a non-empty href attribute at byte offset ${at}`);
  }
  if (name === 'span' && attributes.class !== 'tg-spoiler') {
    throw fail(`tag "span" must have class "tg-spoiler" at byte offset ${at}`);
  }
  if (name === 'tg-emoji' && !/^\d+$/.test(attributes['emoji-id'] || '')) {
    throw fail(`tag "tg-emoji" must have a numeric emoji-id at byte offset ${at}`);
  }
  const parent = stack[stack.length - 1];
  if (name === 'code' && 'class' in attributes
      && !(attributes.class.startsWith('language-') && parent && parent.name === 'pre')) {
    throw fail(`tag "code" may have class "language-…" only inside pre, byte offset ${at}`);
  }
  if (parent && ['code', 'pre', 'custom_emoji'].includes(parent.kind)
      && !(name === 'code' && parent.kind === 'pre')) {
    throw fail(`tag "${name}" can't be nested inside "${parent.name}" at byte offset ${at}`);
  }
  const kinds = new Set(stack.map((open) => open.kind));
  if (['text_link', 'blockquote', 'custom_emoji'].includes(kind) && kinds.has(kind)) {
    throw fail(`tag "${name}" can't be nested in another "${name}" at byte offset ${at}`);
  }
  if (kind === 'pre' && kinds.has('text_link')) {
    throw fail(`tag "pre" can't be nested inside "a" at byte offset ${at}`);
  }
  return kind;
}

function toEntity(open, length) {
  const entity = { type: open.kind, offset: open.offset, length };
  if (open.kind === 'blockquote' && 'expandable' in open.attributes) entity.type = 'expandable_blockquote';
  if (open.kind === 'text_link') entity.url = open.attributes.href;
  if (open.kind === 'custom_emoji') entity.custom_emoji_id = open.attributes['emoji-id'];
  if (open.language) entity.language = open.language;
  return entity;
}

// Returns {text, entities}; throws HtmlError with Telegram's wording on invalid markup.
function parseHtml(markup) {
  let text = '';
  const entities = [];
  const stack = [];
  let pos = 0;
  const byteOffset = (p) => Buffer.byteLength(markup.slice(0, p));
  while (pos < markup.length) {
    const ch = markup[pos];
    if (ch === '<') {
      const end = markup.indexOf('>', pos);
      if (end < 0 || markup.slice(pos + 1, end).includes('<')) {
        throw fail(`unclosed start tag or unescaped "<" at byte offset ${byteOffset(pos)}`);
      }
      const inner = markup.slice(pos + 1, end).trim();
      const match = /^\/?\s*([A-Za-z][\w-]*)/.exec(inner);
      if (!match) throw fail(`empty or invalid tag at byte offset ${byteOffset(pos)}`);
      const name = match[1].toLowerCase();
      if (inner.startsWith('/')) {
        const top = stack[stack.length - 1];
        if (!top) throw fail(`unexpected end tag "${name}" at byte offset ${byteOffset(pos)}`);
        if (top.name !== name) {
          throw fail(`unmatched end tag at byte offset ${byteOffset(pos)}, expected "</${top.name}>",`
            + ` found "</${name}>"`);
        }
        stack.pop();
        const parent = stack[stack.length - 1];
        if (name === 'code' && parent && parent.name === 'pre') {
          // Telegram folds <pre><code class="language-x"> into one pre entity with a language.
          const language = (top.attributes.class || '').replace(/^language-/, '');
          if (language) parent.language = language;
        } else if (text.length > top.offset) {
          entities.push(toEntity(top, text.length - top.offset));
        }
      } else {
        const at = byteOffset(pos);
        const attributes = parseAttributes(inner.slice(match[0].length), name, at);
        const kind = checkStartTag(name, attributes, stack, at);
        stack.push({ name, kind, offset: text.length, attributes });
      }
      pos = end + 1;
    } else if (ch === '&') {
      const match = ENTITY.exec(markup.slice(pos, pos + 16));
      if (!match) throw fail(`unsupported or unescaped "&" at byte offset ${byteOffset(pos)}`);
      text += decodeEntity(match[1]);
      pos += match[0].length;
    } else if (ch === '>') {
      throw fail(`unescaped ">" at byte offset ${byteOffset(pos)}`);
    } else {
      text += ch;
      pos += 1;
    }
  }
  if (stack.length) {
    throw fail(`can't find end tag corresponding to start tag "${stack[stack.length - 1].name}"`);
  }
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

module.exports = { parseHtml, HtmlError };
