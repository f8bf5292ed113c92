/**
 * Resets both ends of a TCP session the router forwards, at once, by forging
 * one RST+ACK each way from a raw IPv4 socket (raw(7): IPPROTO_RAW implies
 * IP_HDRINCL). Used when a server's clients are redirected: the origin must
 * drop the old session at once (an OpenNap server refuses a second login of
 * an active nick) and the client should reconnect without waiting to send.
 *
 * Linux accepts a RST only when its sequence number equals RCV.NXT (RFC 5961
 * section 3.2: anything else in the window draws a challenge ACK), so each
 * RST carries the next sequence number the receiver expects, as the flow
 * table saw it (FlowTable.tcpSessions). The ACK field is not checked for a
 * RST in a synchronised state (RFC 9293 section 3.10.7.4), but a correct
 * one is sent when known. Packet building is pure (`planSessionReset`,
 * `buildRst`); only the injector does I/O, through koffi on libc.
 */
import { endianness } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import koffi from 'koffi';
import { Counters } from '../../analyzers/counters.js';
import { InvalidPacketSpecError } from '../../analyzers/errors.js';
import type { TcpSessionState } from '../../analyzers/flows/flow-table.js';
import { buildIPv4, buildTcp } from '../../analyzers/packet/build.js';
import { parseIPv4 } from '../../analyzers/packet/ip-parse.js';
import { IPPROTO_TCP } from '../../analyzers/packet/network.js';
import { TcpFlag } from '../../analyzers/packet/types.js';
import { RawSocketError } from './errors.js';

export type { TcpSessionState } from '../../analyzers/flows/flow-table.js';

export const LIBC_NAME = 'libc.so.6';
const AF_INET = 2;
const SOCK_RAW = 3;
/** Close the socket in children we spawn (iptables, services): they must not inherit CAP_NET_RAW power. */
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_RAW = 255;
/** Never block the event loop on a full socket buffer: the send fails with EAGAIN and is counted. */
const MSG_DONTWAIT = 0x40;
const SOCKADDR_IN_SIZE = 16;

/** TTL of forged resets: as a fresh host packet, enough for any path the router forwards onto. */
export const RST_TTL = 64;

export interface RstSpec {
  readonly src: { readonly ip: string; readonly port: number };
  readonly dst: { readonly ip: string; readonly port: number };
  readonly seq: number;
  /** Acknowledgement number; undefined sends a bare RST (no ACK flag). */
  readonly ack: number | undefined;
}

/** A complete IPv4+TCP RST(+ACK) packet with correct checksums. Addresses must be dotted IPv4 (else InvalidPacketSpecError). */
export function buildRst(spec: RstSpec): Buffer {
  const src = ipv4Bytes(spec.src.ip);
  const dst = ipv4Bytes(spec.dst.ip);
  const tcp = buildTcp(src, dst, {
    srcPort: spec.src.port,
    dstPort: spec.dst.port,
    seq: spec.seq >>> 0,
    ack: spec.ack === undefined ? 0 : spec.ack >>> 0,
    flags: spec.ack === undefined ? TcpFlag.RST : TcpFlag.RST | TcpFlag.ACK,
    // A RST advertises no window (what Linux itself sends in tcp_send_active_reset).
    window: 0,
  });
  return buildIPv4({ src: spec.src.ip, dst: spec.dst.ip, ttl: RST_TTL }, src, dst, IPPROTO_TCP, tcp);
}

function ipv4Bytes(ip: string): Buffer {
  const b = parseIPv4(ip);
  if (b === undefined) throw new InvalidPacketSpecError(`RST address "${ip}" is not dotted IPv4`);
  return b;
}

/** Why one half of a session reset was not sent. */
export type ResetSkipReason = 'tcp_reset.ipv6_unsupported' | 'tcp_reset.seq_unknown' | 'tcp_reset.bad_address';

export interface PlannedRst {
  /** Whose stack the packet is for. */
  readonly toward: 'server' | 'client';
  readonly dstIp: string;
  readonly bytes: Buffer;
}

export interface ResetPlan {
  readonly packets: readonly PlannedRst[];
  readonly skipped: readonly ResetSkipReason[];
}

/**
 * The two RSTs that end `s`: to the server as if from the client (seq = what
 * the server expects, ack = what the client expects) and to the client as
 * if from the server. A half whose sequence number is unknown is skipped.
 */
