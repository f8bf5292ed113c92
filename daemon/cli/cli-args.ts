/**
 * Argument parsers shared by the CLI commands: each turns a malformed value
 * into commander's InvalidArgumentError, which exits with code 2 and a
 * one-line message naming the argument.
 */
import { InvalidArgumentError } from 'commander';

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

export function parseNonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return n;
}

/** "127.0.0.1:9900", "[::1]:9900" or "unix:/path". */
export function parseListen(value: string): { host: string; port: number } | { path: string } {
  if (value.startsWith('unix:')) {
    const path = value.slice(5);
    if (!path.startsWith('/')) throw new InvalidArgumentError(`expected unix:/absolute/path, got "${value}"`);
    return { path };
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 0 || port > 65535) throw new InvalidArgumentError(`expected HOST:PORT or unix:/path, got "${value}"`);
  return { host: (m[1] ?? m[2])!, port };
}
