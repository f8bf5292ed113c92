// The command helper: commands run in its process with the same results as runCommand (exit codes,
// stdin, stdout, stderr, failures), many at once, and when it dies or is closed the pending ones end
// with a failure and later ones run directly.
import { afterEach, describe, expect, it } from 'vitest';
import { CommandHelper } from './command-helper.js';
import { runCommand } from './run-command.js';

const helpers: CommandHelper[] = [];
function start(onExit?: (why: string) => void): CommandHelper {
  const h = CommandHelper.start(onExit);
  helpers.push(h);
  return h;
}

afterEach(async () => {
  await Promise.all(helpers.splice(0).map((h) => h.close()));
});

describe('CommandHelper', () => {
  it('gives the same results as running the command directly', async () => {
    const h = start();
    const cases: [string, string[], string | undefined][] = [
      ['sh', ['-c', 'echo out; echo err >&2; exit 3'], undefined],
      ['cat', [], 'line one\nline "two" \\ three\n'],
      ['sh', ['-c', 'printf "%s" "$1"', 'sh', 'a b\tc'], undefined],
      ['/nonexistent/tool', ['x'], undefined],
    ];
    for (const [command, args, stdin] of cases) {
      const viaHelper = await h.run(command, args, stdin);
      const direct = await runCommand(command, args, stdin);
      expect(viaHelper).toEqual(direct);
    }
    expect(h.running).toBe(true);
  });

  it('answers many commands at once, each with its own output', async () => {
    const h = start();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => h.run('sh', ['-c', `sleep 0.0${i % 5}; echo ${i}`])));
    expect(results.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
    expect(results.every((r) => r.exitCode === 0 && r.failure === undefined)).toBe(true);
  });

  it('ends pending commands with a failure when the helper dies, and runs later ones directly', async () => {
    const exits: string[] = [];
    const h = start((why) => exits.push(why));
    const slow = h.run('sleep', ['5']);
    // Killed from outside, as the OOM killer would.
    process.kill(h.pid!, 'SIGKILL');
    const r = await slow;
    expect(r.exitCode).toBeNull();
    expect(r.failure).toMatch(/command helper exited \(SIGKILL\)/);
    expect(exits).toHaveLength(1);
    expect(h.running).toBe(false);
    expect(await h.run('echo', ['still works'])).toEqual({ exitCode: 0, stdout: 'still works\n', stderr: '' });
  });

  it('closes quietly after finishing what it runs', async () => {
    const exits: string[] = [];
    const h = start((why) => exits.push(why));
    const running = h.run('sh', ['-c', 'sleep 0.2; echo done']);
    const closed = h.close();
    expect((await running).stdout).toBe('done\n');
    await closed;
    expect(h.running).toBe(false);
    expect(exits).toEqual([]);
    expect((await h.run('echo', ['direct'])).stdout).toBe('direct\n');
  });
});
