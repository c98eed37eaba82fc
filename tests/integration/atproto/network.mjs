// SPDX-License-Identifier: MIT
// The atproto reference network (PLC, PDS, Bluesky AppView, from
// @atproto/dev-env) in this one Node process, driven by test_atproto_real.py.
//
// Needs HEED_ATPROTO_DIR (where scripts/atproto-deps installed the packages),
// DB_POSTGRES_URL (a private cluster the test started) and REDIS_HOST
// (any value: TestNetwork.create insists, nothing uses it). Run with Node 22
// from the directory scripts/atproto-deps installed.
//
// Protocol: one JSON object per line on stdin, {"id": N, "cmd": ..., ...};
// each answer is one line on stdout starting with "@@heed " followed by JSON,
// {"id": N, "ok": true, ...} or {"id": N, "ok": false, "error": "..."}.
// Anything else on stdout (or stderr) is log noise. First, unasked:
// {"event": "ready", "pds": "http://localhost:PORT", "port": PORT}.
//
// Commands (every write is followed by network.processAll(), so the AppView
// has indexed it when the answer comes):
//   account  name display        make NAME.test (password in the answer)
//   post     by text [mention] [reply_to] [quote] [age_s]
//            a post by BY; MENTION (a name) gets a mention facet at its
//            "@NAME.test" in TEXT; REPLY_TO / QUOTE are at-uris; AGE_S dates
//            createdAt that many seconds in the past
//   likes    target by n         TARGET writes N posts, BY likes each one
//   follow   by subject
//   short_tokens name seconds    access tokens the PDS issues to NAME from now
//            on (createSession, refreshSession) expire after SECONDS
//   stats    [name]              createSession / refreshSession counts for
//            NAME, and the PDS's log of requests from others than this script
//            (method, path, query, status, ua, and error:
//            the XRPC error name of a refusal)
//   quit
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

// The packages live where scripts/atproto-deps installed them, not beside
// this file: HEED_ATPROTO_DIR names that directory.
const installed = process.env.HEED_ATPROTO_DIR;
if (!installed) throw new Error('HEED_ATPROTO_DIR is not set (see scripts/atproto-deps)');
const resolve = createRequire(path.join(installed, 'package.json')).resolve;
const { TestNetwork } = await import(pathToFileURL(resolve('@atproto/dev-env')).href);

const BYPASS = 'heed-test-bypass-' + crypto.randomBytes(8).toString('hex');
const out = (obj) => process.stdout.write('@@heed ' + JSON.stringify(obj) + '\n');
// Library chatter must not be taken for an answer (answers carry a prefix
// anyway); keep stdout for answers as far as possible.
console.log = console.error;
console.info = console.error;

const network = await TestNetwork.create({
  dbPostgresSchema: 'heed', // [A-Za-z_] only; the cluster is private to one test run
  // Real RateLimit-* headers reach heedd; this script's own writes bypass them.
  pds: { rateLimitsEnabled: true, rateLimitBypassKey: BYPASS },
});
const pds = network.pds;
const am = pds.ctx.accountManager;
const sc = network.getSeedClient();

// ---------------------------------------------------------------- request log

const requests = [];
pds.server.server.on('request', (req, res) => {
  if (req.headers['x-ratelimit-bypass'] === BYPASS) return; // this script's own
  const [reqPath, query = ''] = (req.url || '').split('?', 2);
  const entry = {
    method: req.method,
    path: reqPath,
    query,
    ua: req.headers['user-agent'] || '',
    status: 0,
  };
  requests.push(entry);
  res.on('finish', () => {
    entry.status = res.statusCode;
  });
  // The XRPC error name of a refusal ({"error": "ExpiredToken", ...}); such
  // bodies are small, so they pass the compression middleware as they are.
  const origEnd = res.end;
  res.end = function (chunk, ...rest) {
    if (res.statusCode >= 400 && chunk && typeof chunk !== 'function') {
      try {
        entry.error = JSON.parse(Buffer.from(chunk).toString()).error;
      } catch {
        // not JSON: no name
      }
    }
    return origEnd.call(this, chunk, ...rest);
  };
});

// ---------------------------------------------------------------- sessions

