/**
 * Test helper: a fresh temporary directory per test for SQLite files, removed
 * afterwards (WAL and SHM files included), and a state database opened in it
 * per test. Used by tests only (left out of the build).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openState } from './index.js';
import type { StateHandle } from './index.js';

export function makeTempDir(): { path: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'active-router-state-'));
  return { path: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A state database opened before each test of the calling file and closed and removed after it; read `.state` inside a test. */
export function useTempState(): { readonly state: StateHandle } {
  let tmp: ReturnType<typeof makeTempDir> | undefined;
  let state: StateHandle | undefined;
  beforeEach(() => {
    tmp = makeTempDir();
    state = openState(tmp.path('state.db'));
  });
  afterEach(() => {
    state?.close();
    tmp?.remove();
    state = undefined;
    tmp = undefined;
  });
  return {
    get state(): StateHandle {
      if (state === undefined) throw new Error('the temporary state exists only inside a test');
      return state;
    },
  };
}
