/**
 * Conntrack flow listing and deletion through libnetfilter_conntrack
 * (ctnetlink), used right after a redirect goes live so that clients'
 * existing flows to the server stop being forwarded there (the reset rules
 * of rule-text.ts then make them reconnect into the DNAT). Synchronous FFI
 * calls: a DESTROY of one exact tuple is a single netlink round trip.
 * Must run inside the router's network namespace (ctnetlink is per netns).
 */
import { constants as osConstants } from 'node:os';
import type { ConntrackEntry, FlowFilter, FlowTuple } from './conntrack-codec.js';
import {
  compileFilter,
  entryMatches,
  familyToAf,
  ipv4ToNetU32,
  netU16ToPort,
  netU32ToIpv4,
  portToNetU16,
  protocolName,
  protocolNumber,
} from './conntrack-codec.js';
import type { ConntrackLib, Ptr } from './conntrack-ffi.js';
import { ATTR, CONNTRACK, NFCT_CB_CONTINUE, NFCT_Q_DESTROY, NFCT_Q_DUMP, NFCT_T_ALL, loadConntrackLib } from './conntrack-ffi.js';
import { ConntrackClosedError, ConntrackNetlinkError, InvalidConntrackFilterError } from './errors.js';
import type { IpFamily } from './ip-address.js';
import { formatIp, parseIp } from './ip-address.js';

export type { ConntrackEntry, FlowFilter, FlowTuple } from './conntrack-codec.js';

/** Cap on entries one list() returns: nf_conntrack_max defaults to 262144 on large hosts; beyond it we count and drop. */
export const MAX_LIST_ENTRIES = 262_144;

const ENOENT = osConstants.errno.ENOENT;

function errnoName(n: number): string {
  for (const [name, value] of Object.entries(osConstants.errno)) if (value === n) return name;
  return `errno_${n}`;
}

export interface DestroyFlowsFilter {
  readonly protocol: 'tcp' | 'udp';
  readonly dst: { readonly ip: string; readonly port: number };
  readonly srcCidrs?: readonly string[];
  readonly except?: readonly string[];
}

export interface DestroyFlowsResult {
  readonly destroyed: number;
  /** Entries actually destroyed (ones gone in between are left out). */
  readonly entries: readonly ConntrackEntry[];
}

/** Counters by reason; exposed for status/metrics. */
export interface ConntrackCounters {
  list_truncated: number;
  destroy_vanished: number;
}

export class Conntrack {
  readonly counters: ConntrackCounters = { list_truncated: 0, destroy_vanished: 0 };
  private handle: Ptr | undefined;

  private constructor(
    private readonly lib: ConntrackLib,
    handle: Ptr,
  ) {
    this.handle = handle;
  }

  /** Opens a ctnetlink handle in the current network namespace. */
  static open(): Conntrack {
    const lib = loadConntrackLib();
    const h = lib.nfct_open(CONNTRACK, 0);
    if (!h) {
      const e = lib.errno();
      throw new ConntrackNetlinkError('nfct_open', e, errnoName(e));
    }
    return new Conntrack(lib, h);
  }

  /** Entries matching `filter` (all when absent), at most `limit` (excess counted in counters.list_truncated). */
  list(filter: FlowFilter = {}, limit = MAX_LIST_ENTRIES): ConntrackEntry[] {
    const h = this.live();
    const compiled = compileFilter(filter);
    if (compiled.kind === 'error') throw new InvalidConntrackFilterError(compiled.detail);
    const families: IpFamily[] = compiled.filter.family ? [compiled.filter.family] : [4, 6];
    const out: ConntrackEntry[] = [];
    for (const family of families) {
      const lib = this.lib;
      const cb = lib.registerCallback((_type, ct) => {
        const entry = readEntry(lib, ct, family);
        if (entry && entryMatches(entry, compiled.filter)) {
          if (out.length < limit) out.push(entry);
          else this.counters.list_truncated++;
        }
        return NFCT_CB_CONTINUE;
      });
      try {
        if (lib.nfct_callback_register(h, NFCT_T_ALL, cb, null) < 0) this.fail('nfct_callback_register');
        const afBuf = new Uint8Array(Uint32Array.of(familyToAf(family)).buffer);
        if (lib.nfct_query(h, NFCT_Q_DUMP, afBuf) < 0) this.fail('dump');
      } finally {
        lib.nfct_callback_unregister(h);
        lib.unregisterCallback(cb);
      }
    }
    return out;
  }

  /** Destroys the flows to `dst` from the selected sources; returns those destroyed. */
  destroyFlows(filter: DestroyFlowsFilter): DestroyFlowsResult {
    const matches = this.list({
      protocol: filter.protocol,
      dst: filter.dst,
      ...(filter.srcCidrs ? { srcCidrs: filter.srcCidrs } : {}),
      ...(filter.except ? { except: filter.except } : {}),
    });
    const entries = matches.filter((e) => this.destroyExact(e));
    return { destroyed: entries.length, entries };
  }