export function planSessionReset(s: TcpSessionState): ResetPlan {
  if (s.client.ip.includes(':') || s.server.ip.includes(':')) {
    return { packets: [], skipped: ['tcp_reset.ipv6_unsupported', 'tcp_reset.ipv6_unsupported'] };
  }
  if (parseIPv4(s.client.ip) === undefined || parseIPv4(s.server.ip) === undefined) {
    return { packets: [], skipped: ['tcp_reset.bad_address', 'tcp_reset.bad_address'] };
  }
  const packets: PlannedRst[] = [];
  const skipped: ResetSkipReason[] = [];
  if (s.nextSeqToServer === undefined) skipped.push('tcp_reset.seq_unknown');
  else {
    const bytes = buildRst({ src: s.client, dst: s.server, seq: s.nextSeqToServer, ack: s.nextSeqToClient });
    packets.push({ toward: 'server', dstIp: s.server.ip, bytes });
  }
  if (s.nextSeqToClient === undefined) skipped.push('tcp_reset.seq_unknown');
  else {
    const bytes = buildRst({ src: s.server, dst: s.client, seq: s.nextSeqToClient, ack: s.nextSeqToServer });
    packets.push({ toward: 'client', dstIp: s.client.ip, bytes });
  }
  return { packets, skipped };
}

/** What resetting one session did; failures and skips are also counted on the injector. */
export interface SessionResetResult {
  readonly packetsSent: number;
  readonly failures: number;
  readonly skipped: number;
}

/** The part of the injector the actuator step needs. */
export interface SessionResetter {
  resetSession(s: TcpSessionState): SessionResetResult;
}

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number;
  close(fd: number): number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  try {
    const lib = koffi.load(LIBC_NAME);
    libc = {
      socket: lib.func('int socket(int domain, int type, int protocol)'),
      sendto: lib.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
      close: lib.func('int close(int fd)'),
    } as Libc;
    return libc;
  } catch (e) {
    throw new RawSocketError(`load ${LIBC_NAME}`, 0, '', e instanceof Error ? e.message : String(e));
  }
}

function errnoError(operation: string, errno: number): RawSocketError {
  const entry = getSystemErrorMap().get(-errno);
  return new RawSocketError(operation, errno, entry?.[0] ?? `errno_${errno}`, entry?.[1] ?? 'unknown error');
}

/** struct sockaddr_in for `ip` (port 0: raw sockets take the port from the header we wrote). */
function sockaddrIn(ip: Buffer): Buffer {
  const sa = Buffer.alloc(SOCKADDR_IN_SIZE);
  if (endianness() === 'LE') sa.writeUInt16LE(AF_INET, 0);
  else sa.writeUInt16BE(AF_INET, 0);
  ip.copy(sa, 4);
  return sa;
}

/**
 * One raw socket, opened once, in the network namespace of the calling
 * process (the router's). Sends never throw: a failed send is counted
 * (`tcp_reset.send_failed`) and kept as `lastError`.
 */
export class TcpResetInjector implements SessionResetter {
  /** `tcp_reset.sent`, `tcp_reset.send_failed`, `tcp_reset.closed` and the skip reasons of `ResetSkipReason`. */
  readonly counters = new Counters();
  lastError: RawSocketError | undefined;
  private fd: number;

  private constructor(
    private readonly lib: Libc,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** Opens the raw socket; throws RawSocketError (EPERM without CAP_NET_RAW). */
  static open(): TcpResetInjector {
    const lib = loadLibc();
    const fd = lib.socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd < 0) throw errnoError('socket(AF_INET, SOCK_RAW, IPPROTO_RAW)', koffi.errno());
    return new TcpResetInjector(lib, fd);
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  resetSession(s: TcpSessionState): SessionResetResult {
    const plan = planSessionReset(s);
    for (const reason of plan.skipped) this.counters.inc(reason);
    let packetsSent = 0;
    let failures = 0;
    for (const p of plan.packets) {
      if (this.send(p)) packetsSent++;
      else failures++;
    }
    return { packetsSent, failures, skipped: plan.skipped.length };
  }

  close(): void {
    if (this.fd < 0) return;
    this.lib.close(this.fd);
    this.fd = -1;
  }

  private send(p: PlannedRst): boolean {
    if (this.fd < 0) {
      this.counters.inc('tcp_reset.closed');
      return false;
    }
    const dst = parseIPv4(p.dstIp);
    if (dst === undefined) {
      this.counters.inc('tcp_reset.bad_address');
      return false;
    }
    const sa = sockaddrIn(dst);
    const n = this.lib.sendto(this.fd, p.bytes, p.bytes.length, MSG_DONTWAIT, sa, sa.length);
    if (n !== p.bytes.length) {
      this.lastError = n < 0 ? errnoError('sendto', koffi.errno()) : new RawSocketError('sendto', 0, '', `short send ${n}/${p.bytes.length}`);
      this.counters.inc('tcp_reset.send_failed');
      return false;
    }
    this.counters.inc('tcp_reset.sent');
    return true;
  }
}
