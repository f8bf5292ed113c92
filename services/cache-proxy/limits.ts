/**
 * Every bound of the cache proxy (ARCHITECTURE.md invariant 2), each with
 * the reason for its value. The cache's own entry/byte caps and TTL come
 * from the init object (policy), these are the fixed ones.
 */

/**
 * Unread output one client may have queued. A full answer of 100 results is
 * about 15 KB, so 1 MiB holds dozens of pipelined answers (the same bound as
 * the directory server's); a client that lets more pile up is not reading
 * and is dropped (`cache_proxy.client_output_overflow`).
 */
export { DEFAULT_MAX_OUTPUT_BYTES as MAX_CLIENT_OUTPUT_BYTES } from '../../opennap/server.js';

/**
 * Unsent bytes queued toward the origin on one session. Relayed traffic is
 * logins, shares and chat (a full 10,000-file library is ~1 MB of 100s), so
 * 4 MiB only fills when the origin stops reading: the session is dropped
 * (`cache_proxy.upstream_output_overflow`) rather than grow without bound.
 */
export const MAX_UPSTREAM_OUTPUT_BYTES = 4 * 1024 * 1024;

/**
 * A forwarded search is skipped (the answer still goes out from local +
 * cache) when this much is already queued toward the origin: forwards are
 * an optimisation, never worth piling onto an origin that is not keeping up.
 */
export const FORWARD_SKIP_QUEUE_BYTES = 64 * 1024;

/**
 * Client bytes held while the upstream session is still being opened
 * (bind + connect). A real client sends its login and waits; 256 KiB also
 * covers one that pipelines its whole share list at once.
 */
export const MAX_PENDING_UPSTREAM_BYTES = 256 * 1024;

/**
 * Forwarded searches one session may have waiting for the origin's 202. The
 * paper's clients send one search every two seconds; 64 bounds what one
 * client with unique keywords can make the proxy ask for.
 */
export const MAX_FORWARDS_PER_SESSION = 64;

/** Distinct keys in flight proxy-wide: bounds the in-flight map whatever the number of sessions. */
export const MAX_FORWARDS_IN_FLIGHT = 4096;

/**
 * Requests relayed unchanged (a search before login) waiting for their
 * answer on one session; beyond it the session is dropped as misbehaving.
 */
export const MAX_RELAYED_SEARCHES_PER_SESSION = 256;

/** Results kept per forwarded search: the forward asks MAX_RESULTS 100, the servers' cap. */
export { MAX_RESULTS_CAP as MAX_RESULTS_PER_ENTRY } from '../../opennap/search-expression.js';

/** A frame started but not finished within this time is a stalled or hostile client: dropped (as the server). */
export { DEFAULT_PARTIAL_FRAME_TIMEOUT_MS as PARTIAL_FRAME_TIMEOUT_MS } from '../../opennap/server.js';

/** Longest period of the sweeper (expired cache entries, stalled partial frames). */
export const MAX_SWEEP_INTERVAL_MS = 1000;

/** Search latencies kept for p50/p99: the last 4096 searches, a few seconds of heavy load, 32 KB. */
export const LATENCY_RING_SIZE = 4096;

/** Files one client may add to the local directory (the directory server's per-user cap). */
export { MAX_FILES_PER_USER } from '../../opennap/server-handlers.js';

/** Files in the whole local directory (the directory server's bound): 1M × a few hundred bytes. */
export { DEFAULT_MAX_FILES as MAX_LOCAL_FILES } from '../../opennap/server.js';


/**
 * Ready-encoded answers one session keeps (by raw search text) and the bytes
 * they may hold: a client repeats a few searches, and a repeat then costs a
 * Map lookup and one write. 256 answers / 256 KiB per session covers the
 * paper's 126 keywords with room to spare.
 */
export const ANSWER_MEMO_ENTRIES_PER_SESSION = 256;
export const ANSWER_MEMO_BYTES_PER_SESSION = 256 * 1024;

/** Bytes all sessions' memoised answers may hold together: bounds the memos whatever the number of sessions. */
export const ANSWER_MEMO_TOTAL_BYTES = 64 * 1024 * 1024;

/**
 * Bytes charged per cached result besides its encoded frame: the parsed
 * filter fields, nick, file name and word set kept beside it for filtering.
 */
export const CACHED_RESULT_OVERHEAD_BYTES = 256;
