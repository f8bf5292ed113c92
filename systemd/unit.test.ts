// The unit file must pass systemd's own checker and keep the least-privilege settings.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const unitPath = fileURLToPath(new URL('./active-router.service', import.meta.url));

describe('systemd unit', () => {
  it('passes systemd-analyze verify', () => {
    // Throws (and fails the test) on any complaint: verify exits non-zero.
    const out = execFileSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toBe('');
  });

  it('grants only CAP_NET_RAW and CAP_NET_ADMIN and reloads on SIGHUP', () => {
    const text = readFileSync(unitPath, 'utf8');
    expect(text).toMatch(/^AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN$/m);
    expect(text).toMatch(/^CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN$/m);
    expect(text).toMatch(/^User=active-router$/m);
    expect(text).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  });
});
