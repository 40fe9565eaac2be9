'use strict';
// Compatibility layer for telegram-test-api 4.2.1 so that python-telegram-bot 22.x can run against it.
//
// The package registers its routes from a module-level array when a TelegramServer is constructed,
// so `install()` must run before `new TelegramServer(...)`. It
//   * replaces the response middleware so Bot API errors are Telegram JSON
//     ({ok:false, error_code, description}) with a matching HTTP status (PTB maps 400 -> BadRequest,
//     409 -> Conflict; the package answered 500 {message}, which PTB reports as a NetworkError);
//   * puts its own route installer first (express matches in registration order), overriding every
//     bot method the package ships and adding the ones it lacks;
//   * replaces TelegramServer.formatUpdate so updates carry the fields PTB requires.
// Storage stays in the package's shape (storage.userMessages / storage.botMessages entries with
// botToken, updateId, messageId, message), so its own client routes and TelegramClient keep working.
// Only numbered items of ../shared/docs/telegram-emulator.md (the shared folder beside the clone) are referenced as "doc #N".

const crypto = require('crypto');
const Busboy = require('busboy');
const TelegramServer = require('telegram-test-api');
const packageRoutes = require('telegram-test-api/lib/routes/index');
const sendResultModule = require('telegram-test-api/lib/modules/sendResult');
const { parseHtml, HtmlError } = require('./telegram_html');

const MAX_POLL_SECONDS = 50; // Telegram's own cap on getUpdates.timeout
const MAX_CLIENT_WAIT_SECONDS = 30;
const MAX_TEXT_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;

// Fields PTB sends JSON-encoded inside form fields (doc #9).
const JSON_FIELDS = new Set([
  'reply_markup', 'entities', 'caption_entities', 'reply_parameters', 'link_preview_options',
  'commands', 'scope', 'results', 'button', 'menu_button', 'allowed_updates', 'media',
]);
const INT_FIELDS = new Set([
  'message_id', 'reply_to_message_id', 'offset', 'limit', 'timeout', 'cache_time', 'user_id',
  'message_thread_id', 'from_chat_id', 'max_connections',
]);
const BOOL_FIELDS = new Set([
  'disable_notification', 'protect_content', 'disable_web_page_preview', 'is_personal',
  'show_alert', 'allow_sending_without_reply', 'drop_pending_updates',
  'disable_content_type_detection', 'show_caption_above_media',
]);
const CHAT_ACTIONS = new Set([
  'typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice',
  'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note',
]);
// Keys kept on stored bot messages for the user side but not part of a Telegram Message.
// `html` / `caption_html` keep the markup the bot sent, for the harness to inspect.
const STORAGE_ONLY_KEYS = new Set([
  'chat_id', 'parse_mode', 'botToken', 'link_preview_options', 'html', 'caption_html',
]);

class ApiError extends Error {
  constructor(code, description) {
    super(description);
    this.http = code;
    this.description = description;
  }
}
const badRequest = (what) => new ApiError(400, `Bad Request: ${what}`);
const QUERY_TOO_OLD = 'query is too old and response timeout expired or query ID is invalid';

const nowSeconds = () => Math.floor(Date.now() / 1000);

function coerceParams(raw) {
  const params = {};
  for (const [key, value] of Object.entries(raw || {})) {
    if (typeof value !== 'string') {
      params[key] = value;
    } else if (JSON_FIELDS.has(key)) {
      try {
        params[key] = JSON.parse(value);
      } catch (_err) {
        throw badRequest(`can't parse ${key} JSON object`);
      }
    } else if (INT_FIELDS.has(key) && /^-?\d+$/.test(value)) {
      params[key] = Number(value);
    } else if (key === 'chat_id' && /^-?\d+$/.test(value)) {
      params[key] = Number(value); // "@channel" usernames stay strings
    } else if (BOOL_FIELDS.has(key)) {
      params[key] = value === 'true' || value === '1';
    } else {
      params[key] = value;
    }
  }
  return params;
}

function botIdFromToken(token) {
  const match = /^(\d+):/.exec(token);
  return match ? Number(match[1]) : 666;
}

function state(server) {
  if (!server.compat) {
    server.compat = {
      options: server.compatOptions || {},
      chats: new Map(), // chat id -> Chat object seen in user updates
      commands: new Map(), // `${token}|${scopeKey}|${lang}` -> BotCommand[]
      menuButtons: new Map(),
      texts: new Map(), // `${token}|${method}|${lang}` -> value for setMyName/Description...
      chatActions: [],
      files: new Map(), // file_id -> {file, data, token}
      fileSeq: 1,
      callbackQueries: new Map(), // id -> {token, answered, answer}
      inlineQueries: new Map(), // id -> {token, answer}
      inlineQuerySeq: 1,
      inlineEdits: [],
      allowedUpdates: new Map(),
      pollCounts: new Map(), // token -> getUpdates calls received, so tests can wait for a bot
      pollers: new Map(), // token -> pending getUpdates
      waiters: new Set(), // pending client-side waits
    };
  }
  return server.compat;
}

