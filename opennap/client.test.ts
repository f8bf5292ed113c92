// Loopback tests of the client's answer matching against a scripted server socket (127.0.0.1, port 0): results go
// to the oldest open search, a timed-out search absorbs its late answer, the iterator yields results as they come.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, encodeFrames, FrameDecoder } from './codec.js';
import { OpenNapClient } from './client.js';
import { ConnectionClosedError, LoginRejectedError, NotConnectedError } from './errors.js';
import { MessageType } from './message-types.js';
import { buildSearchResult } from './messages.js';

const result = (name: string): Buffer =>
  encodeFrame(
    MessageType.SearchResult,
    buildSearchResult({ filename: name, md5: 'ab'.repeat(16), size: 1, bitrate: 128, freq: 44100, duration: 9, nick: 'x', ip: '10.0.0.1', linkType: 3 }),
  );
const end = encodeFrame(MessageType.SearchEnd);

/** A server socket that hands every frame the client sends to `onFrame`, with the socket to answer on. */
async function scripted(onFrame: (type: number, text: string, socket: net.Socket) => void): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((socket) => {
    const d = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      d.push(chunk);
      for (let r = d.next(); r.kind === 'ok'; r = d.next()) onFrame(r.frame.type, r.frame.data.toString('latin1'), socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, server };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(onFrame: (type: number, text: string, socket: net.Socket) => void): Promise<OpenNapClient> {
  const { port, server } = await scripted(onFrame);
  const client = new OpenNapClient();
  await client.connect({ host: '127.0.0.1', port });
  cleanups.push(async () => {
    await client.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return client;
}

describe('OpenNapClient', () => {
  it('matches pipelined answers to searches in order', async () => {
    let n = 0;
    const client = await setup((type, _text, socket) => {
      if (type !== MessageType.Search) return;
      const k = n++;
      socket.write(Buffer.concat([...Array.from({ length: k }, (_, i) => result(`s${k}-${i}.mp3`)), end]));
    });
    const outs = await Promise.all([0, 1, 2, 3].map(() => client.search('FILENAME CONTAINS "a" MAX_RESULTS 10')));
    expect(outs.map((o) => o.results.length)).toEqual([0, 1, 2, 3]);
    expect(outs[3]!.results.map((r) => r.filename)).toEqual(['s3-0.mp3', 's3-1.mp3', 's3-2.mp3']);
    for (const o of outs) expect(o.firstResultAt).not.toBeNull();
  });

  it('ends the newest unanswered search on a refusal (404, no 202), as the C server refuses on arrival while it holds older ones', async () => {
    // Like two linked C servers with max_searches 2: the first two are held (answered later), the third refused at once.
    const held: net.Socket[] = [];
    let n = 0;
    const client = await setup((type, _text, socket) => {
      if (type !== MessageType.Search) return;
      if (n++ < 2) {
        held.push(socket);
        if (held.length === 2) {
          setTimeout(() => socket.write(Buffer.concat([result('first.mp3'), end, result('second.mp3'), end])), 20);
        }
        return;
      }
      socket.write(encodeFrame(MessageType.GeneralError, 'search failed: too many pending searches'));
    });
    const outs = await Promise.all(['a', 'b', 'c'].map((w) => client.search(`FILENAME CONTAINS "${w}" MAX_RESULTS 10`)));
    expect(outs.map((o) => o.results.map((r) => r.filename))).toEqual([['first.mp3'], ['second.mp3'], []]);
    expect(outs[2]!.errors).toEqual(['search failed: too many pending searches']);
    expect(outs.map((o) => o.endedBy)).toEqual(['end', 'end', 'end']);
    expect(client.pendingSearches).toBe(0);
  });

  it('lets a timed-out search absorb its late answer so the next search gets its own', async () => {
    const sockets: net.Socket[] = [];
    const client = await setup((type, _text, socket) => {
      if (type === MessageType.Search) sockets.push(socket);
    });
    const slow = await client.search('FILENAME CONTAINS "slow" MAX_RESULTS 10', { timeoutMs: 50 });
    expect(slow.endedBy).toBe('timeout');
    expect(slow.firstResultAt).toBeNull();
    const next = client.search('FILENAME CONTAINS "next" MAX_RESULTS 10');
    await new Promise((r) => setTimeout(r, 20));
    sockets[0]!.write(Buffer.concat([result('late.mp3'), end, result('mine.mp3'), end]));
    const out = await next;
    expect(out.results.map((r) => r.filename)).toEqual(['mine.mp3']);
    expect(client.pendingSearches).toBe(0);
  });

  it('yields results through the async iterator as they arrive', async () => {
    const client = await setup((type, _text, socket) => {
      if (type !== MessageType.Search) return;
      socket.write(result('one.mp3'));
      setTimeout(() => socket.write(Buffer.concat([result('two.mp3'), end])), 30);
    });
    const names: string[] = [];
    for await (const r of client.searchIter('FILENAME CONTAINS "x" MAX_RESULTS 5')) names.push(r.filename);
    expect(names).toEqual(['one.mp3', 'two.mp3']);
  });

  it('rejects a refused login by name and what waits when the connection closes', async () => {
    const client = await setup((type, _text, socket) => {
      if (type === MessageType.Login) socket.write(encodeFrame(MessageType.Error, 'user x is already active'));
      if (type === MessageType.Search) socket.destroy();
    });
    await expect(client.login({ nick: 'x', password: 'p', port: 1, clientInfo: 'c', linkType: 1 })).rejects.toBeInstanceOf(LoginRejectedError);
    await expect(client.search('FILENAME CONTAINS "a" MAX_RESULTS 1')).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(() => client.share([{ filename: 'a', md5: 'b', size: 1, bitrate: 1, freq: 1, duration: 1 }])).toThrow(NotConnectedError);
  });

  it('hands every frame to onFrame and relays raw frames untouched', async () => {
    const seen: number[] = [];
    const client = await setup((type, text, socket) => {
      if (type === 4242) socket.write(encodeFrames([{ type: 4243, data: text }, { type: 621, data: 'motd' }]));
    });
    const got = new Promise<{ type: number; data: Buffer }>((resolve) => client.on('message', (m: { type: number; data: Buffer }) => m.type === 621 && resolve(m)));
    client.onFrame = (type) => seen.push(type);
    client.sendRaw(4242, 'opaque \x00\xff bytes');
    const motd = await got;
    expect(motd.data.toString('latin1')).toBe('motd');
    expect(seen).toEqual([4243, 621]);
  });
});
