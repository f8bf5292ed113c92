/**
 * Live capture with libpcap through npm `cap`: one handle per interface, one
 * BPF filter, frames handed to a FrameBytesSink. Kernel drop counters come from
 * getsockopt(SOL_PACKET, PACKET_STATISTICS) (packet(7)) on the handle's
 * packet socket, found through /proc because `cap` has no statistics API.
 *
 * What `cap` (0.2.x, src/binding.cc) fixes for us, and how we cope:
 * - Kernel snap length is always 65535 and immediate mode is always on (when
 *   libpcap.so can be dlopen'ed). Our `snaplen` is the size of the copy buffer
 *   `cap` fills: longer frames are cut to it and counted as `truncated`.
 * - No per-packet timestamp reaches JS (only length and a truncation flag), so
 *   `ts` is `performance.timeOrigin + performance.now()` when the frame is
 *   delivered. `cap` drains the ring one packet at a time in one poll
 *   callback, so under backlog frames carry delivery time, not arrival time.
 * - The frame buffer is one Buffer per handle, overwritten for every packet:
 *   sinks must copy what they keep (see FrameBytesSink).
 * - When `open()` throws after pcap_create, the half-open handle crashes the
 *   process when garbage-collected (uv_poll_stop on a never-started poll
 *   handle). We check interface, filter and privileges first, and keep any
 *   object whose open failed alive (bounded, see MAX_RETAINED_FAILED_HANDLES).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import {
  BpfFilterError,
  CaptureConfigError,
  CaptureError,
  CaptureOpenError,
  CapturePermissionError,
  NoSuchInterfaceError,
} from './errors.js';
import type { FrameBytesSink } from './frame-sink.js';
import { LINKTYPE_ETHERNET, linkTypeFromCapName } from './link-types.js';
import { compileBpfFilter, interfaceIndex, readPacketSocketStats } from './native.js';
import { findNewPacketSocket, socketFds } from './packet-socket-fd.js';
import { CAP_NET_RAW, hasEffectiveCapability, parseProcNetDev } from './proc-net.js';

/** Default copy size per frame: `cap`'s own kernel snap length, so nothing is cut by default. */
export const DEFAULT_SNAPLEN = 65_535;
/** `cap` asks the kernel for 65535 bytes per packet; a larger copy buffer would never fill. */
export const MAX_SNAPLEN = 65_535;
/**
 * Default ring size per interface. With TSO/GSO each ring slot is ~64 KB, so a
 * small ring holds few packets and drops under bursts; 128 MiB (the policy's
 * default, policies/defaults.ts) holds ~2000 super-frames or far more
 * ordinary ones.
 */
export const DEFAULT_BUFFER_BYTES = 128 * 1024 * 1024;
/** Smallest ring we accept: below a few slots the kernel drops at once. */
export const MIN_BUFFER_BYTES = 1024 * 1024;
/** `cap` passes the size as a signed 32-bit int. */
export const MAX_BUFFER_BYTES = 0x7fffffff;
/** Each interface is a handle, a ring and a poll watcher; more than this is a config mistake. */
export const MAX_INTERFACES = 64;
/**
 * How many `cap` objects whose open() failed we keep alive (see the header:
 * collecting them crashes the process). Each may hold a libpcap handle, so we
 * stop trying to open after this many failures instead of leaking without bound.
 */
export const MAX_RETAINED_FAILED_HANDLES = 16;

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): unknown;
  removeAllListeners(event?: string): unknown;
}
interface CapModule {
  Cap: new () => CapHandle;
}

let capModule: CapModule | undefined;
function loadCap(): CapModule {
  capModule ??= createRequire(import.meta.url)('cap') as CapModule;
  return capModule;
}

const retainedFailedHandles: CapHandle[] = [];

export interface LiveCaptureOptions {
  interfaces: readonly string[];
  /** BPF filter expression; '' captures everything. */
  filter: string;
  snaplen?: number;
  bufferBytes?: number;
  /** Each frame as `bytes[0, length)` of cap's reused buffer: no view is made per packet (see FrameBytesSink). */
  onFrameBytes: FrameBytesSink;
  /** Called when onFrameBytes throws; the frame is counted in `callbackErrors` either way. */
  onCallbackError?: (err: unknown, iface: string) => void;
}

