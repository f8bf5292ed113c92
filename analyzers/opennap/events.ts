/**
 * Stable names of the oddities the OpenNap analyzer counts (Zeek "weird"
 * style). They appear as counters in status, metrics and `replay` output;
 * renaming one is a breaking change.
 */
export const OpenNapWeird = {
  /** A frame header announced more data than any legitimate message carries. */
  frameTooLarge: 'opennap.frame_too_large',
  /** A frame type that makes no sense in its direction (e.g. a 201 sent to the server). */
  unexpectedType: 'opennap.unexpected_type',
  /** Bytes skipped while looking for a frame boundary after a gap or a mid-stream start. */
  resyncSkippedBytes: 'opennap.resync_skipped_bytes',
  /** A resynchronisation succeeded. */
  resynced: 'opennap.resynced',
  /** Resync buffer exhausted without finding a plausible frame boundary. */
  resyncFailed: 'opennap.resync_failed',
  /** A gap reported by reassembly. */
  gap: 'opennap.gap',
  /** A 200 whose search expression could not be parsed. */
  badSearch: 'opennap.bad_search',
  /** A 201/202 with no outstanding query we saw (router started mid-session, or a lost query). */
  responseWithoutQuery: 'opennap.response_without_query',
  /** A 201 whose file name does not match the oldest outstanding query: its query was not seen. */
  responseMismatch: 'opennap.response_mismatch',
  /** Outstanding queries beyond the per-flow cap; the oldest was dropped. */
  pendingOverflow: 'opennap.pending_queries_overflow',
  /** A 201 whose fields do not parse. */
  badResult: 'opennap.bad_result',
  /** A login (2/6) whose fields do not parse. */
  badLogin: 'opennap.bad_login',
  /** A search the server refused with a 404 and no 202 (too many pending searches): ended untimed. */
  searchRefused: 'opennap.search_refused',
  /** Flows confirmed as OpenNap. */
  confirmed: 'opennap.confirmed',
} as const;
