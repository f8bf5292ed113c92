/**
 * Byte-for-byte relaying, checked against a raw TCP origin on loopback that
 * records what it receives and sends what the test tells it: everything
 * but searches passes both ways unchanged, whatever the chunking; 201/202
 * on the upstream answer the proxy's own forwards and never reach the client.
 */
import net from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder, encodeFrame, encodeFrames } from '../../opennap/codec.js';
import { buildLogin } from '../../opennap/messages.js';
import type { CacheProxy } from './cache-proxy.js';
import { LOOPBACK, resultPayload, song, startProxy, waitFor } from './test-helpers.js';

interface RawOrigin {
  port: number;
  received: () => Buffer;
  send: (bytes: Buffer) => void;
  close: () => Promise<void>;
}

async function rawOrigin(): Promise<RawOrigin> {
  const chunks: Buffer[] = [];
  let conn: net.Socket | undefined;
  const server = net.createServer((s) => {
    conn = s;
    s.on('error', () => undefined);
    s.on('data', (c: Buffer) => chunks.push(c));
  });
  await new Promise<void>((r) => server.listen(0, LOOPBACK, () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => Buffer.concat(chunks),
    send: (bytes) => conn?.write(bytes),
    close: () =>
      new Promise<void>((r) => {
        conn?.destroy();
        server.close(() => r());
      }),
  };
}

interface RawClient {
  socket: net.Socket;
  received: () => Buffer;
}

async function rawClient(port: number): Promise<RawClient> {
  const chunks: Buffer[] = [];
  const socket = net.connect({ host: LOOPBACK, port });
  socket.on('error', () => undefined);
  socket.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  return { socket, received: () => Buffer.concat(chunks) };
}

/** Writes `bytes` in chunks cut at `cuts`, one write per chunk with a pause between, so TCP keeps them apart. */
async function writeChunked(s: net.Socket, bytes: Buffer, cuts: number[]): Promise<void> {
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b).concat(bytes.length)) {
    if (cut <= at || cut > bytes.length) continue;
    s.write(bytes.subarray(at, cut));
    at = cut;
    await new Promise((r) => setImmediate(r));
  }
}

function frames(bytes: Buffer): { type: number; data: string }[] {
  const d = new FrameDecoder(0xffff);
  d.push(bytes);
  const out: { type: number; data: string }[] = [];
  for (let r = d.next(); r.kind === 'ok'; r = d.next()) out.push({ type: r.frame.type, data: r.frame.data.toString('latin1') });
  return out;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function setup(): Promise<{ origin: RawOrigin; proxy: CacheProxy; c: RawClient }> {
  const origin = await rawOrigin();
  cleanups.push(() => origin.close());
  const proxy = await startProxy(origin.port);
  cleanups.push(() => proxy.stop());
  const c = await rawClient(proxy.address().port);
  cleanups.push(async () => void c.socket.destroy());
  return { origin, proxy, c };
}

const LOGIN = encodeFrame(2, buildLogin({ nick: 'dave', password: 'pw', port: 6699, clientInfo: 'raw 1', linkType: 4 }));

describe('CacheProxy relay', () => {
  it('passes every non-search frame both ways byte for byte, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ type: fc.integer({ min: 0, max: 65535 }).filter((t) => t !== 200 && t !== 201 && t !== 202 && t !== 2 && t !== 6), data: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 12 }),
        fc.array(fc.nat(4000), { maxLength: 8 }),
        async (list, cuts) => {
          const { origin, c } = await setup();
          const up = Buffer.concat([LOGIN, encodeFrames(list.map((f) => ({ type: f.type, data: Buffer.from(f.data) })))]);
          await writeChunked(c.socket, up, cuts);
          await waitFor(() => origin.received().length >= up.length, 5000, 'origin to receive everything');
          expect(origin.received().equals(up)).toBe(true);
          // And back: the origin's frames (no 201/202: those belong to forwards) reach the client unchanged.
          const down = encodeFrames(list.map((f) => ({ type: f.type, data: Buffer.from(f.data) })));
          origin.send(down);
          await waitFor(() => c.received().length >= down.length, 5000, 'client to receive everything');
          expect(c.received().equals(down)).toBe(true);
          for (const f of cleanups.splice(0).reverse()) await f();
        },
      ),
      { numRuns: 15 },
    );
  });

  it('answers searches itself, forwards the bare keywords, and consumes the origin answer into the cache', async () => {
    const { origin, proxy, c } = await setup();
    c.socket.write(LOGIN);
    c.socket.write(encodeFrame(200, 'FILENAME CONTAINS "Zeta alpha" MAX_RESULTS 7 BITRATE "AT LEAST" "128"'));
    // The client's answer comes at once: an empty 202 (nothing local, nothing cached yet).
    await waitFor(() => c.received().length >= 4);
    expect(frames(c.received())).toEqual([{ type: 202, data: '' }]);
    // The origin saw the login and the proxy's own forward, not the client's search text.
    await waitFor(() => frames(origin.received()).length === 2);
    expect(frames(origin.received())[1]).toEqual({ type: 200, data: 'FILENAME CONTAINS "alpha zeta" MAX_RESULTS 100' });

    // The origin answers the forward, then sends a chat line: results are consumed, the chat relayed.
    const results = [resultPayload('olga', song('alpha zeta one.mp3')), resultPayload('olga', song('alpha zeta two.mp3', 64))];
    origin.send(Buffer.concat([...results.map((r) => encodeFrame(201, r)), encodeFrame(202), encodeFrame(205, 'olga hi')]));
    await waitFor(() => proxy.stats().cacheEntries === 1);
    await waitFor(() => frames(c.received()).length === 2);
    expect(frames(c.received())[1]).toEqual({ type: 205, data: 'olga hi' });

    // Now the same key is a hit, filtered by the client's own BITRATE clause.
    c.socket.write(encodeFrame(200, 'FILENAME CONTAINS "alpha zeta" BITRATE "AT LEAST" "128"'));
    await waitFor(() => frames(c.received()).length === 4);
    const got = frames(c.received()).slice(2);
    expect(got[0]).toEqual({ type: 201, data: results[0]!.toString('latin1') });
    expect(got[1]).toEqual({ type: 202, data: '' });
    expect(proxy.stats()).toMatchObject({ forwards: 1, hits: 1, misses: 1, cacheResults: 1 });
  });

  it('relays a search sent before any login, and its answer, unchanged', async () => {
    const { origin, c } = await setup();
    const search = encodeFrame(200, 'FILENAME CONTAINS "early"');
    c.socket.write(search);
    await waitFor(() => origin.received().length >= search.length);
    expect(origin.received().equals(search)).toBe(true);
    const answer = Buffer.concat([encodeFrame(201, resultPayload('x', song('early bird.mp3'))), encodeFrame(202)]);
    origin.send(answer);
    await waitFor(() => c.received().length >= answer.length);
    expect(c.received().equals(answer)).toBe(true);
  });
});