export interface InterfaceCaptureStats {
  /** Kernel tp_packets, accumulated: frames that passed the filter, including dropped ones. */
  received: number;
  /** Kernel tp_drops, accumulated: frames the ring had no room for. */
  kernelDrops: number;
  /** Interface rx drops (rx_dropped + rx_fifo in /proc/net/dev) since start, as libpcap's ps_ifdrop. */
  ifaceDrops: number;
  /** Frames handed to onFrameBytes. */
  delivered: number;
  /** Frames cut to `snaplen`. */
  truncated: number;
  /** onFrameBytes threw. */
  callbackErrors: number;
  /** LINKTYPE_* of the interface. */
  linkType: number;
  /** False when the packet socket could not be found; `received`/`kernelDrops` are then 0 and unknown. */
  kernelStatsAvailable: boolean;
  /** Why kernel statistics are unavailable or a read failed, e.g. `packet_fd_none_found`, `getsockopt_errno_9`. */
  kernelStatsProblem: string | undefined;
}

export type CaptureStats = Record<string, InterfaceCaptureStats>;

interface Handle {
  iface: string;
  cap: CapHandle;
  buffer: Buffer;
  fd: number | undefined;
  inode: number | undefined;
  ifaceDropsBase: number | undefined;
  open: boolean;
  stats: InterfaceCaptureStats;
}

function netDevDrops(iface: string): number | undefined {
  try {
    const c = parseProcNetDev(readFileSync('/proc/self/net/dev', 'utf8')).get(iface);
    return c === undefined ? undefined : c.rxDropped + c.rxFifo;
  } catch {
    return undefined;
  }
}

function checkPrivileges(iface: string): void {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return; // cannot tell: let libpcap decide
  }
  if (hasEffectiveCapability(status, CAP_NET_RAW) === false) {
    throw new CapturePermissionError(iface, 'process lacks CAP_NET_RAW');
  }
}

function classifyOpenError(iface: string, filter: string, err: unknown): CaptureError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/no such device/i.test(msg)) return new NoSuchInterfaceError(iface, msg);
  if (/permission|not permitted|EPERM|EACCES/i.test(msg)) return new CapturePermissionError(iface, msg);
  if (/parse filter|syntax error|filter/i.test(msg)) return new BpfFilterError(filter, msg);
  return new CaptureOpenError(iface, msg, err);
}

export class LiveCapture {
  private readonly handles = new Map<string, Handle>();
  private started = false;
  private readonly snaplen: number;
  private readonly bufferBytes: number;

