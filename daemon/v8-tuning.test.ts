import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { V8_FLAGS } from './v8-tuning.js';

/** V8 ignores a flag it does not know with only a warning: a Node upgrade could drop one silently. */
describe('V8_FLAGS', () => {
  const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });

  it.each(V8_FLAGS.map((f) => [f]))('%s is a flag of this V8', (flag) => {
    // `--no-foo` switches off the boolean `--foo`; `--foo=N` sets `--foo`.
    const name = flag.replace(/^--no-/, '--').replace(/=.*$/, '');
    expect(options).toMatch(new RegExp(`^\\s*${name}\\s`, 'm'));
  });
});
