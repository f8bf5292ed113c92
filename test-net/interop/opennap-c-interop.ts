/**
 * `node dist/test-net/interop/opennap-c-interop.js --server HOST:PORT`:
 * runs the OpenNap interoperability checks (interop-checks.ts, issue 2)
 * against a running server, the C OpenNap server or ours, and prints one
 * `PASS|FAIL  <check>  <figures>` line per check, then `N passed, N failed`.
 * Exit code 0 only when every check passed, 1 when one failed, 2 on a usage
 * error. Loopback servers only (the project's network-safety rule).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { InteropError, InteropUsageError, NonLoopbackServerError } from './errors.js';
import { runInteropChecks } from './interop-checks.js';
import type { CheckResult, InteropTarget } from './interop-checks.js';

/** Default wait for one answer: loopback answers take milliseconds, a silent server should fail fast. */
export const DEFAULT_TIMEOUT_MS = 5_000;

const USAGE = 'usage: opennap-c-interop --server HOST:PORT [--timeout MS] [--tag WORD]';

function isLoopback(host: string): boolean {
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

/** Parses the command line; throws InteropUsageError or NonLoopbackServerError. */
export function parseInteropArgs(argv: readonly string[]): InteropTarget {
  let server: string | undefined;
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  let tag = `r${randomBytes(3).toString('hex')}`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = argv[i + 1];
    if (arg !== '--server' && arg !== '--timeout' && arg !== '--tag') throw new InteropUsageError(`unknown argument "${arg}"\n${USAGE}`);
    if (value === undefined) throw new InteropUsageError(`${arg} needs a value\n${USAGE}`);
    i++;
    if (arg === '--server') server = value;
    else if (arg === '--timeout') {
      timeoutMs = Number(value);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) throw new InteropUsageError(`--timeout must be 1…600000 ms, got "${value}"`);
    } else {
      if (!/^[a-z0-9]{1,8}$/.test(value)) throw new InteropUsageError(`--tag must be 1-8 lower-case letters or digits, got "${value}"`);
      tag = value;
    }
  }
  if (server === undefined) throw new InteropUsageError(`--server is required\n${USAGE}`);
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(server);
  const port = Number(m?.[3]);
  if (m === null || port < 1 || port > 65535) throw new InteropUsageError(`--server must be HOST:PORT, got "${server}"`);
  const given = m[1] ?? m[2]!;
  const host = given === 'localhost' ? '127.0.0.1' : given;
  if (!isLoopback(host)) throw new NonLoopbackServerError(given);
  return { host, port, timeoutMs, tag };
}

/** One output line per check. */
export function formatResult(r: CheckResult): string {
  return `${r.pass ? 'PASS' : 'FAIL'}  ${r.name.padEnd(42)}  ${r.figures}`;
}

/** Runs the checks and prints them; resolves with the exit code. */
export async function main(argv: readonly string[], print: (line: string) => void = console.log): Promise<number> {
  let target: InteropTarget;
  try {
    target = parseInteropArgs(argv);
  } catch (err) {
    if (err instanceof InteropError) {
      print(`error (${err.code}): ${err.message}`);
      return 2;
    }
    throw err;
  }
  print(`opennap interop check against ${target.host}:${target.port} (tag ${target.tag})`);
  const results = await runInteropChecks(target);
  for (const r of results) print(formatResult(r));
  const failed = results.filter((r) => !r.pass).length;
  print(`${results.length - failed} passed, ${failed} failed`);
  return failed === 0 && results.length > 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
