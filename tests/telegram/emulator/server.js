#!/usr/bin/env node
'use strict';
// Starts telegram-test-api with the newsqa compatibility layer, bound to 127.0.0.1 only.
// Usage: node server.js [--port N] [--bot-username NAME] [--bot-first-name NAME]
// --port 0 (the default) picks a free port. When listening, prints one JSON line to stdout:
// {"ready":true,"port":N,"url":"http://127.0.0.1:N"}. SIGTERM/SIGINT release pending long polls
// and stop the server.
const fs = require('fs');
const compat = require('./compat');

compat.install(); // must precede construction: the package reads its routes in the constructor
const TelegramServer = require('telegram-test-api');

function parseArgs(argv) {
  const args = { port: 0, botUsername: 'NewsqaTestBot', botFirstName: 'Newsqa Test Bot' };
  const names = { '--port': 'port', '--bot-username': 'botUsername', '--bot-first-name': 'botFirstName' };
  for (let i = 0; i < argv.length; i += 1) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      process.stderr.write(`error: unknown or incomplete argument ${argv[i]}\n`);
      process.exit(2);
    }
    args[key] = argv[i + 1];
    i += 1;
  }
  args.port = Number(args.port);
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    process.stderr.write(`error: --port must be an integer 0-65535, got ${args.port}\n`);
    process.exit(2);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // port 0 is falsy, so the package would substitute 9000; set the real value after normalizing.
  const server = new TelegramServer({ port: 1, host: '127.0.0.1', storeTimeout: 600 });
  server.config.port = args.port;
  server.compatOptions = { botUsername: args.botUsername, botFirstName: args.botFirstName };
  await server.start();
  const { port } = server.server.address();
  server.config.port = port;
  server.config.apiURL = `http://127.0.0.1:${port}`;
  process.stdout.write(`${JSON.stringify({ ready: true, port, url: server.config.apiURL })}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    compat.releaseAll(server);
    await server.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // When started with a pipe as stdin (the Python harness does), exit once the pipe closes, so a
  // killed test run never leaves an emulator behind.
  if (fs.fstatSync(0).isFIFO()) {
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
}

main().catch((err) => {
  process.stderr.write(`error: ${err.stack || err}\n`);
  process.exit(1);
});
