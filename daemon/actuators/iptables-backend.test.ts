import { describe, expect, it } from 'vitest';
import { backendTools, parseVersionBackend } from './iptables-backend.js';

describe('iptables backend', () => {
  it.each([
    ['iptables v1.8.9 (nf_tables)', 'nft'],
    ['iptables v1.8.7 (legacy)', 'legacy'],
    ['iptables v1.6.1', undefined],
  ])('%s -> %s', (text, want) => {
    expect(parseVersionBackend(text)).toBe(want);
  });
  it('names the tools of each backend and family', () => {
    expect(backendTools('nft').tools[6]).toEqual({ save: 'ip6tables-nft-save', restore: 'ip6tables-nft-restore' });
    expect(backendTools('legacy').tools[4].restore).toBe('iptables-legacy-restore');
    expect(backendTools('plain').tools[4].save).toBe('iptables-save');
  });
});
