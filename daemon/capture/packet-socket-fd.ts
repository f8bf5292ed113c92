/**
 * Finds the file descriptor of the AF_PACKET socket libpcap opened for a
 * capture handle. npm `cap` does not expose it (pcap_get_selectable_fd stays
 * inside the addon), yet PACKET_STATISTICS needs it: we snapshot this
 * process's packet-socket fds before `open()` and take the one that is new
 * after it. Packet sockets are recognised by their inode appearing in
 * /proc/self/net/packet; if that view disagrees (another namespace), by
 * getsockopt(PACKET_STATISTICS) succeeding on the fd.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { readPacketSocketStats } from './native.js';
import { parseProcNetPacket, socketInodeOfLink } from './proc-net.js';

/** fd → socket inode, for every socket this process has open. */
export function socketFds(): Map<number, number> {
  const out = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  for (const name of entries) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // closed between readdir and readlink (the readdir fd itself)
    }
    const inode = socketInodeOfLink(target);
    if (inode !== undefined) out.set(Number(name), inode);
  }
  return out;
}

function packetInodes(): Set<number> {
  try {
    return parseProcNetPacket(readFileSync('/proc/self/net/packet', 'utf8'));
  } catch {
    return new Set();
  }
}

export type PacketFdResult = { kind: 'ok'; fd: number; inode: number } | { kind: 'error'; reason: 'none_found' | 'ambiguous'; candidates: number };

/**
 * The packet socket that appeared since `before` (a `socketFds()` snapshot).
 * `exclude` holds inodes already attributed to other handles.
 */
export function findNewPacketSocket(before: Map<number, number>, exclude: ReadonlySet<number>): PacketFdResult {
  const known = new Set(before.values());
  const fresh = [...socketFds()].filter(([, inode]) => !known.has(inode) && !exclude.has(inode));
  const listed = packetInodes();
  let matches = fresh.filter(([, inode]) => listed.has(inode));
  if (matches.length === 0) {
    // Probing resets the socket's counters; the caller accumulates from here on, so nothing is lost but pre-open noise.
    matches = fresh.filter(([fd]) => readPacketSocketStats(fd).kind === 'ok');
  }
  const only = matches[0];
  if (matches.length === 1 && only !== undefined) return { kind: 'ok', fd: only[0], inode: only[1] };
  return { kind: 'error', reason: matches.length === 0 ? 'none_found' : 'ambiguous', candidates: matches.length };
}
