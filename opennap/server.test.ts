// Loopback tests of the directory server with the real client: many users share the paper's catalogue and
// every search answer is compared with what the catalogue says it must be. 127.0.0.1 and port 0 only.
import fc from 'fast-check';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from './codec.js';
import { assignFilesToPeers, paperCatalogue } from './catalogue.js';
import type { CatalogueFile } from './catalogue.js';
import { OpenNapClient } from './client.js';
import { DownloadUnavailableError, LoginRejectedError } from './errors.js';
import { MessageType } from './message-types.js';
import type { SharedFile } from './messages.js';
import { Random } from './random.js';
import { OpenNapServer } from './server.js';

const PEERS = 20;
const catalogue = paperCatalogue(1);
const shares = assignFilesToPeers(catalogue.files, PEERS, new Random(7));

function toShared(f: CatalogueFile): SharedFile {
  return { filename: f.name, md5: f.md5, size: f.size, bitrate: f.bitrate, freq: f.freq, duration: f.duration };
}

async function connectClient(server: OpenNapServer, nick: string, port: number, linkType = 4): Promise<OpenNapClient> {
  const c = new OpenNapClient();
  await c.connect({ host: '127.0.0.1', port: server.address().port });
  await c.login({ nick, password: 'pw', port, clientInfo: 'test 1.0', linkType, newUser: true });
  return c;
}

/** Resolves once the server has closed `socket`. */
function closedBy(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.on('close', () => resolve(Buffer.concat(chunks))));
}

function rawSocket(server: OpenNapServer): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: server.address().port }, () => resolve(s));
    s.once('error', reject);
  });
}

function framesOf(buf: Buffer): { type: number; text: string }[] {
  const d = new FrameDecoder(65535);
  d.push(buf);
  const out: { type: number; text: string }[] = [];
  for (;;) {
    const r = d.next();
    if (r.kind !== 'ok') return out;
    out.push({ type: r.frame.type, text: r.frame.data.toString('latin1') });
  }
}

