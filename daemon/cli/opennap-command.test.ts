// Tests of the `opennap` command group: argument parsing (usage errors → exit code 2 in main.ts), and `search` and
// `serve` run for real against a loopback server (127.0.0.1, port 0).
import type { Command, CommanderError } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { paperCatalogue } from '../../opennap/catalogue.js';
import { OpenNapClient } from '../../opennap/client.js';
import { OpenNapServer } from '../../opennap/server.js';
import { parseHostPort, registerOpennapCommand, runServe } from './opennap-command.js';
import { quietProgram, usageError as usageErrorOf } from './quiet-program.fixture.js';

const program = (): Command => quietProgram(registerOpennapCommand);
const usageError = (argv: string[]): Promise<CommanderError> => usageErrorOf(registerOpennapCommand, argv);

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:8888', { host: '127.0.0.1', port: 8888 }],
    ['server.example:7777', { host: 'server.example', port: 7777 }],
    ['[::1]:8888', { host: '::1', port: 8888 }],
  ])('%s', (v, expected) => expect(parseHostPort(v)).toEqual(expected));

  it.each(['8888', 'host:', 'host:0', 'host:70000', 'a b:1', '::1:8888'])('refuses %s', (v) => {
    expect(() => parseHostPort(v)).toThrow(/HOST:PORT/);
  });
});

describe('opennap command usage errors', () => {
  it.each([
    [['opennap', 'search', 'nohostport', 'kw']],
    [['opennap', 'search', '127.0.0.1:1', 'kw', '--max', '0']],
    [['opennap', 'search', '127.0.0.1:1', 'kw', '--timeout', 'soon']],
    [['opennap', 'serve', '--port', '99999']],
    [['opennap', 'serve']],
    [['opennap', 'peers', '--server', 'x:1', '--count', '0', '--rate', '1', '--group', 'A', '--duration', '1', '--out', 'o']],
    [['opennap', 'peers', '--server', 'x:1', '--count', '2', '--rate', '1', '--group', 'C', '--duration', '1', '--out', 'o']],
    [['opennap', 'peers', '--server', 'x:1', '--count', '2', '--rate', '-1', '--group', 'A', '--duration', '1', '--out', 'o']],
    [['opennap', 'peers', '--server', 'x:1', '--count', '2', '--rate', '1', '--group', 'A', '--duration', '1', '--out', 'o', '--catalogue', 'other']],
  ])('%j is a usage error', async (argv) => {
    const e = await usageError(argv);
    expect(e.exitCode).not.toBe(0);
  });
});

describe('opennap search and serve', () => {
  it('search prints one line per result and the count with the time', async () => {
    const server = new OpenNapServer({ host: '127.0.0.1', port: 0 });
    await server.start();
    const sharer = new OpenNapClient();
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter((l) => l.length > 0));
      return true;
    });
    try {
      await sharer.connect({ host: '127.0.0.1', port: server.address().port });
      await sharer.login({ nick: 'sharer', password: 'x', port: 6699, clientInfo: 't', linkType: 3 });
      const files = paperCatalogue(1).files.slice(0, 10);
      sharer.share(files.map((f) => ({ filename: f.name, md5: f.md5, size: f.size, bitrate: f.bitrate, freq: f.freq, duration: f.duration })));
      await sharer.serverStats(); // the shares are handled before this answer comes back
      const word = files[0]!.keywords[0]!;
      await program().parseAsync(['opennap', 'search', `127.0.0.1:${server.address().port}`, word, '--max', '5'], { from: 'user' });
      const expected = files.filter((f) => f.keywords.includes(word));
      expect(lines.at(-1)).toMatch(new RegExp(`^${Math.min(5, expected.length)} results in \\d+ ms$`));
      const first = lines[0]!.split('\t');
      expect(first[3]).toBe('sharer');
      expect(first[4]).toBe('127.0.0.1');
      expect(expected.map((f) => f.name)).toContain(first[0]);
    } finally {
      spy.mockRestore();
      await sharer.close();
      await server.stop();
    }
  });

  it('serve prints its listening line, stats lines, and stops when aborted', async () => {
    const ac = new AbortController();
    const lines: string[] = [];
    const done = runServe({ host: '127.0.0.1', port: 0, statsIntervalS: 0.05 }, ac.signal, (l) => lines.push(l));
    await vi.waitFor(() => expect(lines.some((l) => l.startsWith('users='))).toBe(true));
    expect(lines[0]).toMatch(/^opennap server listening on 127\.0\.0\.1:\d+$/);
    ac.abort();
    const last = await done;
    expect(last.users).toBe(0);
    expect(lines.at(-1)).toMatch(/^opennap server stopped: users=0/);
  });
});
