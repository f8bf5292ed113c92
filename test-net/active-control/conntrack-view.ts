/**
 * Reading `conntrack -L` output (conntrack-tools) for the test's SNAT check:
 * a connection the router's proxy opens to the origin has the router as its
 * original source and, when our SNAT rule rewrote it, the client's own
 * address as the reply destination. Pure.
 *
 *   tcp 6 431999 ESTABLISHED src=10.201.1.1 dst=10.201.1.10 sport=20000 dport=8888
 *       src=10.201.1.10 dst=10.201.2.18 sport=8888 dport=20000 [ASSURED] mark=0 use=1
 */

export interface ConntrackFlow {
  readonly state: string | null;
  readonly origSrc: string;
  readonly origDst: string;
  readonly origSport: number;
  readonly origDport: number;
  readonly replySrc: string;
  readonly replyDst: string;
}

/** One flow per line that has both tuples; other lines (headers, summaries) are skipped. */
export function parseConntrack(text: string): ConntrackFlow[] {
  const out: ConntrackFlow[] = [];
  for (const line of text.split('\n')) {
    const all = (key: string): string[] => [...line.matchAll(new RegExp(`(?:^|\\s)${key}=(\\S+)`, 'g'))].map((m) => m[1] ?? '');
    const src = all('src');
    const dst = all('dst');
    const sport = all('sport');
    const dport = all('dport');
    if (src.length < 2 || dst.length < 2 || sport.length < 1 || dport.length < 1) continue;
    const state = /\b(ESTABLISHED|SYN_SENT|SYN_RECV|FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|CLOSE|SYN_SENT2)\b/.exec(line);
    out.push({
      state: state?.[1] ?? null,
      origSrc: src[0] as string,
      origDst: dst[0] as string,
      origSport: Number(sport[0]),
      origDport: Number(dport[0]),
      replySrc: src[1] as string,
      replyDst: dst[1] as string,
    });
  }
  return out;
}

/**
 * Client addresses the origin sees on connections this router opened itself
 * (original source one of `routerAddresses`) and source-NATed: the reply
 * destination differs from the original source.
 */
export function snatedClientAddresses(flows: readonly ConntrackFlow[], routerAddresses: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const f of flows) {
    if (routerAddresses.includes(f.origSrc) && f.replyDst !== f.origSrc && f.state === 'ESTABLISHED') seen.add(f.replyDst);
  }
  return [...seen].sort();
}