  /** NFCT_Q_DESTROY of one original-direction tuple; false when no such flow exists (ENOENT). */
  destroyExact(tuple: FlowTuple): boolean {
    const h = this.live();
    const src = parseIp(tuple.src);
    const dst = parseIp(tuple.dst);
    const proto = protocolNumber(tuple.protocol);
    if (!src || !dst || src.family !== dst.family) throw new InvalidConntrackFilterError('tuple src/dst must be addresses of one family');
    if (proto === undefined) throw new InvalidConntrackFilterError(`unknown protocol "${tuple.protocol}"`);
    const lib = this.lib;
    const ct = lib.nfct_new();
    if (!ct) this.fail('nfct_new');
    try {
      lib.nfct_set_attr_u8(ct, ATTR.ORIG_L3PROTO, familyToAf(src.family));
      lib.nfct_set_attr_u8(ct, ATTR.ORIG_L4PROTO, proto);
      if (src.family === 4) {
        lib.nfct_set_attr_u32(ct, ATTR.ORIG_IPV4_SRC, ipv4ToNetU32(src.bytes));
        lib.nfct_set_attr_u32(ct, ATTR.ORIG_IPV4_DST, ipv4ToNetU32(dst.bytes));
      } else {
        lib.nfct_set_attr(ct, ATTR.ORIG_IPV6_SRC, src.bytes);
        lib.nfct_set_attr(ct, ATTR.ORIG_IPV6_DST, dst.bytes);
      }
      lib.nfct_set_attr_u16(ct, ATTR.ORIG_PORT_SRC, portToNetU16(tuple.sport));
      lib.nfct_set_attr_u16(ct, ATTR.ORIG_PORT_DST, portToNetU16(tuple.dport));
      if (lib.nfct_query(h, NFCT_Q_DESTROY, ct) === 0) return true;
      const e = lib.errno();
      if (e === ENOENT) {
        this.counters.destroy_vanished++;
        return false;
      }
      throw new ConntrackNetlinkError('destroy', e, errnoName(e));
    } finally {
      lib.nfct_destroy(ct);
    }
  }

  close(): void {
    if (this.handle === undefined) return;
    this.lib.nfct_close(this.handle);
    this.handle = undefined;
  }

  private live(): Ptr {
    if (this.handle === undefined) throw new ConntrackClosedError();
    return this.handle;
  }

  private fail(operation: string): never {
    const e = this.lib.errno();
    throw new ConntrackNetlinkError(operation, e, errnoName(e));
  }
}

function readAddr(lib: ConntrackLib, ct: Ptr, family: IpFamily, v4: number, v6: number): string {
  if (family === 4) return formatIp(netU32ToIpv4(lib.nfct_get_attr_u32(ct, v4)));
  const p = lib.nfct_get_attr(ct, v6);
  return p ? formatIp(lib.readBytes(p, 16)) : '::';
}

/** Reads one entry inside the dump callback (ct is only valid there). */
function readEntry(lib: ConntrackLib, ct: Ptr, family: IpFamily): ConntrackEntry | undefined {
  if (!ct) return undefined;
  const protoNum = lib.nfct_get_attr_u8(ct, ATTR.ORIG_L4PROTO);
  const protocol = protocolName(protoNum);
  const ported = protoNum === 6 || protoNum === 17 || protoNum === 132;
  const port = (attr: number): number => (ported ? netU16ToPort(lib.nfct_get_attr_u16(ct, attr)) : 0);
  return {
    family,
    protocol,
    src: readAddr(lib, ct, family, ATTR.ORIG_IPV4_SRC, ATTR.ORIG_IPV6_SRC),
    dst: readAddr(lib, ct, family, ATTR.ORIG_IPV4_DST, ATTR.ORIG_IPV6_DST),
    sport: port(ATTR.ORIG_PORT_SRC),
    dport: port(ATTR.ORIG_PORT_DST),
    replySrc: readAddr(lib, ct, family, ATTR.REPL_IPV4_SRC, ATTR.REPL_IPV6_SRC),
    replyDst: readAddr(lib, ct, family, ATTR.REPL_IPV4_DST, ATTR.REPL_IPV6_DST),
    replySport: port(ATTR.REPL_PORT_SRC),
    replyDport: port(ATTR.REPL_PORT_DST),
    tcpState: protoNum === 6 && lib.nfct_attr_is_set(ct, ATTR.TCP_STATE) > 0 ? lib.nfct_get_attr_u8(ct, ATTR.TCP_STATE) : undefined,
    mark: lib.nfct_get_attr_u32(ct, ATTR.MARK),
    status: lib.nfct_get_attr_u32(ct, ATTR.STATUS),
    timeout: lib.nfct_get_attr_u32(ct, ATTR.TIMEOUT),
    id: lib.nfct_get_attr_u32(ct, ATTR.ID),
  };
}
