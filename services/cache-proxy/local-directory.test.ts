import { describe, expect, it } from 'vitest';
import { parseSearchResult } from '../../opennap/messages.js';
import type { SharedFile } from '../../opennap/messages.js';
import { parseSearch } from '../../opennap/search-expression.js';
import type { SearchQuery } from '../../opennap/search-expression.js';
import { LocalDirectory } from './local-directory.js';

function file(filename: string, bitrate = 128): SharedFile {
  return { filename, md5: 'abc', size: 1000, bitrate, freq: 44100, duration: 200 };
}

function q(text: string): SearchQuery {
  const r = parseSearch(text);
  if (r.kind !== 'ok') throw new Error(text);
  return r.query;
}

function names(dir: LocalDirectory, text: string, searcher = { session: 99, nick: 'zed', port: 6699 }): string[] {
  return dir.search(q(text), searcher, 100).map((f) => `${f.owner.nick}:${f.shared.filename}`);
}

describe('LocalDirectory', () => {
  it('indexes shares with the sharer address and link type in the ready 201 frame', () => {
    const d = new LocalDirectory();
    d.addUser(1, { nick: 'alice', ip: '10.0.0.7', port: 6699, linkType: 7 });
    expect(d.share(1, file('Alpha Beta.mp3'))).toBe('ok');
    const [hit] = d.search(q('FILENAME CONTAINS "alpha"'), { session: 2, nick: 'bob', port: 6699 }, 10);
    const parsed = parseSearchResult(hit!.resultFrame.subarray(4).toString('latin1'));
    expect(parsed).toMatchObject({ kind: 'ok', value: { nick: 'alice', ip: '10.0.0.7', linkType: 7, filename: 'Alpha Beta.mp3' } });
  });

  it.each([
    ['keywords AND', 'FILENAME CONTAINS "alpha beta"', ['alice:Alpha Beta.mp3']],
    ['exclude', 'FILENAME CONTAINS "alpha" FILENAME EXCLUDES "beta"', ['bob:Alpha Gamma.mp3']],
    ['bitrate filter', 'FILENAME CONTAINS "alpha" BITRATE "AT LEAST" "192"', ['bob:Alpha Gamma.mp3']],
    ['linespeed filter', 'FILENAME CONTAINS "alpha" LINESPEED "AT LEAST" 5', ['alice:Alpha Beta.mp3']],
    ['no match', 'FILENAME CONTAINS "delta"', []],
  ])('%s', (_name, text, expected) => {
    const d = new LocalDirectory();
    d.addUser(1, { nick: 'alice', ip: '10.0.0.1', port: 6699, linkType: 7 });
    d.addUser(2, { nick: 'bob', ip: '10.0.0.2', port: 6699, linkType: 2 });
    d.share(1, file('Alpha Beta.mp3'));
    d.share(2, file('Alpha Gamma.mp3', 256));
    expect(names(d, text)).toEqual(expected);
  });

  it("never returns the searcher's own files, nor firewalled files to a firewalled searcher", () => {
    const d = new LocalDirectory();
    d.addUser(1, { nick: 'alice', ip: '10.0.0.1', port: 6699, linkType: 7 });
    d.addUser(2, { nick: 'fw', ip: '10.0.0.2', port: 0, linkType: 7 });
    d.share(1, file('song a.mp3'));
    d.share(2, file('song b.mp3'));
    expect(names(d, 'FILENAME CONTAINS "song"', { session: 1, nick: 'alice', port: 6699 })).toEqual(['fw:song b.mp3']);
    expect(names(d, 'FILENAME CONTAINS "song"', { session: 3, nick: 'alice', port: 6699 })).toEqual(['fw:song b.mp3']);
    expect(names(d, 'FILENAME CONTAINS "song"', { session: 3, nick: 'other', port: 0 })).toEqual(['alice:song a.mp3']);
  });

  it('refuses duplicates, shares without a user and shares over the caps; unshare and logout remove files', () => {
    const d = new LocalDirectory({ maxFilesPerUser: 2, maxFiles: 3 });
    expect(d.share(1, file('a.mp3'))).toBe('no_user');
    d.addUser(1, { nick: 'a', ip: '10.0.0.1', port: 1, linkType: 0 });
    d.addUser(2, { nick: 'b', ip: '::1', port: 1, linkType: 0 });
    expect(d.user(2)?.ip).toBe('0.0.0.0');
    expect(d.share(1, file('x a.mp3'))).toBe('ok');
    expect(d.share(1, file('x a.mp3'))).toBe('duplicate');
    expect(d.share(1, file('x b.mp3'))).toBe('ok');
    expect(d.share(1, file('x c.mp3'))).toBe('user_limit');
    expect(d.share(2, file('x d.mp3'))).toBe('ok');
    expect(d.share(2, file('x e.mp3'))).toBe('directory_full');
    const g = d.generation;
    expect(d.unshare(1, 'x a.mp3')).toBe(true);
    expect(d.unshare(1, 'x a.mp3')).toBe(false);
    expect(d.generation).toBe(g + 1);
    d.removeUser(2);
    expect(d.size).toBe(1);
    expect(names(d, 'FILENAME CONTAINS "x"')).toEqual(['a:x b.mp3']);
  });
});
