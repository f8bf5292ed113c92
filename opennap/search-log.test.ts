// Unit tests of the search log: written lines read back identically; malformed lines are named, never thrown.
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSearchLogLine, readSearchLog, SearchLogWriter } from './search-log.js';
import type { SearchLogRecord } from './search-log.js';

const dir = mkdtempSync(join(tmpdir(), 'h6-searchlog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SearchLogWriter', () => {
  it('writes one JSON line per record and reads them back', async () => {
    const path = join(dir, 'log.jsonl');
    const w = new SearchLogWriter(path);
    const records: SearchLogRecord[] = Array.from({ length: 3000 }, (_, i) => ({
      peer: `peer${i % 7}`,
      keywords: [`kw${i % 13}`],
      sentAt: 1_700_000_000_000 + i,
      firstResultAt: i % 5 === 0 ? null : 1_700_000_000_000 + i + 3,
      results: i % 21,
      endedBy: i % 5 === 0 ? 'timeout' : 'end',
    }));
    for (const r of records) w.write(r);
    await w.close();
    expect(w.written).toBe(3000);
    expect(w.dropped).toBe(0);
    const back = await readSearchLog(path);
    expect(back.bad).toEqual([]);
    expect(back.records).toEqual(records);
  });
});

describe('parseSearchLogLine', () => {
  it.each([
    ['not json', 'not JSON'],
    ['[]', 'peer is not a string'],
    ['{"peer":"p","keywords":"x","sentAt":1,"firstResultAt":null,"results":0,"endedBy":"end"}', 'keywords is not an array of strings'],
    ['{"peer":"p","keywords":[],"sentAt":-1,"firstResultAt":null,"results":0,"endedBy":"end"}', 'sentAt is not a time'],
    ['{"peer":"p","keywords":[],"sentAt":1,"firstResultAt":"x","results":0,"endedBy":"end"}', 'firstResultAt is not a time or null'],
    ['{"peer":"p","keywords":[],"sentAt":1,"firstResultAt":null,"results":1.5,"endedBy":"end"}', 'results is not a count'],
    ['{"peer":"p","keywords":[],"sentAt":1,"firstResultAt":null,"results":1,"endedBy":"later"}', 'endedBy is not end, timeout or closed'],
  ])('%s → %s', (line, message) => {
    expect(parseSearchLogLine(line)).toEqual({ kind: 'error', message });
  });

  it('never throws on random text', () => {
    fc.assert(fc.property(fc.string(), (s) => ['ok', 'error'].includes(parseSearchLogLine(s).kind)));
  });

  it('reports bad lines of a file by number', async () => {
    const path = join(dir, 'mixed.jsonl');
    writeFileSync(path, '{"peer":"p","keywords":["a"],"sentAt":1,"firstResultAt":2,"results":1,"endedBy":"end"}\n{oops\n');
    const r = await readSearchLog(path);
    expect(r.records).toHaveLength(1);
    expect(r.bad).toEqual([{ line: 2, message: 'not JSON' }]);
  });
});
