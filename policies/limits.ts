/**
 * Bounds of the policy module, each with its reason. A policy is written by a
 * person, so anything far beyond these is a typo or hostile input, not a need.
 */

/** A hand-written policy is a few KiB; refuse to read more so a wrong path (a log, a disk image) cannot exhaust memory. */
export const MAX_POLICY_BYTES = 1024 * 1024;

/** YAML alias expansions allowed while converting to plain data: stops "billion laughs" alias bombs. */
export const MAX_YAML_ALIASES = 100;

/** Issues listed per file; beyond this the list says how many more there were (one typo can cascade). */
export const MAX_REPORTED_ISSUES = 50;

/** Rules per policy: each costs a verdict state per server every tick. */
export const MAX_RULES = 64;

/** Watch entries, and items in any other list (ports, CIDRs, interfaces): keeps BPF filters and matching small. */
export const MAX_WATCH_ENTRIES = 1024;
export const MAX_LIST_ITEMS = 256;

/** Longest duration: Node timers overflow above 2^31-1 ms (about 24.8 days) and fire at once. */
export const MAX_DURATION_MS = 2_147_483_647;

/** Largest size accepted (cache bytes): the cache is in-process memory; more than 16 GiB is a typo. */
export const MAX_SIZE_BYTES = 16 * 1024 * 1024 * 1024;

/** libpcap's MAXIMUM_SNAPLEN is 262144; below 64 bytes not even the TCP header of an IPv6 packet fits. */
export const MIN_SNAPLEN = 64;
export const MAX_SNAPLEN = 262_144;

/** Capture buffer in MiB: 1 MiB minimum for bursts; 2 GiB is the kernel's practical ceiling for a ring. */
export const MIN_CAPTURE_BUFFER_MB = 1;
export const MAX_CAPTURE_BUFFER_MB = 2048;

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_INTERFACE_NAME_LENGTH = 15;

/** Longest name or path string: rule names are shown in logs and status, paths are PATH_MAX bound. */
export const MAX_NAME_LENGTH = 64;
export const MAX_PATH_LENGTH = 4096;

/** Cache entries of one cache proxy: each holds a search result set in memory. */
export const MAX_CACHE_ENTRIES = 10_000_000;