  constructor(private readonly options: LiveCaptureOptions) {
    this.snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    this.bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES;
    const ifaces = options.interfaces;
    if (ifaces.length === 0) throw new CaptureConfigError('no interface to capture on');
    if (ifaces.length > MAX_INTERFACES) throw new CaptureConfigError(`${ifaces.length} interfaces, at most ${MAX_INTERFACES}`);
    if (new Set(ifaces).size !== ifaces.length) throw new CaptureConfigError(`interface listed twice in ${ifaces.join(', ')}`);
    for (const name of ifaces) {
      // IFNAMSIZ is 16 including the NUL.
      if (name.length === 0 || name.length > 15 || /[\s/\0]/.test(name)) throw new CaptureConfigError(`bad interface name "${name}"`);
    }
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1 || this.snaplen > MAX_SNAPLEN) {
      throw new CaptureConfigError(`snap length ${this.snaplen} outside 1..${MAX_SNAPLEN}`);
    }
    if (!Number.isInteger(this.bufferBytes) || this.bufferBytes < MIN_BUFFER_BYTES || this.bufferBytes > MAX_BUFFER_BYTES) {
      throw new CaptureConfigError(`buffer size ${this.bufferBytes} outside ${MIN_BUFFER_BYTES}..${MAX_BUFFER_BYTES}`);
    }
  }

  get running(): boolean {
    return this.started;
  }

  /** Opens every interface; on any failure closes those already opened and throws a named CaptureError. */
  async start(): Promise<void> {
    if (this.started) throw new CaptureError('CAPTURE_ALREADY_STARTED', 'capture: already started');
    const { filter } = this.options;
    if (filter !== '') {
      const compiled = compileBpfFilter(filter, LINKTYPE_ETHERNET);
      if (compiled.kind === 'error') throw new BpfFilterError(filter, compiled.message);
    }
    this.handles.clear();
    try {
      for (const iface of this.options.interfaces) this.openOne(iface);
    } catch (err) {
      this.closeAll();
      throw err;
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.closeAll();
    this.started = false;
  }

  /** Current counters per interface; reading polls the kernel counters (which reset on read) and accumulates them. */
  stats(): CaptureStats {
    const out: CaptureStats = {};
    for (const h of this.handles.values()) {
      if (h.open) this.pollKernel(h);
      out[h.iface] = { ...h.stats };
    }
    return out;
  }

  private openOne(iface: string): void {
    if (interfaceIndex(iface) === 0) throw new NoSuchInterfaceError(iface);
    checkPrivileges(iface);
    if (retainedFailedHandles.length >= MAX_RETAINED_FAILED_HANDLES) {
      throw new CaptureError(
        'CAPTURE_TOO_MANY_FAILED_OPENS',
        `capture: ${retainedFailedHandles.length} earlier opens failed; refusing more (each leaks a libpcap handle in cap)`,
      );
    }
    const { Cap } = loadCap();
    const cap = new Cap();
    const buffer = Buffer.alloc(this.snaplen);
    const before = socketFds();
    const ifaceDropsBase = netDevDrops(iface);
    let linkName: string;
    try {
      linkName = cap.open(iface, this.options.filter, this.bufferBytes, buffer);
    } catch (err) {
      retainedFailedHandles.push(cap);
      throw classifyOpenError(iface, this.options.filter, err);
    }
    const stats: InterfaceCaptureStats = {
      received: 0,
      kernelDrops: 0,
      ifaceDrops: 0,
      delivered: 0,
      truncated: 0,
      callbackErrors: 0,
      linkType: linkTypeFromCapName(linkName) ?? -1,
      kernelStatsAvailable: false,
      kernelStatsProblem: undefined,
    };
    const taken = new Set<number>();
    for (const h of this.handles.values()) if (h.open && h.inode !== undefined) taken.add(h.inode);
    const found = findNewPacketSocket(before, taken);
    const handle: Handle = { iface, cap, buffer, fd: undefined, inode: undefined, ifaceDropsBase, open: true, stats };
    if (found.kind === 'ok') {
      handle.fd = found.fd;
      handle.inode = found.inode;
      stats.kernelStatsAvailable = true;
    } else {
      stats.kernelStatsProblem = `packet_fd_${found.reason}`;
    }
    this.handles.set(iface, handle);
    if (stats.linkType < 0) {
      throw new CaptureOpenError(iface, `unsupported link type "${linkName}"`);
    }
    const { onFrameBytes, onCallbackError } = this.options;
    const linkType = stats.linkType;
    cap.on('packet', (nbytes: number, truncated: boolean) => {
      // No per-packet timestamp from cap: delivery time (see the header comment).
      const ts = performance.timeOrigin + performance.now();
      stats.delivered++;
      if (truncated) stats.truncated++;
      try {
        onFrameBytes(linkType, buffer, 0, nbytes, ts, iface);
      } catch (err) {
        stats.callbackErrors++;
        onCallbackError?.(err, iface);
      }
    });
  }

  private pollKernel(h: Handle): void {
    if (h.fd !== undefined) {
      const r = readPacketSocketStats(h.fd);
      if (r.kind === 'ok') {
        h.stats.received += r.stats.packets;
        h.stats.kernelDrops += r.stats.drops;
      } else {
        h.stats.kernelStatsProblem = `getsockopt_errno_${r.errno}`;
      }
    }
    const drops = netDevDrops(h.iface);
    if (drops !== undefined && h.ifaceDropsBase !== undefined) h.stats.ifaceDrops = Math.max(0, drops - h.ifaceDropsBase);
  }

  private closeAll(): void {
    for (const h of this.handles.values()) {
      if (!h.open) continue;
      // Last read before the socket (and its fd number) goes away.
      this.pollKernel(h);
      h.cap.removeAllListeners('packet');
      h.cap.close();
      h.open = false;
      h.fd = undefined;
    }
  }
}
