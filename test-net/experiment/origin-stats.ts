/**
 * The origin server's own search counter, read from the stats lines that
 * `active-router opennap serve --stats-interval S` prints (formatStats in
 * daemon/cli/opennap-command.ts: `users=… searches=N searches/s=…`). Pure.
 */

/** The cumulative `searches=N` of one stats line; null for any other line. */
export function parseOriginSearches(line: string): number | null {
  const m = /(?:^|\s)searches=(\d+)(?:\s|$)/.exec(line);
  if (m === null) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}