function botUser(server, token) {
  const opts = state(server).options;
  return {
    id: botIdFromToken(token),
    is_bot: true,
    first_name: opts.botFirstName || 'Newsqa Test Bot',
    username: opts.botUsername || 'NewsqaTestBot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: true,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

function chatFor(server, chatId) {
  const known = state(server).chats.get(Number(chatId));
  if (known) return known;
  return Number(chatId) < 0
    ? { id: Number(chatId), type: 'group', title: `Group ${chatId}` }
    : { id: Number(chatId), type: 'private', first_name: 'TestName' };
}

function publicMessage(message) {
  const out = {};
  for (const [key, value] of Object.entries(message)) {
    if (!STORAGE_ONLY_KEYS.has(key) && value !== undefined) out[key] = value;
  }
  return out;
}

function userMessageDefaults(server, message, messageId) {
  const from = { id: 1, is_bot: false, first_name: 'TestName', username: 'testUserName', ...message.from };
  const chat = message.chat
    ? { ...message.chat, id: Number(message.chat.id) }
    : { id: from.id, type: 'private', first_name: from.first_name, username: from.username };
  const out = { ...message, message_id: messageId, from, chat, date: message.date || nowSeconds() };
  delete out.botToken;
  if (out.date > 1e11) out.date = Math.floor(out.date / 1000); // milliseconds from old clients
  return out;
}

function findBotEntry(server, token, chatId, messageId) {
  return server.storage.botMessages.find((entry) => entry.botToken === token
    && entry.messageId === Number(messageId)
    && Number(entry.message.chat.id) === Number(chatId));
}

function findAnyMessage(server, token, chatId, messageId) {
  const bot = findBotEntry(server, token, chatId, messageId);
  if (bot) return publicMessage(bot.message);
  const user = server.storage.userMessages.find((entry) => entry.botToken === token
    && entry.message && entry.messageId === Number(messageId)
    && Number((entry.message.chat || {}).id) === Number(chatId));
  return user ? TelegramServer.formatUpdate(user).message : undefined;
}

function formatUpdate(update) {
  const base = { update_id: update.updateId };
  if ('raw' in update) return { ...update.raw, ...base };
  if ('callbackQuery' in update) {
    const cq = update.callbackQuery;
    const query = {
      id: String(update.callbackId),
      from: cq.from,
      chat_instance: cq.chat_instance,
      data: cq.data,
    };
    if (cq.message) {
      // doc #4: the package's client sends a bare {from, chat}; PTB requires id and date.
      query.message = {
        message_id: cq.message.message_id || 0,
        date: cq.message.date || nowSeconds(),
        ...cq.message,
      };
      delete query.message.botToken;
    }
    if (cq.inline_message_id) query.inline_message_id = cq.inline_message_id;
    if (cq.game_short_name) query.game_short_name = cq.game_short_name;
    return { ...base, callback_query: query };
  }
  if ('inlineQuery' in update) return { ...base, inline_query: update.inlineQuery };
  if ('chosenInlineResult' in update) {
    return { ...base, chosen_inline_result: update.chosenInlineResult };
  }
  const message = { ...update.message, message_id: update.messageId };
  delete message.botToken;
  return { ...base, message };
}

// --- long polling (doc #5) -------------------------------------------------------------------

function confirmUpdates(server, token, offset) {
  const mine = server.storage.userMessages.filter((u) => u.botToken === token && !u.isRead);
  if (offset < 0) {
    // "-N": keep only the last N pending updates, forget the rest (Bot API semantics).
    mine.slice(0, Math.max(0, mine.length + offset)).forEach((u) => { u.isRead = true; });
  } else {
    mine.filter((u) => u.updateId < offset).forEach((u) => { u.isRead = true; });
  }
}

function pendingUpdates(server, token, limit) {
  const allowed = state(server).allowedUpdates.get(token);
  const out = [];
  for (const entry of server.storage.userMessages) {
    if (entry.botToken !== token || entry.isRead) continue;
    const update = TelegramServer.formatUpdate(entry);
    const kind = Object.keys(update).find((k) => k !== 'update_id');
    if (allowed && allowed.length && !allowed.includes(kind)) {
      entry.isRead = true; // Telegram drops update types the bot did not ask for
      continue;
    }
    out.push(update);
    if (out.length >= limit) break;
  }
  return out.sort((a, b) => a.update_id - b.update_id);
}

function notify(server, kind, token) {
  for (const waiter of [...state(server).waiters]) waiter.check(kind, token);
}

// Resolve `compute()` now if it yields a value, else when a notification of `kinds` makes it
// yield one, else with `onTimeout()` after `seconds`. The HTTP response is the only consumer.
function waitFor(server, res, seconds, kinds, compute, onTimeout) {
  const first = compute();
  if (first !== undefined || seconds <= 0) {
    res.json({ ok: true, result: first === undefined ? onTimeout() : first });
    return undefined;
  }
  const st = state(server);
  const waiter = {
    done: false,
    finish(result) {
      if (waiter.done) return;
      waiter.done = true;
      clearTimeout(waiter.timer);
      st.waiters.delete(waiter);
      if (!res.headersSent && !res.writableEnded) res.json(result);
    },
    check(kind) {
      if (!kinds.includes(kind) && kind !== 'release') return;
      if (kind === 'release') { waiter.finish({ ok: true, result: onTimeout() }); return; }
      const value = compute();
      if (value !== undefined) waiter.finish({ ok: true, result: value });
    },
  };
  waiter.timer = setTimeout(() => waiter.finish({ ok: true, result: onTimeout() }), seconds * 1000);
  res.on('close', () => waiter.finish(null));
  st.waiters.add(waiter);
  return waiter;
}

function releaseAll(server) {
  notify(server, 'release');
}

// --- bot routes ------------------------------------------------------------------------------

function storeFile(server, token, { data, fileName, mimeType, kind }) {
  const st = state(server);
  const seq = st.fileSeq++;
  const uniqueId = crypto.createHash('sha1').update(data).digest('hex').slice(0, 16);
  const fileId = `${kind}-${seq}-${uniqueId}`;
  const safeName = (fileName || `file_${seq}`).replace(/[^\w.\-]+/g, '_');
  const file = {
    file_id: fileId,
    file_unique_id: uniqueId,
    file_size: data.length,
    file_path: `${kind}s/${seq}_${safeName}`,
  };
  st.files.set(fileId, { file, data, token, fileName: fileName || safeName, mimeType });
  return st.files.get(fileId);
}

function addBotMessage(server, token, params, content) {
  const chatId = params.chat_id;
  if (chatId === undefined || chatId === '') throw badRequest('chat_id is empty');
  const messageId = server.messageId++;
  const updateId = server.updateId++;
  const message = {
    message_id: messageId,
    from: botUser(server, token),
    date: nowSeconds(),
    chat: chatFor(server, chatId),
    ...content,
    chat_id: Number(chatId),
    parse_mode: params.parse_mode,
    link_preview_options: params.link_preview_options,
  };
  const markup = params.reply_markup;
  if (markup && markup.inline_keyboard) message.reply_markup = markup; // only inline ones echo back
  const replyTo = (params.reply_parameters && params.reply_parameters.message_id)
    || params.reply_to_message_id;
  if (replyTo) {
    const original = findAnyMessage(server, token, chatId, replyTo);
    if (original) message.reply_to_message = original;
    else if (!(params.reply_parameters || {}).allow_sending_without_reply) {
      throw badRequest('message to be replied not found');
    }
  }
  const entry = {
    time: Date.now(), botToken: token, message, updateId, messageId, isRead: false, version: 0,
  };
  server.storage.botMessages.push(entry);
  server.emit('AddedBotMessage');
  notify(server, 'bot', token);
  return publicMessage(message);
}

function sameMarkup(a, b) {
  return JSON.stringify(a || null) === JSON.stringify(b || null);
}

function editBotMessage(server, token, params, change) {
  if (params.inline_message_id) {
    state(server).inlineEdits.push({ token, time: Date.now(), ...params });
    return true;
  }
  const entry = findBotEntry(server, token, params.chat_id, params.message_id);
  if (!entry) throw badRequest('message to edit not found');
  const before = entry.message;
  const after = { ...before, ...change };
  // Telegram drops the inline keyboard unless the edit repeats it.
  if (params.reply_markup && params.reply_markup.inline_keyboard) {
    after.reply_markup = params.reply_markup;
  } else {
    delete after.reply_markup;
  }
  const rendered = (m) => JSON.stringify([m.text, m.entities, m.caption, m.caption_entities]);
  const unchanged = rendered(after) === rendered(before)
    && sameMarkup(after.reply_markup, before.reply_markup);
  if (unchanged) {
    throw badRequest('message is not modified: specified new message content and reply markup are'
      + ' exactly the same as a current content and reply markup of the message');
  }
  after.edit_date = nowSeconds();
  entry.message = after;
  entry.version += 1;
  server.emit('EditedMessageText');
  notify(server, 'edit', token);
  return publicMessage(after);
}

// Render text or a caption as Telegram does (doc #8): HTML becomes plain text plus entities, with
// 400 "can't parse entities" for bad markup; limits apply to the parsed text (UTF-16 units).
function render(raw, params, { limit, empty, tooLong, entitiesKey }) {
  if (raw === undefined || String(raw).trim() === '') throw badRequest(empty);
  const source = String(raw);
  const html = String(params.parse_mode || '').toUpperCase() === 'HTML';
  let text = source;
  let entities = params[entitiesKey];
  if (html) {
    try {
      ({ text, entities } = parseHtml(source));
    } catch (err) {
      if (err instanceof HtmlError) throw badRequest(err.message);
      throw err;
    }
  }
  if (text.trim() === '') throw badRequest(empty);
  if (text.length > limit) throw badRequest(tooLong);
  return {
    text, entities: entities && entities.length ? entities : undefined, html: html ? source : undefined,
  };
}

const renderText = (params) => render(params.text, params, {
  limit: MAX_TEXT_LENGTH, empty: 'message text is empty', tooLong: 'message is too long',
  entitiesKey: 'entities',
});
const renderCaption = (params) => render(params.caption, params, {
  limit: MAX_CAPTION_LENGTH, empty: 'message caption is empty',
  tooLong: 'message caption is too long', entitiesKey: 'caption_entities',
});

function commandKey(token, params) {
  const scope = params.scope || { type: 'default' };
  const scopeKey = [scope.type, scope.chat_id || '', scope.user_id || ''].join(':');
  return `${token}|${scopeKey}|${params.language_code || ''}`;
}

const botMethods = {
  getMe: (server, token) => botUser(server, token),
  logOut: () => true,
  close: () => true,

  getUpdates(server, token, params, req, res) {
    if (server.webhooks[token]) {
      throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active;"
        + ' use deleteWebhook to delete the webhook first');
    }
    const st = state(server);
    st.pollCounts.set(token, (st.pollCounts.get(token) || 0) + 1);
    notify(server, 'poll', token);
    if (Array.isArray(params.allowed_updates)) st.allowedUpdates.set(token, params.allowed_updates);
    if (params.offset !== undefined) confirmUpdates(server, token, Number(params.offset));
    const previous = st.pollers.get(token);
    if (previous && !previous.done) {
      previous.finish({
        ok: false,
        error_code: 409,
        description: 'Conflict: terminated by other getUpdates request; make sure that only one'
          + ' bot instance is running',
      });
    }
    const limit = Math.min(Math.max(Number(params.limit) || 100, 1), 100);
    const seconds = Math.min(Math.max(Number(params.timeout) || 0, 0), MAX_POLL_SECONDS);
    const compute = () => {
      const updates = pendingUpdates(server, token, limit);
      return updates.length ? updates : undefined;
    };
    const waiter = waitFor(server, res, seconds, ['user'], compute, () => []);
    if (waiter) {
      const finish = waiter.finish;
      // A 409 must travel with its status code; other results are plain 200 JSON.
      waiter.finish = (result) => {
        if (result && result.ok === false && !res.headersSent) res.status(result.error_code);
        finish(result);
      };
      st.pollers.set(token, waiter);
    }
    return undefined; // answered by waitFor
  },

  setWebhook(server, token, params) {
    if (!params.url) throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
    server.setWebhook(params, token);
    return true;
  },
  deleteWebhook(server, token, params) {
    server.deleteWebhook(token);
    if (params.drop_pending_updates) confirmUpdates(server, token, Number.MAX_SAFE_INTEGER);
    return true;
  },
  getWebhookInfo(server, token) {
    const hook = server.webhooks[token];
    const pending = server.storage.userMessages.filter((u) => u.botToken === token && !u.isRead);
    return { url: hook ? hook.url : '', has_custom_certificate: false, pending_update_count: pending.length };
  },

  sendMessage(server, token, params) {
    const { text, entities, html } = renderText(params);
    return addBotMessage(server, token, params, { text, entities, html });
  },

  sendDocument(server, token, params, req) {
    let stored;
    const doc = params.document;
    const upload = typeof doc === 'string' && doc.startsWith('attach://')
      ? (req.files || {})[doc.slice('attach://'.length)] : (req.files || {}).document;
    if (upload) {
      stored = storeFile(server, token, {
        data: upload.data, fileName: upload.filename, mimeType: upload.mimeType, kind: 'document',
      });
    } else if (typeof doc === 'string' && state(server).files.has(doc)) {
      stored = state(server).files.get(doc);
    } else {
      throw badRequest('wrong file identifier/HTTP URL specified');
    }
    const caption = params.caption === undefined ? undefined : renderCaption(params);
    const content = {
      document: {
        ...stored.file,
        file_name: stored.fileName,
        mime_type: stored.mimeType,
      },
    };
    delete content.document.file_path;
    if (caption) {
      Object.assign(content, {
        caption: caption.text, caption_entities: caption.entities, caption_html: caption.html,
      });
    }
    return addBotMessage(server, token, params, content);
  },

  getFile(server, token, params) {
    const stored = state(server).files.get(String(params.file_id || ''));
    if (!stored || stored.token !== token) throw badRequest('invalid file_id');
    return stored.file;
  },

  editMessageText(server, token, params) {
    const { text, entities, html } = renderText(params);
    return editBotMessage(server, token, params, {
      text, entities, html, parse_mode: params.parse_mode,
    });
  },
  editMessageCaption(server, token, params) {
    const caption = params.caption === undefined ? undefined : renderCaption(params);
    return editBotMessage(server, token, params, {
      caption: caption && caption.text,
      caption_entities: caption && caption.entities,
      caption_html: caption && caption.html,
      parse_mode: params.parse_mode,
    });
  },
  editMessageReplyMarkup(server, token, params) {
    return editBotMessage(server, token, params, {});
  },

  deleteMessage(server, token, params) {
    const chatId = Number(params.chat_id);
    const messageId = Number(params.message_id);
    if (!Number.isFinite(chatId) || !Number.isFinite(messageId)) {
      throw badRequest('chat_id and message_id are required');
    }
    const matches = (entry) => entry.botToken === token && entry.messageId === messageId
      && entry.message && entry.message.chat && Number(entry.message.chat.id) === chatId;
    const storage = server.storage;
    const before = storage.botMessages.length + storage.userMessages.length;
    storage.botMessages = storage.botMessages.filter((entry) => !matches(entry));
    storage.userMessages = storage.userMessages.filter((entry) => !matches(entry));
    if (storage.botMessages.length + storage.userMessages.length === before) {
      throw badRequest('message to delete not found');
    }
    notify(server, 'edit', token);
    return true;
  },

  sendChatAction(server, token, params) {
    if (!CHAT_ACTIONS.has(params.action)) throw badRequest('wrong parameter action in request');
    if (params.chat_id === undefined) throw badRequest('chat_id is empty');
    state(server).chatActions.push({ token, chat_id: params.chat_id, action: params.action, time: Date.now() });
    notify(server, 'state', token);
    return true;
  },

  setMyCommands(server, token, params) {
    const commands = params.commands;
    if (!Array.isArray(commands)) throw badRequest('commands must be an array');
    if (commands.length > 100) throw badRequest('too many commands');
    for (const command of commands) {
      if (!/^[a-z0-9_]{1,32}$/.test(command.command || '')) throw badRequest('BOT_COMMAND_INVALID');
      if (!command.description || command.description.length > 256) {
        throw badRequest('command description is empty or too long');
      }
    }
    state(server).commands.set(commandKey(token, params), commands);
    notify(server, 'state', token);
    return true;
  },
  getMyCommands: (server, token, params) => state(server).commands.get(commandKey(token, params)) || [],
  deleteMyCommands(server, token, params) {
    state(server).commands.delete(commandKey(token, params));
    return true;
  },

  setChatMenuButton(server, token, params) {
    state(server).menuButtons.set(`${token}|${params.chat_id || ''}`, params.menu_button || { type: 'default' });
    return true;
  },
  getChatMenuButton: (server, token, params) => state(server).menuButtons.get(`${token}|${params.chat_id || ''}`)
    || { type: 'commands' },

  answerCallbackQuery(server, token, params) {
    const query = state(server).callbackQueries.get(String(params.callback_query_id));
    if (!query || query.token !== token || query.answered) throw badRequest(QUERY_TOO_OLD);
    if (params.text && params.text.length > 200) throw badRequest('MESSAGE_TOO_LONG');
    query.answered = true;
    query.answer = {
      text: params.text, show_alert: Boolean(params.show_alert), url: params.url,
      cache_time: params.cache_time,
    };
    notify(server, 'answer', token);
    return true;
  },

  answerInlineQuery(server, token, params) {
    const query = state(server).inlineQueries.get(String(params.inline_query_id));
    if (!query || query.token !== token || query.answer) throw badRequest(QUERY_TOO_OLD);
    const results = params.results;
    if (!Array.isArray(results)) throw badRequest('results must be an array');
    if (results.length > 50) throw badRequest('RESULTS_TOO_MUCH');
    const ids = new Set();
    for (const result of results) {
      if (!result.type || !result.id) throw badRequest('RESULT_ID_INVALID');
      if (ids.has(result.id)) throw badRequest('RESULT_ID_DUPLICATE');
      ids.add(result.id);
    }
    query.answer = {
      results,
      cache_time: params.cache_time,
      is_personal: params.is_personal,
      next_offset: params.next_offset,
      button: params.button,
    };
    notify(server, 'answer', token);
    return true;
  },
};

// setMyName / setMyDescription / setMyShortDescription and their getters share one store.
for (const [setter, getter, field] of [
  ['setMyName', 'getMyName', 'name'],
  ['setMyDescription', 'getMyDescription', 'description'],
  ['setMyShortDescription', 'getMyShortDescription', 'short_description'],
]) {
  botMethods[setter] = (server, token, params) => {
    state(server).texts.set(`${token}|${field}|${params.language_code || ''}`, params[field] || '');
    return true;
  };
  botMethods[getter] = (server, token, params) => ({
    [field]: state(server).texts.get(`${token}|${field}|${params.language_code || ''}`) || '',
  });
}

function parseMultipart(req, res, next) {
  if (!req.is('multipart/form-data')) { next(); return; }
  req.body = req.body || {};
  req.files = {};
  let parser;
  try {
    // httpx sends non-ASCII file names as raw UTF-8 in Content-Disposition; busboy's default
    // (latin1) would garble "答案.txt".
    parser = Busboy({
      headers: req.headers, defParamCharset: 'utf8', limits: { fileSize: 50 * 1024 * 1024 },
    });
  } catch (err) {
    next(badRequest(`invalid multipart body: ${err.message}`));
    return;
  }
  parser.on('field', (name, value) => { req.body[name] = value; });
  parser.on('file', (name, stream, info) => {
    const parts = [];
    stream.on('data', (chunk) => parts.push(chunk));
    stream.on('end', () => {
      req.files[name] = { filename: info.filename, mimeType: info.mimeType, data: Buffer.concat(parts) };
    });
  });
  parser.on('error', (err) => next(badRequest(`invalid multipart body: ${err.message}`)));
  parser.on('close', () => next());
  req.pipe(parser);
}

function installBotRoutes(app, server) {
  app.use(parseMultipart);
  app.all('/bot:token/:method', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'POST') { next(); return; }
    const handler = Object.prototype.hasOwnProperty.call(botMethods, req.params.method)
      ? botMethods[req.params.method] : null;
    try {
      if (!handler) {
        throw badRequest(`method "${req.params.method}" is not supported by the emulator`
          + ' (tests/telegram/emulator/compat.js)');
      }
      const params = coerceParams({ ...req.query, ...req.body });
      const result = handler(server, req.params.token, params, req, res);
      if (result !== undefined) res.json({ ok: true, result });
    } catch (err) {
      next(err);
    }
  });
  app.get('/file/bot:token/*', (req, res) => {
    const filePath = req.params[0];
    for (const stored of state(server).files.values()) {
      if (stored.token === req.params.token && stored.file.file_path === filePath) {
        res.type(stored.mimeType || 'application/octet-stream').send(stored.data);
        return;
      }
    }
    res.status(404).json({ ok: false, error_code: 404, description: 'Not Found' });
  });
}

