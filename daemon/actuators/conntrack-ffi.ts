/**
 * koffi binding of the part of libnetfilter_conntrack (libnetfilter_conntrack.h,
 * Debian package libnetfilter-conntrack3) that the actuator uses: open/close a
 * ctnetlink handle, build a conntrack object, DESTROY by exact tuple, DUMP a
 * family with a callback. Loaded lazily, once, so importing this module on a
 * machine without the library does not fail until conntrack is really used.
 */
import koffi from 'koffi';
import { ConntrackLibraryError } from './errors.js';

export const LIBRARY_NAME = 'libnetfilter_conntrack.so.3';

/** enum { CONNTRACK = NFNL_SUBSYS_CTNETLINK } */
export const CONNTRACK = 1;

/** enum nf_conntrack_query */
export const NFCT_Q_DESTROY = 2;
export const NFCT_Q_DUMP = 5;

/** enum nf_conntrack_msg_type */
export const NFCT_T_ALL = 7;

/** Callback results */
export const NFCT_CB_CONTINUE = 1;

/** enum nf_conntrack_attr (values fixed by the library ABI). */
export const ATTR = {
  ORIG_IPV4_SRC: 0,
  ORIG_IPV4_DST: 1,
  REPL_IPV4_SRC: 2,
  REPL_IPV4_DST: 3,
  ORIG_IPV6_SRC: 4,
  ORIG_IPV6_DST: 5,
  REPL_IPV6_SRC: 6,
  REPL_IPV6_DST: 7,
  ORIG_PORT_SRC: 8,
  ORIG_PORT_DST: 9,
  REPL_PORT_SRC: 10,
  REPL_PORT_DST: 11,
  ORIG_L3PROTO: 15,
  ORIG_L4PROTO: 17,
  TCP_STATE: 19,
  TIMEOUT: 24,
  MARK: 25,
  ID: 31,
  STATUS: 32,
} as const;

/** Pointers are BigInt in koffi 3. */
export type Ptr = bigint;

export interface ConntrackLib {
  nfct_open(subsys: number, subscriptions: number): Ptr | null;
  nfct_close(h: Ptr): number;
  nfct_new(): Ptr | null;
  nfct_destroy(ct: Ptr): void;
  nfct_set_attr_u8(ct: Ptr, attr: number, v: number): void;
  nfct_set_attr_u16(ct: Ptr, attr: number, v: number): void;
  nfct_set_attr_u32(ct: Ptr, attr: number, v: number): void;
  nfct_set_attr(ct: Ptr, attr: number, v: Uint8Array): void;
  nfct_get_attr_u8(ct: Ptr, attr: number): number;
  nfct_get_attr_u16(ct: Ptr, attr: number): number;
  nfct_get_attr_u32(ct: Ptr, attr: number): number;
  nfct_get_attr(ct: Ptr, attr: number): Ptr | null;
  nfct_attr_is_set(ct: Ptr, attr: number): number;
  nfct_query(h: Ptr, query: number, data: Ptr | Uint8Array): number;
  nfct_callback_register(h: Ptr, type: number, cb: Ptr, data: Ptr | null): number;
  nfct_callback_unregister(h: Ptr): void;
  /** koffi.register for the dump callback type. */
  registerCallback(fn: (type: number, ct: Ptr, data: Ptr | null) => number): Ptr;
  unregisterCallback(cb: Ptr): void;
  /** Copies `len` bytes at `ptr`. */
  readBytes(ptr: Ptr, len: number): Uint8Array;
  errno(): number;
}

let cached: ConntrackLib | undefined;

/** Loads the library once; throws ConntrackLibraryError when it is missing. */
export function loadConntrackLib(): ConntrackLib {
  if (cached) return cached;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load(LIBRARY_NAME);
  } catch (e) {
    throw new ConntrackLibraryError(e instanceof Error ? e.message : String(e));
  }
  try {
    const cbType = koffi.proto('int nfct_dump_cb(int type, void *ct, void *data)');
    const f = (def: string) => lib.func(def);
    const fns = {
      nfct_open: f('void *nfct_open(uint8_t subsys, unsigned int subscriptions)'),
      nfct_close: f('int nfct_close(void *h)'),
      nfct_new: f('void *nfct_new()'),
      nfct_destroy: f('void nfct_destroy(void *ct)'),
      nfct_set_attr_u8: f('void nfct_set_attr_u8(void *ct, int attr, uint8_t v)'),
      nfct_set_attr_u16: f('void nfct_set_attr_u16(void *ct, int attr, uint16_t v)'),
      nfct_set_attr_u32: f('void nfct_set_attr_u32(void *ct, int attr, uint32_t v)'),
      nfct_set_attr: f('void nfct_set_attr(void *ct, int attr, const void *v)'),
      nfct_get_attr_u8: f('uint8_t nfct_get_attr_u8(void *ct, int attr)'),
      nfct_get_attr_u16: f('uint16_t nfct_get_attr_u16(void *ct, int attr)'),
      nfct_get_attr_u32: f('uint32_t nfct_get_attr_u32(void *ct, int attr)'),
      nfct_get_attr: f('const void *nfct_get_attr(void *ct, int attr)'),
      nfct_attr_is_set: f('int nfct_attr_is_set(void *ct, int attr)'),
      nfct_query: f('int nfct_query(void *h, int query, void *data)'),
      nfct_callback_register: lib.func('nfct_callback_register', 'int', ['void *', 'int', koffi.pointer(cbType), 'void *']),
      nfct_callback_unregister: f('void nfct_callback_unregister(void *h)'),
    };
    cached = {
      ...(fns as unknown as Omit<ConntrackLib, 'registerCallback' | 'unregisterCallback' | 'readBytes' | 'errno'>),
      registerCallback: (fn) => koffi.register(fn, koffi.pointer(cbType)),
      unregisterCallback: (cb) => koffi.unregister(cb),
      readBytes: (ptr, len) => new Uint8Array(koffi.view(ptr, len).slice(0)),
      errno: () => koffi.errno(),
    };
    return cached;
  } catch (e) {
    throw new ConntrackLibraryError(e instanceof Error ? e.message : String(e));
  }
}