const shortLife = new Map(); // did -> seconds
const counts = new Map(); // did -> {create, refresh}
const countFor = (did) => {
  if (!counts.has(did)) counts.set(did, { create: 0, refresh: 0 });
  return counts.get(did);
};

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// The PDS's own access token with a shorter exp, signed with the PDS's own
// JWT key (HS256), so that the PDS itself answers 400 ExpiredToken later.
function shorten(accessJwt, seconds) {
  const [h, p] = accessJwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString());
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  if (header.alg !== 'HS256') throw new Error(`access token alg ${header.alg}, want HS256`);
  payload.exp = Math.floor(Date.now() / 1000) + seconds;
  const input = b64url(JSON.stringify(header)) + '.' + b64url(JSON.stringify(payload));
  const sig = crypto.createHmac('sha256', am.jwtKey).update(input).digest();
  return input + '.' + b64url(sig);
}

function subjectOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()).sub;
}

function withShortAccess(tokens) {
  if (!tokens || !tokens.accessJwt) return tokens;
  const did = subjectOf(tokens.accessJwt);
  const seconds = shortLife.get(did);
  if (seconds === undefined) return tokens;
  return { ...tokens, accessJwt: shorten(tokens.accessJwt, seconds) };
}

// createSession (com.atproto.server.createSession) and rotateRefreshToken
// (com.atproto.server.refreshSession) are where the PDS issues a session.
const origCreateSession = am.createSession.bind(am);
am.createSession = async (did, ...rest) => {
  countFor(did).create++;
  return withShortAccess(await origCreateSession(did, ...rest));
};
const origRotate = am.rotateRefreshToken.bind(am);
am.rotateRefreshToken = async (...args) => {
  const tokens = await origRotate(...args);
  if (tokens && tokens.accessJwt) countFor(subjectOf(tokens.accessJwt)).refresh++;
  return withShortAccess(tokens);
};

// ---------------------------------------------------------------- content

const users = new Map(); // name -> {did, handle, password}
const cids = new Map(); // at-uri -> cid (for strong refs)

function user(name) {
  const u = users.get(name);
  if (!u) throw new Error(`no account ${name}`);
  return u;
}

function headers(did) {
  return { ...sc.getHeaders(did), 'x-ratelimit-bypass': BYPASS };
}

function ref(uri) {
  const cid = cids.get(uri);
  if (!cid) throw new Error(`unknown record ${uri}`);
  return { uri, cid };
}

async function createRecord(did, collection, record) {
  const res = await sc.agent.com.atproto.repo.createRecord(
    { repo: did, collection, record },
    { encoding: 'application/json', headers: headers(did) },
  );
  cids.set(res.data.uri, res.data.cid);
  return res.data;
}

async function account({ name, display }) {
  const handle = `${name}.test`;
  const password = 'hunter2-' + crypto.randomBytes(6).toString('hex');
  const acc = await sc.createAccount(name, { handle, email: `${name}@heed.test`, password });
  users.set(name, { did: acc.did, handle, password });
  await sc.agent.com.atproto.repo.putRecord(
    {
      repo: acc.did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: { $type: 'app.bsky.actor.profile', displayName: display || name },
    },
    { encoding: 'application/json', headers: headers(acc.did) },
  );
  return { did: acc.did, handle, password };
}

async function post({ by, text, mention, reply_to, quote, age_s }) {
  const author = user(by);
  const created = new Date(Date.now() - (age_s || 0) * 1000);
  const record = { $type: 'app.bsky.feed.post', text, createdAt: created.toISOString(), langs: ['en'] };
  if (mention) {
    const target = user(mention);
    const at = '@' + target.handle;
    const i = text.indexOf(at);
    if (i < 0) throw new Error(`text does not contain ${at}`);
    const byteStart = Buffer.byteLength(text.slice(0, i));
    record.facets = [
      {
        index: { byteStart, byteEnd: byteStart + Buffer.byteLength(at) },
        features: [{ $type: 'app.bsky.richtext.facet#mention', did: target.did }],
      },
    ];
  }
  if (reply_to) {
    const parent = ref(reply_to);
    const parentRec = await sc.agent.com.atproto.repo.getRecord(
      { repo: parent.uri.split('/')[2], collection: 'app.bsky.feed.post', rkey: parent.uri.split('/').pop() },
      { headers: headers(author.did) },
    );
    const root = parentRec.data.value.reply ? parentRec.data.value.reply.root : parent;
    record.reply = { root: { uri: root.uri, cid: root.cid }, parent };
  }
  if (quote) record.embed = { $type: 'app.bsky.embed.record', record: ref(quote) };
  const res = await createRecord(author.did, 'app.bsky.feed.post', record);
  return { uri: res.uri, cid: res.cid, createdAt: record.createdAt };
}

