/**
 * The OpenNap interoperability checks (issue 2): four peers and a returning
 * user talk to one server through the project's own `OpenNapClient`, and
 * every answer is compared with what the C server (sbcas/opennap, search.c
 * `fdb_search()`, login.c, download.c) does: login 6 and 2 acked with 3,
 * shares (100) found by search (200) as 201s ended by a 202, a user's own
 * files never returned, a result hidden when searcher and sharer both have
 * data port 0, MAX_RESULTS capped, download requests (203) answered with
 * 204/206, BITRATE "AT LEAST" filtering. One result per check, with figures.
 */
import { OpenNapClient } from '../../opennap/client.js';
import type { SearchOutcome } from '../../opennap/client.js';
import { DownloadUnavailableError } from '../../opennap/errors.js';
import { MessageType } from '../../opennap/message-types.js';
import { buildFileRef, dataText, parseFileRef } from '../../opennap/messages.js';
import type { SearchResult, SharedFile } from '../../opennap/messages.js';
import type { SearchQuery } from '../../opennap/search-expression.js';
import { capFiles, detailFiles, firewalledFiles, interopWords } from './interop-files.js';
import type { InteropWords } from './interop-files.js';

export interface InteropTarget {
  host: string;
  port: number;
  /** Wait for any one answer (connect, login, search end, download ack). */
  timeoutMs: number;
  /** Lower-case letters/digits that make this run's nicks and search words unique. */
  tag: string;
}

export interface CheckResult {
  name: string;
  pass: boolean;
  /** The numbers behind the verdict, printed after it. */
  figures: string;
}

/** The C server's 201 md5 field when it was built without RESUME (search.c: a literal of 32 zeros). */
export const ZERO_MD5 = '0'.repeat(32);

/** What every 201 must carry for 127.0.0.1: `sin_addr.s_addr` printed with %u on a little-endian host. */
export const LOOPBACK_NAPSTER_IP = '16777343';

const OPEN_SHARER_PORT = 6699;
const OPEN_SEARCHER_PORT = 6700;
const OPEN_SHARER_LINK = 7;
const PASSWORD = 'interop1';

interface Peer {
  nick: string;
  client: OpenNapClient;
  /** Data of every 201 received, raw, in order (only the searchers record them). */
  raw201: string[];
  /** 607 upload requests the server sent this peer. */
  uploadRequests: number;
}

function query(word: string, maxResults: number, extra: Partial<SearchQuery> = {}): SearchQuery {
  return { include: [word], exclude: [], maxResults, ...extra };
}

function message(err: unknown): string {
  if (err instanceof Error) return `${err.name}${'code' in err ? `(${String(err.code)})` : ''}: ${err.message}`;
  return String(err);
}

export class InteropRun {
  readonly results: CheckResult[] = [];
  private readonly peers: Peer[] = [];
  readonly words: InteropWords;

  constructor(private readonly target: InteropTarget) {
    this.words = interopWords(target.tag);
  }

  private nick(role: string): string {
    // ≤ 19 characters and only letters/digits: the C server's invalid_nick() and max_nick_length accept it.
    return `ia${this.target.tag.slice(0, 8)}${role}`;
  }

  private record(name: string, pass: boolean, figures: string): void {
    this.results.push({ name, pass, figures });
  }

