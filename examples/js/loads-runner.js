#!/usr/bin/env node
/*
 * A Loads cluster runner in JavaScript, written from docs/protocol.md
 * alone: it proves that the broker's protocol is enough for a client in
 * another language.  It pings the broker, lists its agents, and submits a
 * run (the test module's source goes to the agents, which build it), then
 * follows the figures that the broker forwards and prints a summary.  It
 * exits like loads-runner: 0 all runs succeeded, 1 some did not (or an
 * agent or the broker was lost), 2 bad usage or a refused run, 128 + the signal
 * (130 for Ctrl-C) when a signal stopped the run before its plan was done.
 *
 *   npm ci
 *   node loads-runner.js --ping-broker --broker tcp://127.0.0.1:7780
 *   node loads-runner.js example.TestWebSite.test_something \
 *       --server-url http://127.0.0.1:8080 -u 2 -c 10 --agents 2
 */
'use strict';

const fs = require('fs');
const path = require('path');

const VERSION = '0.1.0';
const PROTO = 2;
const DEFAULT_BROKER = 'tcp://127.0.0.1:7780';
const ANSWER_MS = 10000; /* a broker that says nothing for this long is not there */
const HB_MS = 1000;
const TIMEOUT_MS = 5000;
const MAX_FILES = 64;
const MAX_MSG = 64 << 20;

const USAGE = `Usage: loads-runner.js [--broker E] [--key NAME --broker-key NAME] --ping-broker
       loads-runner.js [--broker E] [keys] --check-cluster
       loads-runner.js [--broker E] [keys] --attach RUN
       loads-runner.js [--broker E] [keys] TEST --agents N [--server-url URL]
                       [-u USERS] [-c HITS | -d DURATION] [--include-file F]...
                       [--workers N] [--timeout S] [--quiet]

A Loads cluster runner written from docs/protocol.md (an example of a
client in another language).  TEST is module.Suite.test or module.Suite;
module.c is looked for in the current folder, then in LOADS_PATH.

  --broker E         the broker's endpoint (default ${DEFAULT_BROKER})
  --key NAME         this runner's CURVE key pair (NAME, NAME_secret)
  --broker-key NAME  the broker's public key file
  --ping-broker      the broker's version and agents
  --check-cluster    its agents and runs
  --attach RUN       follow a run (a detached one, or a finished one kept
                     by the broker) and print its summary; Ctrl-C detaches
  --agents N         run on N idle agents (each runs the whole plan)
  --server-url URL   the server under test
  -u USERS           virtual users, or cycles as 10:20:30 (default 1)
  -c HITS            runs per user, or per cycle as 5:5 (default 1)
  -d DURATION        run each cycle this long instead: 10s, 1m, 500ms
  --include-file F   one more file to send (a relative path)
  --workers N        worker processes per agent (default: one per core)
  --timeout S        bound on connect and each request (default 30)
  --quiet            no per-second lines
`;

/* ---------------------------------------------------------------- usage */

class UsageError extends Error {}

function usage(msg) {
    throw new UsageError(msg);
}

function uintList(opt, v, min, max) {
    const parts = String(v).split(':');
    if (parts.length > 32)
        usage(`${opt}: at most 32 cycles`);
    return parts.map((p) => {
        if (!/^[0-9]+$/.test(p) || Number(p) < min || Number(p) > max)
            usage(`${opt}: '${v}' is not a number from ${min} to ${max} (or a list as 10:20)`);
        return Number(p);
    });
}

/* "500ms", "10s", "1m30s", "2h" or seconds: microseconds. */
function durationUs(v) {
    const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?/y;
    const unit = { ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };
    let us = 0;
    let m;

    if (!v)
        usage('-d: a duration as 10s, 1m30s or 500ms');
    re.lastIndex = 0;
    while (re.lastIndex < v.length && (m = re.exec(v)))
        us += Number(m[1]) * unit[m[2] || 's'];
    if (re.lastIndex !== v.length || !(us >= 1000))
        usage(`-d: '${v}' is not a duration as 10s, 1m30s or 500ms (at least 1ms)`);
    return Math.round(us);
}