// N posts by TARGET and a like of each by BY, in as few requests as
// applyWrites allows: notification noise that fills pages.
async function likes({ target, by, n }) {
  const t = user(target);
  const b = user(by);
  const CHUNK = 100;
  // The AppView sorts notifications by createdAt (when earlier than it saw
  // them) and its cursor is a bare time: items that share the millisecond at
  // a page boundary are skipped by the next page. Records written in one
  // batch would all share one, so each gets its own (never before now:
  // the noise must sort above what was written before it).
  let last = 0;
  const stamp = () => {
    last = Math.max(last + 1, Date.now());
    return new Date(last).toISOString();
  };
  const made = [];
  for (let i = 0; i < n; i += CHUNK) {
    const k = Math.min(CHUNK, n - i);
    const writes = [];
    for (let j = 0; j < k; j++) {
      writes.push({
        $type: 'com.atproto.repo.applyWrites#create',
        collection: 'app.bsky.feed.post',
        value: {
          $type: 'app.bsky.feed.post',
          text: `filler post ${i + j}`,
          createdAt: stamp(),
        },
      });
    }
    const res = await sc.agent.com.atproto.repo.applyWrites(
      { repo: t.did, writes },
      { encoding: 'application/json', headers: headers(t.did) },
    );
    for (const r of res.data.results) made.push({ uri: r.uri, cid: r.cid });
  }
  await network.processAll();
  for (let i = 0; i < made.length; i += CHUNK) {
    const writes = made.slice(i, i + CHUNK).map((subject) => ({
      $type: 'com.atproto.repo.applyWrites#create',
      collection: 'app.bsky.feed.like',
      value: { $type: 'app.bsky.feed.like', subject, createdAt: stamp() },
    }));
    await sc.agent.com.atproto.repo.applyWrites(
      { repo: b.did, writes },
      { encoding: 'application/json', headers: headers(b.did) },
    );
  }
  return { likes: made.length };
}

async function follow({ by, subject }) {
  const res = await createRecord(user(by).did, 'app.bsky.graph.follow', {
    $type: 'app.bsky.graph.follow',
    subject: user(subject).did,
    createdAt: new Date().toISOString(),
  });
  return { uri: res.uri };
}

function shortTokens({ name, seconds }) {
  shortLife.set(user(name).did, seconds);
  return {};
}

function stats({ name }) {
  if (!name) return { requests };
  const c = countFor(user(name).did);
  return { create: c.create, refresh: c.refresh, requests };
}

const commands = { account, post, likes, follow, short_tokens: shortTokens, stats };
const writes = new Set(['account', 'post', 'likes', 'follow']);

// ---------------------------------------------------------------- main loop

let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  // network.close() waits for the AppView to catch up, which can hang once
  // PostgreSQL is gone: never longer than this.
  setTimeout(() => process.exit(code || 1), 15000).unref();
  try {
    await network.close();
  } catch (e) {
    console.error('network.close:', e);
  }
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

out({ event: 'ready', pds: pds.url, port: pds.port });

const rl = readline.createInterface({ input: process.stdin });
// One command at a time, in order.
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    if (!line.trim()) return;
    let msg;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      out({ ok: false, error: `not JSON: ${line.slice(0, 80)}` });
      return;
    }
    const { id, cmd, ...args } = msg;
    if (cmd === 'quit') {
      out({ id, ok: true });
      await shutdown(0);
      return;
    }
    try {
      const fn = commands[cmd];
      if (!fn) throw new Error(`unknown command ${cmd}`);
      const result = await fn(args);
      if (writes.has(cmd)) await network.processAll();
      out({ id, ok: true, ...result });
    } catch (e) {
      out({ id, ok: false, error: String(e && e.stack ? e.stack : e) });
    }
  });
});
rl.on('close', () => chain.then(() => shutdown(0)));