/** Waits until `cond` holds (the server handles a close or a share asynchronously). */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('OpenNapServer with 20 peers sharing the paper catalogue', () => {
  const server = new OpenNapServer({ host: '127.0.0.1', port: 0, partialFrameTimeoutMs: 300 });
  const clients: OpenNapClient[] = [];
  const totalFiles = catalogue.files.length;

  beforeAll(async () => {
    await server.start();
    for (let i = 0; i < PEERS; i++) {
      const c = await connectClient(server, `peer${i}`, 6600 + i, i % 11);
      c.share((shares[i] ?? []).map(toShared));
      clients.push(c);
    }
    await until(() => server.stats().files === totalFiles);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  });

  it('answers every keyword with exactly the catalogue files holding it, never the searcher own files', async () => {
    const rng = new Random(3);
    for (const { word } of catalogue.keywords) {
      const s = rng.int(PEERS);
      const own = new Set((shares[s] ?? []).map((f) => f.name));
      const expected = catalogue.files.filter((f) => f.keywords.includes(word) && !own.has(f.name)).map((f) => f.name).sort();
      const out = await clients[s]!.search(`FILENAME CONTAINS "${word}" MAX_RESULTS 100`);
      expect(out.endedBy).toBe('end');
      expect(out.results.map((r) => r.filename).sort()).toEqual(expected);
      for (const r of out.results) {
        const owner = shares.findIndex((list) => list.some((f) => f.name === r.filename));
        expect(r.nick).toBe(`peer${owner}`);
        expect(r.ip).toBe('127.0.0.1');
        expect(r.linkType).toBe(owner % 11);
        const f = catalogue.files.find((x) => x.name === r.filename)!;
        expect([r.md5, r.size, r.bitrate, r.freq, r.duration]).toEqual([f.md5, f.size, f.bitrate, f.freq, f.duration]);
      }
    }
  });

  it('ANDs keywords and pipelines many outstanding searches, answered in order', async () => {
    const c = clients[0]!;
    const own = new Set((shares[0] ?? []).map((f) => f.name));
    const pairs = catalogue.files.slice(0, 40).map((f) => [f.keywords[0]!, f.keywords[1]!] as const);
    const outs = await Promise.all(pairs.map(([a, b]) => c.search(`FILENAME CONTAINS "${a} ${b}" MAX_RESULTS 100`)));
    outs.forEach((out, i) => {
      const [a, b] = pairs[i]!;
      const expected = catalogue.files.filter((f) => f.keywords.includes(a) && f.keywords.includes(b) && !own.has(f.name));
      expect(out.results.map((r) => r.filename).sort()).toEqual(expected.map((f) => f.name).sort());
    });
  });

  it('caps MAX_RESULTS at 100 and honours smaller limits', async () => {
    // Every file name ends in ".mp3": "mp3" matches all 120 files.
    const big = await clients[1]!.search('FILENAME CONTAINS "mp3" MAX_RESULTS 500');
    expect(big.results).toHaveLength(100);
    const small = await clients[1]!.search('FILENAME CONTAINS "mp3" MAX_RESULTS 7');
    expect(small.results).toHaveLength(7);
  });

  it('honours bitrate, freq and linespeed filters', async () => {
    const own = new Set((shares[2] ?? []).map((f) => f.name));
    const out = await clients[2]!.search('FILENAME CONTAINS "mp3" MAX_RESULTS 100 BITRATE "AT LEAST" "192" FREQ "EQUAL TO" "44100"');
    const expected = catalogue.files.filter((f) => !own.has(f.name) && f.bitrate >= 192 && f.freq === 44100);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(100);
    expect(out.results.map((r) => r.filename).sort()).toEqual(expected.map((f) => f.name).sort());
    const fast = await clients[2]!.search('FILENAME CONTAINS "mp3" MAX_RESULTS 100 LINESPEED "AT LEAST" 8');
    expect(fast.results.length).toBeGreaterThan(0);
    for (const r of fast.results) expect(r.linkType).toBeGreaterThanOrEqual(8);
  });

  it('answers an unreadable search with 404 then 202, and the connection stays', async () => {
    const out = await clients[3]!.search('FILENAME FROBNICATES "x" MAX_RESULTS 10');
    expect(out.endedBy).toBe('end');
    expect(out.results).toHaveLength(0);
    expect(out.errors[0]).toMatch(/invalid search request/);
    const again = await clients[3]!.search(`FILENAME CONTAINS "${catalogue.keywords[0]!.word}" MAX_RESULTS 100`);
    expect(again.results.length).toBeGreaterThan(0);
    const searchErrors = Object.entries(server.stats().errors).filter(([code]) => code.startsWith('opennap.search_'));
    expect(searchErrors.length).toBeGreaterThan(0);
  });

  it('leaves a result out when both the searcher and the sharer have data port 0', async () => {
    const sharer = await connectClient(server, 'fwSharer', 0);
    const searcher = await connectClient(server, 'fwSearcher', 0);
    sharer.share([{ filename: 'zzunique firewalled.mp3', md5: 'ab'.repeat(16), size: 1000, bitrate: 128, freq: 44100, duration: 60 }]);
    await until(() => server.stats().files === totalFiles + 1);
    const blocked = await searcher.search('FILENAME CONTAINS "zzunique" MAX_RESULTS 10');
    expect(blocked.results).toHaveLength(0);
    const open = await clients[4]!.search('FILENAME CONTAINS "zzunique" MAX_RESULTS 10');
    expect(open.results.map((r) => r.nick)).toEqual(['fwSharer']);
    // A disconnect removes the user's files.
    await sharer.close();
    await until(() => server.stats().files === totalFiles);
    const gone = await clients[4]!.search('FILENAME CONTAINS "zzunique" MAX_RESULTS 10');
    expect(gone.results).toHaveLength(0);
    await searcher.close();
  });

  it('answers 203 with 204 naming the sharer address, port and md5, and 206 when unavailable', async () => {
    const file = shares[5]![0]!;
    const ack = await clients[6]!.downloadRequest('peer5', file.name);
    expect(ack).toEqual({ nick: 'peer5', ip: '127.0.0.1', port: 6605, filename: file.name, md5: file.md5, linkType: 5 });
    await expect(clients[6]!.downloadRequest('nobody', 'x.mp3')).rejects.toBeInstanceOf(DownloadUnavailableError);
    await expect(clients[6]!.downloadRequest('peer5', 'not shared.mp3')).rejects.toBeInstanceOf(DownloadUnavailableError);
  });

  it('relays 500 as 501 to the sharer, naming the requester', async () => {
    const got = new Promise<{ type: number; data: Buffer }>((resolve) => clients[7]!.once('message', resolve));
    const file = shares[7]![0]!;
    clients[8]!.pushRequest('peer7', file.name);
    const frame = await got;
    expect(frame.type).toBe(MessageType.AltDownloadAck);
    expect(frame.data.toString('latin1')).toBe(`peer8 16777343 6608 "${file.name}" ${file.md5} 8`);
  });

  it('relays 205 with the sender nick, and answers 404 for a user not online', async () => {
    const got = new Promise<{ nick: string; text: string }>((resolve) => clients[9]!.once('privateMessage', resolve));
    clients[10]!.privateMessage('peer9', 'hello there');
    expect(await got).toEqual({ nick: 'peer10', text: 'hello there' });
    const err = new Promise<{ type: number; data: Buffer }>((resolve) => clients[10]!.once('message', resolve));
    clients[10]!.privateMessage('ghost', 'anyone?');
    const frame = await err;
    expect(frame.type).toBe(MessageType.GeneralError);
    expect(frame.data.toString('latin1')).toBe('User ghost is not currently online.');
  });

  it('answers a type it does not serve with 404 "Unknown command code N", as the C server does', async () => {
    const err = new Promise<{ type: number; data: Buffer }>((resolve) => clients[11]!.once('message', resolve));
    clients[11]!.sendRaw(10_210, 'whatever');
    const frame = await err;
    expect(frame.type).toBe(MessageType.GeneralError);
    expect(frame.data.toString('latin1')).toBe('Unknown command code 10210');
  });

  it('answers 214 with users and files, and relays 751/752', async () => {
    const stats = await clients[11]!.serverStats();
    expect(stats.users).toBe(PEERS);
    expect(stats.files).toBe(totalFiles);
    const rtt = await clients[11]!.ping('peer12');
    expect(rtt).toBeGreaterThanOrEqual(0);
  });

  it('answers nick checks and refuses a nick in use or an invalid one', async () => {
    const s = await rawSocket(server);
    const frames: { type: number; text: string }[] = [];
    s.on('data', (b: Buffer) => frames.push(...framesOf(b)));
    s.write(Buffer.concat([encodeFrame(7, 'peer0'), encodeFrame(7, 'freshnick'), encodeFrame(7, 'bad nick')]));
    await until(() => frames.length === 3);
    expect(frames.map((f) => f.type)).toEqual([9, 8, 10]);
    s.destroy();
    const dup = new OpenNapClient();
    await dup.connect({ host: '127.0.0.1', port: server.address().port });
    await expect(dup.login({ nick: 'peer0', password: 'x', port: 1, clientInfo: 'c', linkType: 1 })).rejects.toBeInstanceOf(LoginRejectedError);
    await dup.close();
    const bad = new OpenNapClient();
    await bad.connect({ host: '127.0.0.1', port: server.address().port });
    await expect(bad.login({ nick: 'a:b', password: 'x', port: 1, clientInfo: 'c', linkType: 1 })).rejects.toBeInstanceOf(LoginRejectedError);
    await bad.close();
  });

  it('closes only the offending client on garbage, oversize frames and stalled half frames', async () => {
    const before = server.stats().errors;
    const garbage = await rawSocket(server);
    const g = closedBy(garbage);
    garbage.write(Buffer.from([0x05, 0x00, 0x39, 0x05, 1, 2, 3, 4, 5, 0xff, 0xfe]));
    const gReply = framesOf(await g);
    expect(gReply[0]?.type).toBe(MessageType.Error);

    const oversize = await rawSocket(server);
    const o = closedBy(oversize);
    oversize.write(Buffer.from([0xff, 0xff, 0xc8, 0x00]));
    expect(framesOf(await o)[0]?.type).toBe(MessageType.Error);

    const stalled = await rawSocket(server);
    const st = closedBy(stalled);
    stalled.write(encodeFrame(2, 'stall pw 0 "x" 3').subarray(0, 9));
    await st;

    const errors = server.stats().errors;
    expect((errors['opennap.not_logged_in'] ?? 0) - (before['opennap.not_logged_in'] ?? 0)).toBe(1);
    expect((errors['opennap.frame_too_large'] ?? 0) - (before['opennap.frame_too_large'] ?? 0)).toBe(1);
    expect((errors['opennap.partial_frame_timeout'] ?? 0) - (before['opennap.partial_frame_timeout'] ?? 0)).toBe(1);

    // A logged-in client sending an oversize frame gets 404 and is closed; the others are still served.
    const victim = await connectClient(server, 'victim', 1);
    const closed = new Promise<void>((resolve) => victim.once('close', resolve));
    const msg = new Promise<{ type: number; data: Buffer }>((resolve) => victim.once('message', resolve));
    victim.sendRaw(200, Buffer.alloc(9000, 0x41));
    expect((await msg).type).toBe(MessageType.GeneralError);
    await closed;
    const still = await clients[13]!.search(`FILENAME CONTAINS "${catalogue.keywords[1]!.word}" MAX_RESULTS 100`);
    expect(still.endedBy).toBe('end');
    expect(server.stats().users).toBe(PEERS);
  });
});

