/**
 * The net A client of the active-control test, run (compiled, from dist/)
 * inside a net A peer's namespace: logs in to the origin directly (net A is
 * never redirected), searches for one file by all its keywords, then asks the
 * origin for a download (203) of every result and records each 204, as a
 * Napster client does before it connects to the sharer (napster.txt: 203/204).
 * Prints one JSON line: `{results: [...], acks: [...]}`; on failure
 * `{error}` and exit status 1.
 *
 *   node a-side-probe.js HOST:PORT NICK KEYWORD...
 */
import { OpenNapClient } from '../../opennap/client.js';
import { serializeSearch } from '../../opennap/search-expression.js';

/** Time for each step (connect, login, search, each download request): the origin answers in milliseconds. */
export const PROBE_STEP_TIMEOUT_MS = 5_000;
/** Download requests sent at most: one per sharer of the file is all the test needs. */
export const MAX_DOWNLOAD_REQUESTS = 32;

export interface ProbeOutput {
  results: { nick: string; ip: string; filename: string }[];
  acks: ({ nick: string; ip: string; port: number; filename: string } | { nick: string; error: string })[];
}

async function probe(host: string, port: number, nick: string, keywords: string[]): Promise<ProbeOutput> {
  const client = new OpenNapClient();
  try {
    await client.connect({ host, port, timeoutMs: PROBE_STEP_TIMEOUT_MS });
    await client.login({ nick, password: 'probe', port: 6699, clientInfo: 'active-control probe', linkType: 0, newUser: true, timeoutMs: PROBE_STEP_TIMEOUT_MS });
    const out = await client.search(serializeSearch({ include: keywords, exclude: [], maxResults: 100 }), { timeoutMs: PROBE_STEP_TIMEOUT_MS });
    const results = out.results.map((r) => ({ nick: r.nick, ip: r.ip, filename: r.filename }));
    const acks: ProbeOutput['acks'] = [];
    // One at a time: the client matches 204s to requests by nick and filename.
    for (const r of results.slice(0, MAX_DOWNLOAD_REQUESTS)) {
      try {
        const ack = await client.downloadRequest(r.nick, r.filename, { timeoutMs: PROBE_STEP_TIMEOUT_MS });
        acks.push({ nick: ack.nick, ip: ack.ip, port: ack.port, filename: ack.filename });
      } catch (err) {
        acks.push({ nick: r.nick, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      }
    }
    return { results, acks };
  } finally {
    await client.close();
  }
}

const [target, nick, ...keywords] = process.argv.slice(2);
const m = /^([^:]+):(\d+)$/.exec(target ?? '');
if (m === null || nick === undefined || keywords.length === 0) {
  process.stdout.write(`${JSON.stringify({ error: 'usage: a-side-probe HOST:PORT NICK KEYWORD...' })}\n`);
  process.exitCode = 1;
} else {
  try {
    process.stdout.write(`${JSON.stringify(await probe(m[1] as string, Number(m[2]), nick, keywords))}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })}\n`);
    process.exitCode = 1;
  }
}
