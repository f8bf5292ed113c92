// `active-router policy check FILE` through commander: ok output with the description, compiler-style errors and exit 1.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_PATH } from '../../policies/default-path.js';
import { registerPolicyCommand } from './policy-command.js';
import type { PolicyCommandIo } from './policy-command.js';

const dir = mkdtempSync(join(tmpdir(), 'ar-policy-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function check(file: string): Promise<{ out: string; err: string; code: number }> {
  const seen = { out: '', err: '', code: 0 };
  const io: PolicyCommandIo = { out: (t) => void (seen.out += t), err: (t) => void (seen.err += t), setExitCode: (c) => void (seen.code = c) };
  const program = new Command('active-router').exitOverride();
  registerPolicyCommand(program, io);
  await program.parseAsync(['policy', 'check', file], { from: 'user' });
  return seen;
}

describe('policy check', () => {
  it('prints "FILE: ok" and the description for a good file', async () => {
    const r = await check(DEFAULT_POLICY_PATH);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`${DEFAULT_POLICY_PATH}: ok`);
    expect(lines).toContain('Watch OpenNap servers on TCP ports 8888, 7777; learn servers on other ports by probing.');
  });

  it('prints FILE:LINE:COL: field: message for each issue and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'learn: "yes"\nrules:\n  - name: r\n    metric: query-rate\n    high: { queryRate: 3 }\n    low: { queryRate: 5 }\n    cooldwn: 1s\n');
    const r = await check(file);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toEqual([
      `${file}:1:8: learn: expected true or false, got "yes"`,
      `${file}:7:5: rules[0].cooldwn: unknown field "cooldwn"; did you mean "cooldown"? (allowed here: name, servers, metric, high, low, holdBeforeAct, holdBeforeRelease, cooldown, clients, action)`,
    ]);
  });

  it('reports a missing file without a line number', async () => {
    const r = await check(join(dir, 'none.yaml'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^${join(dir, 'none.yaml')}: ENOENT`));
  });
});