function parseArgs(argv) {
    const o = {
        broker: DEFAULT_BROKER, key: '', brokerKey: '', cmd: '', test: '', agents: 0,
        attach: '', url: '', users: [1], hits: [1], durationUs: 0, include: [], workers: 0,
        timeout: 30, quiet: false,
    };
    const takes = new Set(['--broker', '--key', '--broker-key', '--agents', '--server-url',
        '-u', '--users', '-c', '--hits', '-d', '--duration', '--include-file', '--workers',
        '--timeout', '--attach']);
    let hitsGiven = false;

    for (let i = 0; i < argv.length; i++) {
        let a = argv[i];
        let v;
        const eq = a.startsWith('--') ? a.indexOf('=') : -1;

        if (eq > 0) {
            v = a.slice(eq + 1);
            a = a.slice(0, eq);
        }
        if (takes.has(a) && v === undefined) {
            if (i + 1 >= argv.length)
                usage(`${a} needs a value`);
            v = argv[++i];
        }
        switch (a) {
        case '-h': case '--help': o.cmd = 'help'; break;
        case '--broker': o.broker = v; break;
        case '--key': o.key = v; break;
        case '--broker-key': o.brokerKey = v; break;
        case '--ping-broker': o.cmd = 'ping'; break;
        case '--check-cluster': o.cmd = 'check'; break;
        case '--attach': o.attach = v; break;
        case '--agents': o.agents = uintList(a, v, 1, 1000)[0]; break;
        case '--server-url': o.url = v; break;
        case '-u': case '--users': o.users = uintList(a, v, 1, 1000000); break;
        case '-c': case '--hits': o.hits = uintList(a, v, 1, 1e12); hitsGiven = true; break;
        case '-d': case '--duration': o.durationUs = durationUs(v); break;
        case '--include-file': o.include.push(v); break;
        case '--workers': o.workers = uintList(a, v, 0, 4096)[0]; break;
        case '--timeout':
            o.timeout = Number(v);
            if (!(o.timeout > 0 && o.timeout <= 86400))
                usage(`--timeout: '${v}' is not a number of seconds above 0`);
            break;
        case '-q': case '--quiet': o.quiet = true; break;
        default:
            if (a.startsWith('-'))
                usage(`unknown option ${a} (see --help)`);
            if (o.test)
                usage(`one test only: '${o.test}' and '${a}'`);
            o.test = a;
        }
    }
    if (o.cmd === 'help')
        return o;
    if (!o.key !== !o.brokerKey)
        usage("--key and --broker-key go together: this runner's keys and the broker's public key");
    if (!/^(tcp:\/\/.+:[0-9]+|ipc:\/\/.+)$/.test(o.broker))
        usage(`invalid --broker '${o.broker}': use tcp://HOST:PORT or ipc://PATH`);
    if (o.cmd)
        return o;
    if (o.attach) {
        if (!/^[0-9a-f]{16}$/.test(o.attach))
            usage(`--attach: '${o.attach}' is not a run id (16 hex digits)`);
        if (o.test)
            usage('--attach takes no test: the run has one');
        return o;
    }
    if (!o.test)
        usage('a test name is needed (module.Suite.test), or --ping-broker or --check-cluster');
    if (!o.agents)
        usage('--agents N is needed: this runner only runs on a cluster');
    if (o.durationUs && hitsGiven)
        usage('-c and -d do not go together');
    return o;
}

/* ---------------------------------------------------------------- files */

/*
 * The module's file: MODULE.c, MODULE being the test name without its
 * last part, and without the one before it too when there are three
 * parts or more (module.Suite.test, pkg.module.Suite.test), '.' as '/'.
 */
