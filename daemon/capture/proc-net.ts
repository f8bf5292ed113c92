/**
 * Pure parsers for the /proc files the live capture reads: /proc/net/packet
 * (packet sockets of this network namespace, with socket inodes),
 * /proc/net/dev (per-interface counters, the source libpcap uses for
 * ps_ifdrop) and /proc/self/status (effective capabilities).
 */

/** Socket inodes listed in /proc/net/packet (last column, "Inode"). */
export function parseProcNetPacket(text: string): Set<number> {
  const inodes = new Set<number>();
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const cols = (lines[i] ?? '').trim().split(/\s+/);
    if (cols.length < 9) continue;
    const inode = Number(cols[cols.length - 1]);
    if (Number.isSafeInteger(inode) && inode > 0) inodes.add(inode);
  }
  return inodes;
}

/** Inode of a /proc/self/fd link target such as "socket:[12345]", else undefined. */
export function socketInodeOfLink(target: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(target);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export interface NetDevCounters {
  rxPackets: number;
  rxDropped: number;
  rxFifo: number;
}

/**
 * Receive counters per interface from /proc/net/dev. Columns after "name:" are
 * rx bytes, packets, errs, drop, fifo, frame, compressed, multicast, then tx.
 */
export function parseProcNetDev(text: string): Map<string, NetDevCounters> {
  const out = new Map<string, NetDevCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const cols = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === '' || cols.length < 16 || cols.some((n) => !Number.isFinite(n))) continue;
    out.set(name, { rxPackets: cols[1] ?? 0, rxDropped: cols[3] ?? 0, rxFifo: cols[4] ?? 0 });
  }
  return out;
}

/** CAP_NET_RAW, from <linux/capability.h>. */
export const CAP_NET_RAW = 13;

/** Whether the CapEff line of /proc/self/status has capability bit `cap`; undefined when the line is missing. */
export function hasEffectiveCapability(statusText: string, cap: number): boolean | undefined {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  if (m?.[1] === undefined) return undefined;
  return ((BigInt(`0x${m[1]}`) >> BigInt(cap)) & 1n) === 1n;
}
