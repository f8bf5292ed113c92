/**
 * `npm run bench`: every benchmark, one after another (they must not share
 * the two cores), each in its own process. Results go to bench-out/*.json and
 * the figures are copied by hand into BENCHMARKS.md with the command used.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const benches = ['state-writer', 'opennap-server', 'cache-proxy', 'analyzer', 'live-capture', 'bounded-maps'];
const only = process.argv.slice(2);
let failed = 0;
for (const name of benches) {
  if (only.length > 0 && !only.includes(name)) continue;
  const script = join(here, `${name}.js`);
  if (!existsSync(script)) {
    process.stdout.write(`\n== ${name}: not built (${script} missing)\n`);
    failed++;
    continue;
  }
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stdout.write(`== ${name} failed (exit ${r.status ?? r.signal})\n`);
    failed++;
  }
}
process.exitCode = failed > 0 ? 1 : 0;
