// LiveCapture option checks that need no device (the capture itself is in live-capture.itest.ts).
import { describe, expect, it } from 'vitest';
import { CaptureConfigError, NoSuchInterfaceError } from './errors.js';
import { LiveCapture, MAX_INTERFACES } from './live-capture.js';
import type { LiveCaptureOptions } from './live-capture.js';

const base: LiveCaptureOptions = { interfaces: ['eth0'], filter: '', onFrameBytes: () => {} };

describe('LiveCapture options', () => {
  it.each([
    ['no interface', { interfaces: [] }],
    ['too many interfaces', { interfaces: Array.from({ length: MAX_INTERFACES + 1 }, (_, i) => `v${i}`) }],
    ['duplicate interface', { interfaces: ['eth0', 'eth0'] }],
    ['name too long', { interfaces: ['a-very-long-ifname'] }],
    ['name with slash', { interfaces: ['eth/0'] }],
    ['snaplen 0', { snaplen: 0 }],
    ['snaplen above cap kernel snaplen', { snaplen: 65_536 }],
    ['fractional snaplen', { snaplen: 100.5 }],
    ['ring too small', { bufferBytes: 4096 }],
    ['ring above int32', { bufferBytes: 2 ** 31 }],
  ] as const)('%s → CaptureConfigError', (_name, patch) => {
    expect(() => new LiveCapture({ ...base, ...patch })).toThrow(CaptureConfigError);
  });

  it('accepts sane options without touching a device', () => {
    const c = new LiveCapture({ ...base, snaplen: 128, bufferBytes: 8 * 1024 * 1024 });
    expect(c.running).toBe(false);
    expect(c.stats()).toEqual({});
  });

  it('an interface absent from this namespace is NoSuchInterfaceError before libpcap is asked', async () => {
    const c = new LiveCapture({ ...base, interfaces: ['arcapnope0'] });
    await expect(c.start()).rejects.toBeInstanceOf(NoSuchInterfaceError);
    expect(c.running).toBe(false);
  });
});