  /** Runs `body`; a throw becomes a FAIL of `name` with the error as its figures. */
  private async check(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      this.record(name, false, message(err));
    }
  }

  private async connect(role: string, dataPort: number, linkType: number, newUser: boolean): Promise<{ peer: Peer; ack: string }> {
    const raw201: string[] = [];
    const client = new OpenNapClient({
      onFrame: (type, data) => {
        if (type === MessageType.SearchResult) raw201.push(dataText(data));
      },
    });
    const peer: Peer = { nick: this.nick(role), client, raw201, uploadRequests: 0 };
    // A real client answers the server's 607 (upload request) with 608 (accept); download.c may wait for it before its 204.
    client.on('message', (m: { type: number; data: Buffer }) => {
      if (m.type !== 607) return;
      peer.uploadRequests++;
      const ref = parseFileRef(dataText(m.data));
      if (ref.kind === 'ok') client.sendRaw(608, buildFileRef(ref.value));
    });
    client.on('socketError', () => undefined);
    await client.connect({ host: this.target.host, port: this.target.port, timeoutMs: this.target.timeoutMs });
    this.peers.push(peer);
    const ack = await client.login({
      nick: peer.nick,
      password: PASSWORD,
      port: dataPort,
      clientInfo: 'active-router interop 1.0',
      linkType,
      newUser,
      timeoutMs: this.target.timeoutMs,
    });
    return { peer, ack };
  }

  private search(peer: Peer, q: SearchQuery | string): Promise<SearchOutcome> {
    peer.raw201.length = 0;
    return peer.client.search(q, { timeoutMs: this.target.timeoutMs });
  }

  async run(): Promise<CheckResult[]> {
    const w = this.words;
    const detail = detailFiles(w);
    const cap = capFiles(w);
    const hidden = firewalledFiles(w);
    let sharer: Peer | undefined;
    let searcher: Peer | undefined;
    let fwSharer: Peer | undefined;
    let fwSearcher: Peer | undefined;

    await this.check('login new user (6 -> 3)', async () => {
      const a = await this.connect('a', OPEN_SHARER_PORT, OPEN_SHARER_LINK, true);
      sharer = a.peer;
      this.record('login new user (6 -> 3)', true, `nick=${a.peer.nick} ack="${a.ack}"`);
    });

    await this.check('login existing user (2 -> 3)', async () => {
      const first = await this.connect('r', 6701, 3, true);
      await first.peer.client.close();
      const again = await this.connect('r', 6701, 3, false);
      this.record('login existing user (2 -> 3)', true, `nick=${again.peer.nick} ack="${again.ack}" (registered by 6, then 2 on a new connection)`);
    });

    await this.check('peers online', async () => {
      searcher = (await this.connect('b', OPEN_SEARCHER_PORT, 4, true)).peer;
      fwSharer = (await this.connect('c', 0, 3, true)).peer;
      fwSearcher = (await this.connect('d', 0, 3, true)).peer;
      this.record('peers online', true, `searcher=${searcher.nick}(port ${OPEN_SEARCHER_PORT}) fw-sharer=${fwSharer.nick}(port 0) fw-searcher=${fwSearcher.nick}(port 0)`);
    });
    if (sharer === undefined || searcher === undefined || fwSharer === undefined || fwSearcher === undefined) {
      this.record('remaining checks', false, 'skipped: a peer could not log in');
      return this.results;
    }
    const [a, b, c, d] = [sharer, searcher, fwSharer, fwSearcher];

    await this.check('share (100)', async () => {
      const before = await a.client.serverStats({ timeoutMs: this.target.timeoutMs });
      a.client.share([...detail, ...cap]);
      c.client.share(hidden);
      // 214 on the sharer's own connection is answered after its 100s: the count includes them.
      const after = await a.client.serverStats({ timeoutMs: this.target.timeoutMs });
      await c.client.serverStats({ timeoutMs: this.target.timeoutMs });
      const grew = after.files - before.files;
      const want = detail.length + cap.length;
      this.record('share (100)', grew >= want, `files ${before.files} -> ${after.files} (+${grew}, want >= +${want}; 214 = users files gigabytes)`);
    });

    await this.check('search (200) -> 201 fields', async () => {
      const out = await this.search(b, query(w.detail, 100));
      const problems = compareResults(out.results, detail, a.nick, OPEN_SHARER_LINK);
      const ipFields = [...new Set(b.raw201.map((r) => r.split(' ').at(-2)))];
      const md5Kinds = [...new Set(out.results.map((r) => (r.md5 === ZERO_MD5 ? 'zeros' : detail.some((f) => f.md5 === r.md5) ? 'as-shared' : 'other')))];
      if (!ipFields.every((f) => f === LOOPBACK_NAPSTER_IP)) problems.push(`raw ip field ${ipFields.join(',')} != ${LOOPBACK_NAPSTER_IP}`);
      if (md5Kinds.includes('other')) problems.push('md5 neither as shared nor 32 zeros');
      if (out.malformed > 0) problems.push(`${out.malformed} malformed 201`);
      const figures = `results=${out.results.length}/${detail.length} md5=${md5Kinds.join('+') || '-'} raw-ip=${ipFields.join(',') || '-'} first201="${b.raw201[0] ?? ''}"`;
      this.record('search (200) -> 201 fields', problems.length === 0 && out.results.length === detail.length, problems.length ? `${figures} problems: ${problems.join('; ')}` : figures);
      this.record('search end (202)', out.endedBy === 'end', `endedBy=${out.endedBy} after ${(out.firstResultAt ?? Date.now()) - out.sentAt} ms to first answer`);
    });

    await this.check('own files never returned', async () => {
      const out = await this.search(a, query(w.detail, 100));
      this.record('own files never returned', out.endedBy === 'end' && out.results.length === 0, `sharer's own search: results=${out.results.length} (want 0) endedBy=${out.endedBy}`);
    });

    await this.check('data port 0 on both sides hides', async () => {
      const out = await this.search(d, query(w.firewalled, 100));
      this.record('data port 0 on both sides hides', out.endedBy === 'end' && out.results.length === 0, `fw searcher -> fw sharer: results=${out.results.length} (want 0) endedBy=${out.endedBy}`);
    });

    await this.check('data port 0 on one side shows', async () => {
      const fromFw = await this.search(d, query(w.detail, 100));
      const toFw = await this.search(b, query(w.firewalled, 100));
      const ok = fromFw.results.length === detail.length && toFw.results.length === hidden.length && toFw.results.every((r) => r.nick === c.nick);
      this.record('data port 0 on one side shows', ok, `fw searcher -> open sharer: ${fromFw.results.length}/${detail.length}; open searcher -> fw sharer: ${toFw.results.length}/${hidden.length}`);
    });

    await this.check('MAX_RESULTS honoured', async () => {
      const two = await this.search(b, query(w.detail, 2));
      const big = await this.search(b, `FILENAME CONTAINS "${w.cap}" MAX_RESULTS 500`);
      const zero = await this.search(b, `FILENAME CONTAINS "${w.cap}" MAX_RESULTS 0`);
      const ok = two.results.length === 2 && big.results.length === 100 && zero.results.length === 100;
      this.record('MAX_RESULTS honoured', ok, `MAX_RESULTS 2 -> ${two.results.length} (want 2); 500 -> ${big.results.length} (want cap 100, ${cap.length} shared); 0 -> ${zero.results.length} (want 100)`);
    });

    await this.check('download request (203 -> 204)', async () => {
      const file = detail[1]!;
      const ack = await b.client.downloadRequest(a.nick, file.filename, { timeoutMs: this.target.timeoutMs });
      const ok = ack.nick === a.nick && ack.ip === '127.0.0.1' && ack.port === OPEN_SHARER_PORT && ack.filename === file.filename && ack.linkType === OPEN_SHARER_LINK;
      this.record('download request (203 -> 204)', ok, `204 nick=${ack.nick} ip=${ack.ip} port=${ack.port} md5=${ack.md5} link=${ack.linkType} (607 seen by sharer: ${a.uploadRequests})`);
    });

    await this.check('download of an unshared file (203 -> 206)', async () => {
      const name = `C:\\My Music\\${w.detail} not shared.mp3`;
      try {
        const ack = await b.client.downloadRequest(a.nick, name, { timeoutMs: this.target.timeoutMs });
        this.record('download of an unshared file (203 -> 206)', false, `got 204 for a file never shared: port=${ack.port}`);
      } catch (err) {
        if (!(err instanceof DownloadUnavailableError)) throw err;
        this.record('download of an unshared file (203 -> 206)', err.nick === a.nick && err.filename === name, `206 nick=${err.nick} filename matches=${err.filename === name}`);
      }
    });

    await this.check('filter BITRATE "AT LEAST" 192', async () => {
      const out = await this.search(b, query(w.detail, 100, { bitrate: { op: 'atLeast', value: 192 } }));
      const want = detail.filter((f) => f.bitrate >= 192).length;
      const ok = out.results.length === want && out.results.every((r) => r.bitrate >= 192);
      this.record('filter BITRATE "AT LEAST" 192', ok, `results=${out.results.length} (want ${want}) bitrates=${out.results.map((r) => r.bitrate).join(',')}`);
    });

    return this.results;
  }

  /** Closes every connection the run opened. */
  async close(): Promise<void> {
    await Promise.all(this.peers.map((p) => p.client.close()));
  }
}