describe('OpenNapServer under random bytes', () => {
  it('never crashes and keeps serving a well-behaved client, whatever a hostile one sends', async () => {
    const server = new OpenNapServer({ host: '127.0.0.1', port: 0, partialFrameTimeoutMs: 100, loginTimeoutMs: 200 });
    await server.start();
    try {
      const good = await connectClient(server, 'good', 6699);
      let fuzzNick = 0;
      const junk = fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        // A valid login followed by random frames: exercises the post-login handlers.
        fc.array(fc.record({ type: fc.integer({ min: 0, max: 1000 }), data: fc.uint8Array({ maxLength: 200 }) }), { maxLength: 8 }).map((frames) =>
          Buffer.concat([encodeFrame(2, `fz${fuzzNick++} pw 1 "c" 3`), ...frames.map((f) => encodeFrame(f.type, Buffer.from(f.data)))]),
        ),
      );
      await fc.assert(
        fc.asyncProperty(junk, async (bytes) => {
          const s = await rawSocket(server);
          s.on('data', () => undefined);
          s.on('error', () => undefined);
          s.write(bytes);
          await new Promise((r) => setTimeout(r, 5));
          s.destroy();
          const stats = await good.serverStats();
          expect(stats.users).toBeGreaterThanOrEqual(1);
        }),
        { numRuns: 40 },
      );
      expect(server.stats().errors['opennap.handler_exception'] ?? 0).toBe(0);
      await good.close();
    } finally {
      await server.stop();
    }
  });
});

describe('OpenNapServer output bound', () => {
  it('disconnects a client that does not read its results, and counts it', async () => {
    const server = new OpenNapServer({ host: '127.0.0.1', port: 0, maxOutputBytesPerClient: 64 * 1024 });
    await server.start();
    try {
      const sharer = await connectClient(server, 'sharer', 6699);
      sharer.share(catalogue.files.map(toShared));
      await until(() => server.stats().files === catalogue.files.length);
      const hog = await rawSocket(server);
      const closed = new Promise<void>((resolve) => hog.on('close', () => resolve()));
      hog.pause(); // never reads
      const search = encodeFrame(200, 'FILENAME CONTAINS "mp3" MAX_RESULTS 100');
      hog.write(Buffer.concat([encodeFrame(2, 'hog pw 6699 "x" 3'), ...Array.from({ length: 3000 }, () => search)]));
      await closed;
      expect(server.stats().errors['opennap.output_overflow']).toBe(1);
      const ok = await sharer.serverStats();
      expect(ok.users).toBe(1);
      await sharer.close();
    } finally {
      await server.stop();
    }
  });
});