function moduleName(test) {
    const parts = test.split('.');
    if (parts.length < 2 || parts.some((p) => !p))
        usage(`invalid test name '${test}': use module.Suite.test or module.Suite`);
    return parts.slice(0, parts.length >= 3 ? -2 : -1).join('/');
}

const NAME_RE = /^[A-Za-z0-9._\-/]+$/;

function checkName(name) {
    return NAME_RE.test(name) && !name.startsWith('/') &&
        name.split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}

function readFile(files, file, name) {
    if (files.some((f) => f[0] === name))
        return;
    if (files.length >= MAX_FILES)
        usage(`more than ${MAX_FILES} files to send to the agents`);
    if (!checkName(name))
        usage(`cannot send ${name} to the agents: use a relative path without '..' (letters, digits, '.', '_', '-', '/')`);
    let bytes;
    try {
        bytes = fs.readFileSync(file);
    } catch (e) {
        usage(`cannot read ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    }
    files.push([name, bytes]);
}

/* module.c, the files it includes with quotes (found next to it), --include-file ones. */
function collectFiles(o) {
    const mod = moduleName(o.test);
    const dirs = ['.'].concat((process.env.LOADS_PATH || '').split(':').filter(Boolean));
    const dir = dirs.find((d) => fs.existsSync(path.join(d, `${mod}.c`)));
    const files = [];

    if (dir === undefined)
        usage(`no ${mod}.c in the current folder${process.env.LOADS_PATH ? ' or LOADS_PATH' : ''}: the agents build the module from its source`);
    readFile(files, path.join(dir, `${mod}.c`), `${mod}.c`);
    for (let i = 0; i < files.length; i++) {
        const base = path.posix.dirname(files[i][0]);
        for (const m of files[i][1].toString('latin1').matchAll(/^[ \t]*#[ \t]*include[ \t]*"([^"]+)"/gm)) {
            const name = path.posix.normalize(path.posix.join(base, m[1]));
            const file = path.join(dir, name);
            if (checkName(name) && fs.existsSync(file) && fs.statSync(file).isFile())
                readFile(files, file, name);
        }
    }
    for (const f of o.include)
        readFile(files, f, f);
    return files;
}

/* FNV-1a 64 over name, 0, length as 8 bytes little-endian, bytes; 16 hex digits. */
function filesHash(files) {
    const prime = 0x100000001b3n;
    const mask = (1n << 64n) - 1n;
    let h = 0xcbf29ce484222325n;
    const eat = (b) => { h = ((h ^ BigInt(b)) * prime) & mask; };

    for (const [name, bytes] of files) {
        for (const b of Buffer.from(name, 'utf8'))
            eat(b);
        eat(0);
        let len = BigInt(bytes.length);
        for (let k = 0; k < 8; k++, len >>= 8n)
            eat(len & 0xffn);
        for (const b of bytes)
            eat(b);
    }
    return h.toString(16).padStart(16, '0');
}

/* ---------------------------------------------------------------- keys */

/* One key of a CZMQ certificate (ZPL text): `    public-key = "Z85..."` under `curve`. */
function certKey(file, key) {
    let text;
    try {
        text = fs.readFileSync(file, 'utf8');
    } catch (e) {
        usage(`cannot read the key file ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
    }
    const m = text.match(new RegExp(`^\\s+${key}\\s*=\\s*"([^"]{40})"`, 'm'));
    if (!m)
        usage(`${file} is not a key file made by loads-broker --keygen (no ${key})`);
    return m[1];
}

/* ---------------------------------------------------------------- histograms */

/*
 * A hist is [count, sum_us, min_plus1, max_us, i0, n0, gap, n, ...]: the
 * buckets come as an index then gaps.  Merged: counts add up, min and max
 * widen.
 */
function histAdd(into, h) {
    if (!Array.isArray(h) || h.length < 4)
        return;
    into.count += Number(h[0]);
    into.sum += Number(h[1]);
    const min1 = Number(h[2]);
    if (min1 && (!into.min1 || min1 < into.min1))
        into.min1 = min1;
    into.max = Math.max(into.max, Number(h[3]));
    let idx = 0;
    for (let k = 4; k + 1 < h.length; k += 2) {
        idx = k === 4 ? Number(h[k]) : idx + Number(h[k]);
        into.slots.set(idx, (into.slots.get(idx) || 0) + Number(h[k + 1]));
    }
}

function newHist() {
    return { count: 0, sum: 0, min1: 0, max: 0, slots: new Map() };
}

/* The value of slot i: its midpoint (slots of bucket 0 are one value wide). */
function slotValue(i) {
    const b = i < 2048 ? 0 : (i >> 10) - 1;
    const lo = (i - (b << 10)) * 2 ** b;
    return lo + Math.floor(2 ** b / 2);
}

/*
 * The value at percentile p as Loads reports it: the slot where the
 * rank ceil(p/100 x count) is reached, its midpoint, clamped to [min, max];
 * rank 1 is min and rank count is max.
 */
function percentile(h, p) {
    if (!h.count)
        return 0;
    const min = h.min1 - 1;
    let rank = Math.ceil((p * (1 - Number.EPSILON)) * h.count / 100);
    rank = Math.min(Math.max(rank, 1), h.count);
    if (rank === 1)
        return min;
    if (rank === h.count)
        return h.max;
    let seen = 0;
    for (const i of [...h.slots.keys()].sort((a, b) => a - b)) {
        seen += h.slots.get(i);
        if (seen >= rank)
            return Math.min(Math.max(slotValue(i), min), h.max);
    }
    return h.max;
}

/* ---------------------------------------------------------------- the socket */

let zmq;
let msgpack;

function loadDeps() {
    try {
        zmq = require('zeromq');
        msgpack = require('@msgpack/msgpack');
    } catch (e) {
        console.error(`loads-runner.js: ${e.message.split('\n')[0]}: run npm ci in ${__dirname}`);
        process.exit(2);
    }
}

class Broker {
    constructor(o) {
        const opts = { linger: 0, maxMessageSize: MAX_MSG, sendHighWaterMark: 1000 };

        this.endpoint = o.broker;
        if (o.key) {
            if (!zmq.capability.curve)
                usage('--key: this zeromq package was built without CURVE');
            opts.curveServerKey = certKey(o.brokerKey, 'public-key');
            opts.curvePublicKey = certKey(o.key, 'public-key');
            opts.curveSecretKey = certKey(`${o.key}_secret`, 'secret-key');
        }
        this.keys = !!o.key;
        this.sock = new zmq.Dealer(opts);
        this.authFailed = false;
        this.sock.events.on('handshake:error:auth', () => { this.authFailed = true; });
        try {
            this.sock.connect(this.endpoint);
        } catch (e) {
            usage(`--broker: cannot connect to '${this.endpoint}': ${e.message}`);
        }
        this.queue = [];
        this.waiters = [];
        this.heardMs = Date.now();
        this.reading = this.readLoop();
    }

    async readLoop() {
        try {
            for await (const frames of this.sock) {
                const m = this.decode(frames[frames.length - 1]);
                if (!m)
                    continue;
                this.heardMs = Date.now();
                const w = this.waiters.shift();
                if (w)
                    w(m);
                else
                    this.queue.push(m);
            }
        } catch (e) {
            /* closed */
        }
    }

    /* A message this runner cannot read is dropped, as the broker does. */
    decode(buf) {
        let m;
        try {
            m = msgpack.decode(buf);
        } catch (e) {
            console.error(`loads-runner.js: dropped a message that is not msgpack: ${e.message}`);
            return null;
        }
        if (!m || typeof m !== 'object' || m.v !== PROTO || typeof m.t !== 'string') {
            console.error(`loads-runner.js: dropped a message of protocol version ${m && m.v}, this runner speaks ${PROTO}`);
            return null;
        }
        return m;
    }

    send(t, body) {
        /* DEALER: the body frame alone.  A full queue drops (the broker is gone). */
        this.sock.send(Buffer.from(msgpack.encode({ v: PROTO, t, ...body }))).catch(() => {});
    }

    /* The next message, or null after ms. */
    next(ms) {
        if (this.queue.length)
            return Promise.resolve(this.queue.shift());
        return new Promise((resolve) => {
            const w = (m) => { clearTimeout(timer); resolve(m); };
            const timer = setTimeout(() => {
                this.waiters.splice(this.waiters.indexOf(w), 1);
                resolve(null);
            }, ms);
            this.waiters.push(w);
        });
    }

    noAnswer() {
        if (this.authFailed)
            return `${this.endpoint}: the broker refused this runner's key (CURVE): is its public key in the broker's --allow folder?`;
        return `no answer from the broker ${this.endpoint} in ${ANSWER_MS / 1000} s: is it running${this.keys ? ", and is this runner's public key in its --allow folder" : ', and does it want keys (--key, --broker-key)'}?`;
    }

    close() {
        this.sock.close();
    }
}

/* An exit status with a line on stderr. */
class Exit extends Error {
    constructor(status, line) {
        super(line || '');
        this.status = status;
    }
}

/*
 * Waits for a message of type want (heartbeats in between count as the
 * broker's life, not as an answer), or refused.
 */
async function answer(b, want, interrupted) {
    let until = Date.now() + ANSWER_MS;

    for (;;) {
        const m = await b.next(Math.min(100, Math.max(1, until - Date.now())));
        if (interrupted && interrupted())
            return null;
        if (!m) {
            if (b.authFailed || Date.now() >= until)
                throw new Exit(2, b.noAnswer());
            continue;
        }
        if (m.t === 'refused')
            throw new Exit(m.status > 0 && m.status < 256 ? m.status : 2, oneLine(m.error));
        if (m.t === want)
            return m;
        if (m.t === 'hb')
            until = Date.now() + ANSWER_MS;
    }
}

function oneLine(s) {
    return String(s).replace(/[\r\n]+/g, ' ');
}

/* ---------------------------------------------------------------- commands */

async function ping(b) {
    b.send('ping', {});
    const m = await answer(b, 'pong');
    console.log(`broker ${b.endpoint} answers: Loads ${m.version}, ${m.agents} agent${m.agents === 1 ? '' : 's'}`);
    return 0;
}

async function checkCluster(b) {
    b.send('list', {});
    const m = await answer(b, 'cluster');
    const pad = (s, n) => String(s).padEnd(n);
    const lpad = (s, n) => String(s).padStart(n);

    console.log(`Agents: ${m.list.length}`);
    if (m.list.length)
        console.log(`  ${pad('Host', 32)} ${lpad('Pid', 8)}  ${pad('Version', 8)} ${pad('State', 9)} Run`);
    for (const a of m.list)
        console.log(`  ${pad(a.host, 32)} ${lpad(a.pid, 8)}  ${pad(a.version, 8)} ${pad(a.state, 9)} ${a.run || '-'}`);
    console.log(`Runs: ${m.runs.length}`);
    if (m.runs.length)
        console.log(`  ${pad('Run', 16)}  ${pad('State', 9)} ${lpad('Agents', 6)} ${lpad('Elapsed', 9)}  Test`);
    for (const r of m.runs)
        console.log(`  ${pad(r.run, 16)}  ${pad(r.state, 9)} ${lpad(r.agents, 6)} ${lpad(Number(r.elapsed).toFixed(1), 8)}s  ${r.test}`);
    return 0;
}

/* ---------------------------------------------------------------- a run */

const C_NAMES = ['hits', 'runs_started', 'runs', 'successes', 'failures', 'errors',
    'http_errors', 'bytes', 'ws_opened', 'ws_bytes', 'users_active', 'interrupted', 'dropped'];

/* One agent's figures: every delta added into zeros. */
function newFigures() {
    const c = {};
    for (const n of C_NAMES)
        c[n] = 0;
    return { c, l: newHist(), r: newHist(), x: 0, msgs: new Map(), seconds: new Map(), seq: 0 };
}

function addDelta(f, d) {
    (d.c || []).forEach((v, i) => {
        if (i < C_NAMES.length)
            f.c[C_NAMES[i]] = C_NAMES[i] === 'users_active' ? Number(v) : f.c[C_NAMES[i]] + Number(v);
    });
    histAdd(f.l, d.l);
    histAdd(f.r, d.r && d.r.length ? d.r : d.l);
    f.x += Number(d.x || 0);
    for (const [kind, test, text, count] of d.m || []) {
        const key = `${kind}\0${test}\0${text}`;
        f.msgs.set(key, (f.msgs.get(key) || 0) + Number(count));
    }
    for (const row of d.s || [])
        f.seconds.set(Number(row[0]), row.map(Number));
}

async function runTest(b, o, interrupts) {
    const files = collectFiles(o);
    const spec = {
        test: o.test, url: o.url, users: o.users, hits: o.durationUs ? [] : o.hits,
        duration_us: o.durationUs, workers: o.workers, ramp_up: 0, timeout: o.timeout,
        grace: 5, max_body: 16 << 20, rate: [], max_users: 0,
    };
    const interrupted = () => interrupts.n > 0;

    b.send('submit', { agents: o.agents, detach: false, spec, files, hash: filesHash(files) });
    const ok = await answer(b, 'accepted', interrupted);
    const run = ok ? ok.run : '';

    /*
     * The start barrier: building may take a while; the broker's heartbeats
     * keep us patient, and ours keep us its watcher (a watcher silent for
     * timeout_ms is dropped, and a run still building fails with it).
     */
    let info = null;
    let nextHb = 0;
    while (!info && !interrupted()) {
        if (run && Date.now() >= nextHb) {
            b.send('hb', { state: 'running', run });
            nextHb = Date.now() + HB_MS;
        }
        const m = await b.next(100);
        if (!m) {
            if (Date.now() - b.heardMs > TIMEOUT_MS)
                throw new Exit(2, b.noAnswer());
            continue;
        }
        if (m.t === 'refused')
            throw new Exit(m.status > 0 && m.status < 256 ? m.status : 2, oneLine(m.error));
        if (m.t === 'info' && m.run === run && m.state !== 'starting')
            info = m;
    }
    if (!info) {
        if (run)
            b.send('stop', { run, hard: true });
        throw new Exit(1, 'stopped before the start');
    }
    return follow(b, o, interrupts, info, false);
}

/* --attach RUN: info, a snapshot of each agent (reset), then the stream. */
async function attach(b, o, interrupts) {
    b.send('attach', { run: o.attach });
    const info = await answer(b, 'info', () => interrupts.n > 0);
    if (!info)
        throw new Exit(1, 'interrupted while waiting for the broker');
    o.test = info.spec.test;
    return follow(b, o, interrupts, info, true);
}

/*
 * Follows the run until its end: adds each agent's deltas, prints the
 * seconds, sends heartbeats; Ctrl-C stops the run (a second one: at once),
 * or only detaches when attached.
 */
async function follow(b, o, interrupts, info, attached) {
    const run = info.run;
    let stopsSent = 0;
    const n = info.list.length;
    const agents = info.list.map((a) => ({
        name: `${a.host}:${a.pid}`, state: 'running', status: 0, lost: false, f: newFigures(),
    }));
    const planned = Number(info.count);
    const printed = new Set();
    let ended = null;
    let lostBroker = false;
    let nextHb = 0;

    if (!o.quiet)
        console.error(`loads-runner.js: ${attached ? 'attached to ' : ''}run ${run}: ${o.test} on ${n} agent${n === 1 ? '' : 's'}`);
    /* Per-second lines: a second is printed once every agent has sent it. */
    const printSeconds = (all) => {
        if (o.quiet)
            return;
        const secs = new Set();
        for (const a of agents)
            for (const s of a.f.seconds.keys())
                secs.add(s);
        for (const s of [...secs].sort((x, y) => x - y)) {
            if (printed.has(s))
                continue;
            if (!all && !agents.every((a) => a.lost || a.f.seconds.has(s) ||
                [...a.f.seconds.keys()].some((k) => k > s)))
                continue;
            let hits = 0, errors = 0, p99 = 0;
            for (const a of agents) {
                const row = a.f.seconds.get(s);
                if (row) {
                    hits += row[1];
                    errors += row[2];
                    p99 = Math.max(p99, row[4]);
                }
            }
            printed.add(s);
            console.log(`  second ${s}: ${hits} hits, ${errors} errors, worst agent's p99 ${(p99 / 1000).toFixed(2)} ms`);
        }
    };

    while (!ended) {
        const now = Date.now();
        if (now >= nextHb) {
            b.send('hb', { state: attached ? 'watching' : 'running', run });
            nextHb = now + HB_MS;
        }
        if (attached && interrupts.n) {
            console.error(`loads-runner.js: detached from run ${run}, which goes on`);
            return 0;
        }
        if (interrupts.n > stopsSent) {
            stopsSent = interrupts.n;
            b.send('stop', { run, hard: stopsSent >= 2 });
            console.error(`loads-runner.js: stopping run ${run}${stopsSent >= 2 ? ' at once' : ' (Ctrl-C again: at once)'}`);
        }
        if (now - b.heardMs > TIMEOUT_MS) {
            lostBroker = true;
            console.error(`loads-runner.js: lost the broker ${b.endpoint}: the figures below stop there`);
            break;
        }
        const m = await b.next(50);
        if (!m || (m.run !== run && m.t !== 'refused'))
            continue;
        if (m.t === 'stats' && m.agents < n) {
            const a = agents[m.agents];
            if (m.reset) {
                a.f = newFigures();
            } else if (m.seq !== a.f.seq + 1) {
                /* A delta went missing on the way: the whole run again. */
                b.send('attach', { run });
                continue;
            }
            addDelta(a.f, m.d);
            a.f.seq = m.seq;
            printSeconds(false);
        } else if (m.t === 'lost' && m.agents < n) {
            agents[m.agents].lost = true;
            agents[m.agents].state = 'lost';
            console.error(`loads-runner.js: agent ${agents[m.agents].name} lost at ${Number(m.at).toFixed(1)} s`);
        } else if (m.t === 'end') {
            m.list.forEach((l, i) => {
                if (i < n) {
                    agents[i].state = l.state;
                    agents[i].status = l.status;
                    agents[i].lost = l.state === 'lost';
                }
            });
            ended = m;
        } else if (m.t === 'refused') {
            throw new Exit(m.status > 0 && m.status < 256 ? m.status : 1, oneLine(m.error));
        }
    }
    printSeconds(true);
    return summary(o, run, agents, planned, ended, lostBroker, stopsSent > 0 ? interrupts.signal : '');
}

function summary(o, run, agents, planned, ended, lostBroker, stopped) {
    const all = newFigures();
    let crashes = 0;

    for (const a of agents) {
        for (const k of C_NAMES)
            all.c[k] += a.f.c[k];
        for (const h of ['l', 'r']) {
            const src = a.f[h];
            all[h].count += src.count;
            all[h].sum += src.sum;
            if (src.min1 && (!all[h].min1 || src.min1 < all[h].min1))
                all[h].min1 = src.min1;
            all[h].max = Math.max(all[h].max, src.max);
            for (const [i, c] of src.slots)
                all[h].slots.set(i, (all[h].slots.get(i) || 0) + c);
        }
        crashes += a.f.x;
        for (const [k, c] of a.f.msgs)
            all.msgs.set(k, (all.msgs.get(k) || 0) + c);
    }
    const c = all.c;
    const ms = (us) => (us / 1000).toFixed(3);
    const lost = agents.filter((a) => a.lost).length;

    console.log(`Run: ${run}`);
    console.log(`Test: ${o.test}`);
    if (ended)
        console.log(`Duration: ${Number(ended.at).toFixed(2)} s`);
    if (stopped)
        console.log(`Stopped by: ${stopped}${stopped === 'SIGINT' ? ' (Ctrl-C)' : ''}`);
    console.log(`Hits: ${c.hits}`);
    console.log(`Runs: ${c.runs}${planned ? ` of ${planned} planned` : ''}`);
    console.log(`Success: ${c.successes}`);
    console.log(`Failures: ${c.failures}`);
    console.log(`Errors: ${c.errors}`);
    console.log(`HTTP errors: ${c.http_errors}`);
    if (crashes)
        console.log(`Worker crashes: ${crashes}`);
    if (all.l.count) {
        console.log(`Latency (ms): min ${ms(all.l.min1 - 1)} mean ${ms(all.l.sum / all.l.count)} p50 ${ms(percentile(all.l, 50))} p99 ${ms(percentile(all.l, 99))} max ${ms(all.l.max)}`);
    }
    console.log(`Agents: ${agents.length} (${lost} lost)`);
    for (const a of agents)
        console.log(`  ${a.name}: ${a.state} ${a.f.c.hits} hits, ${a.f.c.runs} runs, ${a.f.c.failures} failures, ${a.f.c.errors} errors`);
    const msgs = [...all.msgs].sort((x, y) => y[1] - x[1]).slice(0, 10);
    for (const [k, count] of msgs) {
        const [kind, test, text] = k.split('\0');
        console.log(`  ${['', 'failure', 'error', 'crash'][kind] || 'message'} x${count} in ${test}: ${text}`);
    }

    /* Stopped before its plan was done: 128 + the signal, as loads-runner. */
    if (stopped && !(planned && c.runs >= planned))
        return 128 + require('os').constants.signals[stopped];
    if (crashes || c.failures || c.errors || lost || lostBroker)
        return 1;
    if (planned && c.runs !== planned)
        return 1;
    return 0;
}

/* ---------------------------------------------------------------- main */

async function main() {
    let o;
    try {
        o = parseArgs(process.argv.slice(2));
    } catch (e) {
        if (!(e instanceof UsageError))
            throw e;
        console.error(`loads-runner.js: ${e.message}`);
        return 2;
    }
    if (o.cmd === 'help') {
        process.stdout.write(USAGE);
        return 0;
    }
    loadDeps();

    const interrupts = { n: 0, signal: '' };
    const onSignal = (name) => {
        interrupts.n++;
        interrupts.signal = interrupts.signal || name;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    let b = null;
    try {
        b = new Broker(o);
        if (o.cmd === 'ping')
            return await ping(b);
        if (o.cmd === 'check')
            return await checkCluster(b);
        if (o.attach)
            return await attach(b, o, interrupts);
        return await runTest(b, o, interrupts);
    } catch (e) {
        if (e instanceof UsageError) {
            console.error(`loads-runner.js: ${e.message}`);
            return 2;
        }
        if (e instanceof Exit) {
            if (e.message)
                console.error(`loads-runner.js: ${e.message}`);
            return e.status;
        }
        throw e;
    } finally {
        if (b)
            b.close();
    }
}

main().then((status) => { process.exitCode = status; }, (e) => {
    console.error(`loads-runner.js: ${e.stack || e}`);
    process.exitCode = 2;
});
