// Unit tests of conntrack-view.ts: parsing `conntrack -L` lines and finding the source-NATed client addresses.
import { describe, expect, it } from 'vitest';
import { parseConntrack, snatedClientAddresses } from './conntrack-view.js';

const LIST = [
  'tcp      6 431999 ESTABLISHED src=10.201.1.1 dst=10.201.1.10 sport=20000 dport=8888 src=10.201.1.10 dst=10.201.2.18 sport=8888 dport=20000 [ASSURED] mark=0 use=1',
  'tcp      6 431999 ESTABLISHED src=10.201.1.1 dst=10.201.1.10 sport=20001 dport=8888 src=10.201.1.10 dst=10.201.2.19 sport=8888 dport=20001 [ASSURED] mark=0 use=1',
  'tcp      6 431999 ESTABLISHED src=10.201.2.20 dst=10.201.1.10 sport=40000 dport=8888 src=10.201.1.10 dst=10.201.2.20 sport=8888 dport=40000 [ASSURED] mark=0 use=1',
  'tcp      6 119 TIME_WAIT src=10.201.1.1 dst=10.201.1.10 sport=20002 dport=8888 src=10.201.1.10 dst=10.201.2.21 sport=8888 dport=20002 [ASSURED] mark=0 use=1',
  'tcp      6 431999 ESTABLISHED src=10.201.1.1 dst=10.201.1.10 sport=33000 dport=8888 src=10.201.1.10 dst=10.201.1.1 sport=8888 dport=33000 [ASSURED] mark=0 use=1',
  'conntrack v1.4.7 (conntrack-tools): 5 flow entries have been shown.',
  '',
].join('\n');

describe('parseConntrack', () => {
  it('reads both tuples and the state, skips the summary line', () => {
    const flows = parseConntrack(LIST);
    expect(flows).toHaveLength(5);
    expect(flows[0]).toEqual({ state: 'ESTABLISHED', origSrc: '10.201.1.1', origDst: '10.201.1.10', origSport: 20000, origDport: 8888, replySrc: '10.201.1.10', replyDst: '10.201.2.18' });
    expect(flows[3]?.state).toBe('TIME_WAIT');
  });

  it.each(['', 'garbage', 'src=1.2.3.4 dst=5.6.7.8'])('no flow from %j', (text) => {
    expect(parseConntrack(text)).toEqual([]);
  });
});

describe('snatedClientAddresses', () => {
  it.each([
    // Forwarded (not ours), closing and un-NATed flows are left out.
    { routers: ['10.201.1.1'], want: ['10.201.2.18', '10.201.2.19'] },
    { routers: ['10.201.2.1'], want: [] },
  ])('router addresses $routers', ({ routers, want }) => {
    expect(snatedClientAddresses(parseConntrack(LIST), routers)).toEqual(want);
  });
});
