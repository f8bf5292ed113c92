/**
 * Helpers shared by the cache proxy's loopback tests: an origin server and
 * a proxy on 127.0.0.1, logged-in clients, polling until a condition holds,
 * and 201 payloads as the analyzer would hand them over.
 */
import { OpenNapClient } from '../../opennap/client.js';
import { buildSearchResult } from '../../opennap/messages.js';
import type { SharedFile } from '../../opennap/messages.js';
import { OpenNapServer } from '../../opennap/server.js';
import { CacheProxy } from './cache-proxy.js';
import { directSource } from './direct-source.js';
import type { CacheProxyInit } from './types.js';

export const LOOPBACK = '127.0.0.1';

export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function song(filename: string, bitrate = 128): SharedFile {
  return { filename, md5: '0123456789abcdef0123456789abcdef', size: 3_000_000, bitrate, freq: 44100, duration: 180 };
}

/** The data of a 201 for `f` shared by `nick` at `ip`, as the analyzer captures it. */
export function resultPayload(nick: string, f: SharedFile, ip = LOOPBACK, linkType = 4): Buffer {
  return Buffer.from(buildSearchResult({ ...f, nick, ip, linkType }), 'latin1');
}

export async function startOrigin(): Promise<OpenNapServer> {
  const s = new OpenNapServer({ host: LOOPBACK, port: 0 });
  await s.start();
  return s;
}

export async function startProxy(originPort: number, over: Partial<CacheProxyInit> = {}): Promise<CacheProxy> {
  const p = new CacheProxy({
    origin: { ip: LOOPBACK, port: originPort },
    listen: { host: LOOPBACK, port: 0 },
    cacheTtlMs: 60_000,
    maxCacheEntries: 1000,
    maxCacheBytes: 10_000_000,
    upstreamConnectTimeoutMs: 2000,
    upstreamSource: directSource,
    ...over,
  });
  await p.start();
  return p;
}

export async function loggedIn(port: number, nick: string, opts: { dataPort?: number; linkType?: number } = {}): Promise<OpenNapClient> {
  const c = new OpenNapClient();
  c.on('socketError', () => undefined);
  await c.connect({ host: LOOPBACK, port });
  await c.login({ nick, password: 'pw', port: opts.dataPort ?? 6699, clientInfo: 'test 1.0', linkType: opts.linkType ?? 4 });
  return c;
}
