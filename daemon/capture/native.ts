/**
 * The few native calls the capture module makes through koffi (FFI), loaded
 * lazily so pure code never pulls in a native module:
 * - libc `getsockopt(SOL_PACKET, PACKET_STATISTICS)` (packet(7)) for kernel
 *   drop counters, `if_nametoindex` to check an interface exists;
 * - libpcap `pcap_open_dead` + `pcap_compile` to validate a BPF filter without
 *   opening a device (pcap_compile(3PCAP)), and `pcap_offline_filter` to run it
 *   over frames (what the kernel would accept), for tests and diagnostics.
 */
import koffi from 'koffi';
import { CaptureError } from './errors.js';

/** From <linux/if_packet.h> and <sys/socket.h>. */
export const SOL_PACKET = 263;
export const PACKET_STATISTICS = 6;
/** struct tpacket_stats_v3 {tp_packets, tp_drops, tp_freeze_q_cnt}: the largest variant the kernel returns. */
const TPACKET_STATS_BYTES = 12;
/** struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; } on 64-bit Linux. */
const BPF_PROGRAM_STRUCT_BYTES = 16;
/** pcap_compile's "netmask unknown" value (PCAP_NETMASK_UNKNOWN). */
const PCAP_NETMASK_UNKNOWN = 0xffffffff;

interface LibC {
  getsockopt: (fd: number, level: number, name: number, val: Buffer, len: Buffer) => number;
  ifNameToIndex: (name: string) => number;
}

interface LibPcap {
  openDead: (linkType: number, snaplen: number) => unknown;
  compile: (p: unknown, prog: Buffer, expr: string, optimize: number, netmask: number) => number;
  geterr: (p: unknown) => string;
  freecode: (prog: Buffer) => void;
  close: (p: unknown) => void;
  offlineFilter: (prog: Buffer, hdr: Buffer, pkt: Buffer) => number;
}

let libc: LibC | undefined;
let libpcap: LibPcap | undefined;

function loadLibC(): LibC {
  if (libc) return libc;
  try {
    const lib = koffi.load('libc.so.6');
    libc = {
      getsockopt: lib.func('int getsockopt(int fd, int level, int optname, void *optval, void *optlen)'),
      ifNameToIndex: lib.func('unsigned int if_nametoindex(const char *ifname)'),
    };
    return libc;
  } catch (err) {
    throw new CaptureError('CAPTURE_FFI_UNAVAILABLE', `capture: cannot load libc via koffi: ${(err as Error).message}`, { cause: err });
  }
}

function loadLibPcap(): LibPcap {
  if (libpcap) return libpcap;
  let lib: ReturnType<typeof koffi.load> | undefined;
  let firstError: unknown;
  // libpcap.so comes with libpcap-dev; the .so.0.8 soname is what the runtime package ships.
  for (const name of ['libpcap.so', 'libpcap.so.0.8', 'libpcap.so.1']) {
    try {
      lib = koffi.load(name);
      break;
    } catch (err) {
      firstError ??= err;
    }
  }
  if (!lib) {
    throw new CaptureError('CAPTURE_FFI_UNAVAILABLE', `capture: cannot load libpcap via koffi: ${(firstError as Error).message}`, {
      cause: firstError,
    });
  }
  koffi.opaque('pcap_t');
  libpcap = {
    openDead: lib.func('pcap_t *pcap_open_dead(int linktype, int snaplen)'),
    compile: lib.func('int pcap_compile(pcap_t *p, void *fp, const char *str, int optimize, uint32_t netmask)'),
    geterr: lib.func('const char *pcap_geterr(pcap_t *p)'),
    freecode: lib.func('void pcap_freecode(void *fp)'),
    close: lib.func('void pcap_close(pcap_t *p)'),
    offlineFilter: lib.func('int pcap_offline_filter(void *fp, void *h, void *pkt)'),
  };
  return libpcap;
}

export interface PacketSocketStats {
  /** tp_packets: packets that passed the filter, including those dropped (the kernel adds drops in). */
  packets: number;
  /** tp_drops: packets the ring had no room for. */
  drops: number;
}

/**
 * Reads and resets (the kernel zeroes them on read) the PACKET_STATISTICS of
 * packet socket `fd`. When the call fails (fd closed, or not a packet socket:
 * ENOPROTOOPT/ENOTSOCK) the result carries the errno.
 */
export function readPacketSocketStats(fd: number): { kind: 'ok'; stats: PacketSocketStats } | { kind: 'error'; errno: number } {
  const c = loadLibC();
  const val = Buffer.alloc(TPACKET_STATS_BYTES);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(TPACKET_STATS_BYTES, 0);
  const rc = c.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, val, len);
  if (rc !== 0) return { kind: 'error', errno: koffi.errno() };
  return { kind: 'ok', stats: { packets: val.readUInt32LE(0), drops: val.readUInt32LE(4) } };
}

/** The interface index of `name` in the calling thread's network namespace, or 0 when there is none. */
export function interfaceIndex(name: string): number {
  return loadLibC().ifNameToIndex(name);
}

export type BpfCompileResult = { kind: 'ok'; instructions: number } | { kind: 'error'; message: string };

/**
 * Compiles `expr` with libpcap for link type `linkType` without opening a
 * device: the same compiler `cap` uses when it opens a capture.
 */
export function compileBpfFilter(expr: string, linkType: number, snaplen = 262_144): BpfCompileResult {
  const pcap = loadLibPcap();
  const handle = pcap.openDead(linkType, snaplen);
  if (handle === null) return { kind: 'error', message: `pcap_open_dead failed for link type ${linkType}` };
  try {
    const prog = Buffer.alloc(BPF_PROGRAM_STRUCT_BYTES);
    if (pcap.compile(handle, prog, expr, 1, PCAP_NETMASK_UNKNOWN) !== 0) {
      return { kind: 'error', message: pcap.geterr(handle) };
    }
    const instructions = prog.readUInt32LE(0);
    pcap.freecode(prog);
    return { kind: 'ok', instructions };
  } finally {
    pcap.close(handle);
  }
}

/** struct pcap_pkthdr { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; } on 64-bit Linux. */
const PCAP_PKTHDR_BYTES = 24;

export type BpfMatchResult = { kind: 'ok'; matches: boolean[] } | { kind: 'error'; message: string };

/** Compiles `expr` for `linkType` and reports, for each frame, whether the filter accepts it. */
export function matchBpfFilter(expr: string, linkType: number, frames: readonly Buffer[]): BpfMatchResult {
  const pcap = loadLibPcap();
  const handle = pcap.openDead(linkType, 262_144);
  if (handle === null) return { kind: 'error', message: `pcap_open_dead failed for link type ${linkType}` };
  try {
    const prog = Buffer.alloc(BPF_PROGRAM_STRUCT_BYTES);
    if (pcap.compile(handle, prog, expr, 1, PCAP_NETMASK_UNKNOWN) !== 0) return { kind: 'error', message: pcap.geterr(handle) };
    try {
      const hdr = Buffer.alloc(PCAP_PKTHDR_BYTES);
      const matches = frames.map((f) => {
        hdr.writeUInt32LE(f.length, 16);
        hdr.writeUInt32LE(f.length, 20);
        // A zero-length buffer would pass a NULL pointer; the filter reads nothing from it anyway.
        return pcap.offlineFilter(prog, hdr, f.length > 0 ? f : Buffer.alloc(1)) !== 0;
      });
      return { kind: 'ok', matches };
    } finally {
      pcap.freecode(prog);
    }
  } finally {
    pcap.close(handle);
  }
}