// --- client (user side) routes ---------------------------------------------------------------

function rememberChat(server, chat) {
  if (chat && chat.id !== undefined) state(server).chats.set(Number(chat.id), { ...chat, id: Number(chat.id) });
}

function requireToken(body) {
  const token = body.botToken || body.token;
  if (!token) throw badRequest('botToken is required');
  return token;
}

function commandEntities(text) {
  const match = /^\/[A-Za-z0-9_]+(@\w+)?/.exec(text);
  return match ? [{ offset: 0, length: match[0].length, type: 'bot_command' }] : undefined;
}

async function addUserMessage(server, body, kind) {
  const token = requireToken(body);
  const messageId = server.messageId;
  const message = userMessageDefaults(server, { ...body }, messageId);
  if (kind === 'command' && !message.entities) message.entities = commandEntities(message.text || '');
  rememberChat(server, message.chat);
  const updateId = server.updateId;
  const field = kind === 'edited' ? 'edited_message' : 'message';
  if (field === 'message') {
    await server.addUserUpdate({ ...server.getCommonFields(token), message: { ...message } });
  } else {
    message.edit_date = nowSeconds();
    await server.addUserUpdate({ ...server.getCommonFields(token), raw: { edited_message: message } });
  }
  server.messageId++;
  notify(server, 'user', token);
  return { update_id: updateId, message: { ...message, message_id: messageId } };
}

