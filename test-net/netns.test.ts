// Unit tests of the command runner behind the test bed (local `sh` only; no namespaces, no network).
import { describe, expect, it } from 'vitest';
import { CommandFailedError } from './errors.js';
import { exitStatus, netnsExecArgs, runChecked, runCommand } from './netns.js';

describe('exitStatus', () => {
  it.each<[number | null, NodeJS.Signals | null, number]>([
    [0, null, 0],
    [7, null, 7],
    [null, 'SIGTERM', 143],
    [null, 'SIGKILL', 137],
    [null, 'SIGINT', 130],
  ])('code %s signal %s -> %i', (code, signal, want) => {
    expect(exitStatus(code, signal)).toBe(want);
  });
});

describe('netnsExecArgs', () => {
  it('builds an argument vector, never a shell line', () => {
    expect(netnsExecArgs('ar1-peer1', 'sh', ['-c', 'echo "a b"; exit 1'])).toEqual(['netns', 'exec', 'ar1-peer1', 'sh', '-c', 'echo "a b"; exit 1']);
  });
});

describe('runCommand', () => {
  it('resolves with exit code, stdout and stderr, and feeds stdin', async () => {
    const r = await runCommand('sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: 'hello' });
    expect(r).toMatchObject({ code: 3, signal: null, stdout: 'hello', stderr: 'oops\n', truncated: false, timedOut: false });
  });

  it('kills a command that exceeds its time limit', async () => {
    const r = await runCommand('sleep', ['5'], { timeoutMs: 100 });
    expect(r).toMatchObject({ code: 137, signal: 'SIGKILL', timedOut: true });
  });

  it('rejects with CommandFailedError when the command cannot be started', async () => {
    await expect(runCommand('/nonexistent/definitely-not-here', [])).rejects.toThrow(CommandFailedError);
  });
});

describe('runChecked', () => {
  it('turns a non-zero exit into CommandFailedError carrying stderr and the command line', async () => {
    const e = await runChecked('sh', ['-c', 'echo "RTNETLINK answers: File exists" >&2; exit 2']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CommandFailedError);
    const err = e as CommandFailedError;
    expect(err.code).toBe('TESTNET_COMMAND_FAILED');
    expect(err.exitCode).toBe(2);
    expect(err.stderr).toContain('RTNETLINK answers: File exists');
    expect(err.message).toContain('sh -c');
  });
});
