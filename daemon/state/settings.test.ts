import { describe, expect, it } from 'vitest';
import { StateSettingsError } from '../errors.js';
import { DEFAULT_BATCH_ROWS, DEFAULT_QUERIES_RETENTION_MS, resolveStateSettings } from './settings.js';

describe('resolveStateSettings', () => {
  it('fills defaults and keeps overrides', () => {
    const s = resolveStateSettings({ retentionMs: { events: 5 }, maxRows: { queries: 7 } });
    expect(s.batchRows).toBe(DEFAULT_BATCH_ROWS);
    expect(s.retentionMs.queries).toBe(DEFAULT_QUERIES_RETENTION_MS);
    expect(s.retentionMs.events).toBe(5);
    expect(s.maxRows.queries).toBe(7);
  });

  it.each([
    { input: { batchRows: 0 }, setting: 'batchRows' },
    { input: { batchRows: 1.5 }, setting: 'batchRows' },
    { input: { flushIntervalMs: Number.NaN }, setting: 'flushIntervalMs' },
    { input: { retentionMs: { queries: -1 } }, setting: 'retentionMs.queries' },
    { input: { maxRows: { events: 0 } }, setting: 'maxRows.events' },
    { input: { queueCap: 10, batchRows: 20 }, setting: 'queueCap' },
  ])('rejects $setting in $input', ({ input, setting }) => {
    let caught: unknown;
    try {
      resolveStateSettings(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(StateSettingsError);
    expect((caught as StateSettingsError).setting).toBe(setting);
    expect((caught as StateSettingsError).code).toBe('STATE_SETTINGS_INVALID');
  });
});