const clientMethods = {
  sendMessage: (server, body) => addUserMessage(server, body, 'message'),
  sendCommand: (server, body) => addUserMessage(server, body, 'command'),

  // A document upload: {botToken, from, chat, caption, document: {file_name, mime_type, data_base64}}
  async sendDocument(server, body) {
    const token = requireToken(body);
    const doc = body.document || {};
    if (typeof doc.data_base64 !== 'string') throw badRequest('document.data_base64 is required');
    const stored = storeFile(server, token, {
      data: Buffer.from(doc.data_base64, 'base64'),
      fileName: doc.file_name,
      mimeType: doc.mime_type || 'application/octet-stream',
      kind: 'document',
    });
    const document = { ...stored.file, file_name: stored.fileName, mime_type: stored.mimeType };
    delete document.file_path;
    const message = { ...body, document };
    const result = await addUserMessage(server, message, 'message');
    return { ...result, file_id: stored.file.file_id };
  },

  async sendCallback(server, body) {
    const token = requireToken(body);
    const from = { id: 1, is_bot: false, first_name: 'TestName', username: 'testUserName', ...body.from };
    let message = body.message;
    if (message && message.message_id !== undefined && message.chat) {
      const entry = findBotEntry(server, token, message.chat.id, message.message_id);
      if (entry) message = publicMessage(entry.message);
    }
    const chatKey = message && message.chat ? message.chat.id : body.inline_message_id;
    const chatInstance = String(BigInt(`0x${crypto.createHash('sha1')
      .update(`${token}|${chatKey}`).digest('hex').slice(0, 15)}`));
    const callbackId = server.callbackId;
    const updateId = server.updateId;
    state(server).callbackQueries.set(String(callbackId), { token, answered: false, answer: null });
    await server.addUserCallback({
      botToken: token,
      from,
      message,
      inline_message_id: body.inline_message_id,
      chat_instance: body.chat_instance || chatInstance,
      data: body.data,
    });
    notify(server, 'user', token);
    return { update_id: updateId, callback_query_id: String(callbackId) };
  },

  async sendInlineQuery(server, body) {
    const token = requireToken(body);
    const st = state(server);
    const id = String(st.inlineQuerySeq++);
    const inlineQuery = {
      id,
      from: { id: 1, is_bot: false, first_name: 'TestName', username: 'testUserName', ...body.from },
      query: body.query || '',
      offset: body.offset || '',
    };
    if (body.chat_type) inlineQuery.chat_type = body.chat_type;
    st.inlineQueries.set(id, { token, answer: null });
    const updateId = server.updateId;
    await server.addUserUpdate({ ...server.getCommonFields(token), inlineQuery });
    notify(server, 'user', token);
    return { update_id: updateId, inline_query_id: id };
  },

  async chooseInlineResult(server, body) {
    const token = requireToken(body);
    const chosen = {
      result_id: String(body.result_id),
      from: { id: 1, is_bot: false, first_name: 'TestName', username: 'testUserName', ...body.from },
      query: body.query || '',
    };
    if (body.inline_message_id) chosen.inline_message_id = body.inline_message_id;
    const updateId = server.updateId;
    await server.addUserUpdate({ ...server.getCommonFields(token), chosenInlineResult: chosen });
    notify(server, 'user', token);
    return { update_id: updateId };
  },

  // Any other update kind (edited_message, photo, sticker, voice ...): {botToken, update: {...}}.
  async sendUpdate(server, body) {
    const token = requireToken(body);
    const raw = { ...(body.update || {}) };
    delete raw.update_id;
    for (const key of ['message', 'edited_message', 'channel_post']) {
      if (raw[key]) {
        raw[key] = userMessageDefaults(server, raw[key], raw[key].message_id || server.messageId++);
        rememberChat(server, raw[key].chat);
      }
    }
    const updateId = server.updateId;
    await server.addUserUpdate({ ...server.getCommonFields(token), raw });
    notify(server, 'user', token);
    return { update_id: updateId };
  },

  getBotState(server, body) {
    const token = requireToken(body);
    const st = state(server);
    const prefix = `${token}|`;
    const pick = (map) => Object.fromEntries([...map.entries()]
      .filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    return {
      me: botUser(server, token),
      commands: pick(st.commands),
      menu_buttons: pick(st.menuButtons),
      texts: pick(st.texts),
      chat_actions: st.chatActions.filter((a) => a.token === token),
      inline_edits: st.inlineEdits.filter((e) => e.token === token),
      webhook: server.webhooks[token] || null,
      poll_count: st.pollCounts.get(token) || 0,
      last_update_id: server.updateId - 1, // shared by users and bot messages of every token
    };
  },

  reset(server, body) {
    const token = requireToken(body);
    server.storage.userMessages = server.storage.userMessages.filter((u) => u.botToken !== token);
    server.storage.botMessages = server.storage.botMessages.filter((u) => u.botToken !== token);
    return true;
  },
};

// Long-polling client endpoints: they answer as soon as the condition holds, so tests never sleep.
const clientWaits = {
  // {token, chatId?, afterUpdateId, count, timeout} -> bot message entries, oldest first
  waitBotMessages(server, body, res) {
    const token = requireToken(body);
    const after = Number(body.afterUpdateId || 0);
    const count = Math.max(Number(body.count || 1), 1);
    const select = () => server.storage.botMessages.filter((e) => e.botToken === token
      && e.updateId > after
      && (body.chatId === undefined || body.chatId === null
        || Number(e.message.chat.id) === Number(body.chatId)));
    waitFor(server, res, clientSeconds(body), ['bot'],
      () => { const found = select(); return found.length >= count ? found : undefined; },
      select);
  },
  // {token, chatId, messageId, afterVersion, timeout} -> the entry once edited past afterVersion
  waitBotEdit(server, body, res) {
    const token = requireToken(body);
    const find = () => findBotEntry(server, token, body.chatId, body.messageId);
    waitFor(server, res, clientSeconds(body), ['edit'],
      () => { const e = find(); return e && e.version > Number(body.afterVersion || 0) ? e : undefined; },
      () => find() || null);
  },
  // {token, after, timeout} -> number of getUpdates calls so far, once it exceeds `after`
  waitPolling(server, body, res) {
    const token = requireToken(body);
    const after = Number(body.after || 0);
    const count = () => state(server).pollCounts.get(token) || 0;
    waitFor(server, res, clientSeconds(body), ['poll'], () => (count() > after ? count() : undefined), count);
  },
  // {token, inlineQueryId | callbackQueryId, timeout} -> the bot's answer or null
  waitAnswer(server, body, res) {
    const token = requireToken(body);
    const st = state(server);
    const query = body.inlineQueryId !== undefined
      ? st.inlineQueries.get(String(body.inlineQueryId))
      : st.callbackQueries.get(String(body.callbackQueryId));
    if (!query || query.token !== token) throw badRequest('unknown query id');
    waitFor(server, res, clientSeconds(body), ['answer'],
      () => query.answer || undefined, () => null);
  },
};

function clientSeconds(body) {
  return Math.min(Math.max(Number(body.timeout || 0), 0), MAX_CLIENT_WAIT_SECONDS);
}

function installClientRoutes(app, server) {
  for (const [name, handler] of Object.entries(clientMethods)) {
    app.post(`/${name}`, async (req, res, next) => {
      try {
        res.json({ ok: true, result: await handler(server, req.body || {}) });
      } catch (err) {
        next(err);
      }
    });
  }
  for (const [name, handler] of Object.entries(clientWaits)) {
    app.post(`/${name}`, (req, res, next) => {
      try {
        handler(server, req.body || {}, res);
      } catch (err) {
        next(err);
      }
    });
  }
  app.get('/health', (_req, res) => res.json({ ok: true, result: 'ready' }));
}

// --- responses -------------------------------------------------------------------------------

function telegramSendResult(req, res, next) {
  const botCall = /^\/bot[^/]+\/[^/]+/.test(req.path);
  res.sendError = (error) => {
    const known = error instanceof ApiError || (error.http && error.http < 500);
    const code = known ? error.http : (botCall ? 400 : 500);
    if (botCall || known) {
      const description = error.description || `Bad Request: ${error.message}`;
      res.status(code).json({ ok: false, error_code: code, description });
    } else {
      res.status(code).json({ ok: false, message: error.message || 'unknown error' });
    }
  };
  res.sendResult = (payload) => {
    Promise.resolve(payload).then((result) => {
      if (result && result.ok === false && result.error_code) res.status(result.error_code);
      res.json(result);
    }, res.sendError);
  };
  next();
}

function errorHandler(error, _req, res, _next) {
  if (error && error.type === 'entity.parse.failed') {
    res.sendError(badRequest("can't parse JSON body"));
    return;
  }
  res.sendError(error);
}

let installed = false;

function install() {
  if (installed) return;
  installed = true;
  sendResultModule.sendResult = telegramSendResult;
  packageRoutes.routes.unshift((app, server) => {
    installBotRoutes(app, server);
    installClientRoutes(app, server);
    // Errors from our handlers and from the body parsers (registered earlier) land here, before
    // the package's global handler turns them into "Something went wrong" 500s.
    app.use(errorHandler);
  });
  TelegramServer.formatUpdate = formatUpdate;
}

module.exports = { install, releaseAll, ApiError };