/** Differences between 201 results and the files shared; empty when every field is as the C server sends it. */
export function compareResults(results: readonly SearchResult[], shared: readonly SharedFile[], nick: string, linkType: number): string[] {
  const problems: string[] = [];
  for (const r of results) {
    const f = shared.find((s) => s.filename === r.filename);
    if (f === undefined) {
      problems.push(`unexpected "${r.filename}"`);
      continue;
    }
    const diffs: string[] = [];
    if (r.md5 !== f.md5 && r.md5 !== ZERO_MD5) diffs.push(`md5 ${r.md5}`);
    if (r.size !== f.size) diffs.push(`size ${r.size}!=${f.size}`);
    if (r.bitrate !== f.bitrate) diffs.push(`bitrate ${r.bitrate}!=${f.bitrate}`);
    if (r.freq !== f.freq) diffs.push(`freq ${r.freq}!=${f.freq}`);
    if (r.duration !== f.duration) diffs.push(`duration ${r.duration}!=${f.duration}`);
    if (r.nick !== nick) diffs.push(`nick ${r.nick}!=${nick}`);
    if (r.ip !== '127.0.0.1') diffs.push(`ip ${r.ip}`);
    if (r.linkType !== linkType) diffs.push(`link ${r.linkType}!=${linkType}`);
    if (diffs.length > 0) problems.push(`"${r.filename}": ${diffs.join(', ')}`);
  }
  const names = new Set(results.map((r) => r.filename));
  if (names.size !== results.length) problems.push('duplicate results');
  return problems;
}

/** Runs every check against one server and closes the connections, whatever happened. */
export async function runInteropChecks(target: InteropTarget): Promise<CheckResult[]> {
  const run = new InteropRun(target);
  try {
    return await run.run();
  } finally {
    await run.close();
  }
}
