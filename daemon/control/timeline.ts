/**
 * The manager's timeline: what it decided and did, when, with the reason. Kept
 * in a bounded ring for the status endpoint, and written to the state DB's
 * event log. Times are wall-clock milliseconds.
 */

/** Timeline entries kept for the status endpoint; the DB event log keeps the full history. */
export const MAX_TIMELINE = 1000;

export type TimelineKind =
  | 'crossed'
  | 'decision'
  | 'service_started'
  | 'service_failed'
  | 'rules_applied'
  | 'flows_reset'
  | 'released'
  | 'withdrawn'
  | 'service_stopped'
  | 'apply_failed';

export interface TimelineEntry {
  ts: number;
  server: string;
  kind: TimelineKind;
  detail: string;
  data?: Record<string, unknown>;
}

export class Timeline {
  private readonly entries: TimelineEntry[] = [];

  constructor(private readonly sink?: (e: TimelineEntry) => void) {}

  add(entry: TimelineEntry): void {
    this.entries.push(entry);
    if (this.entries.length > MAX_TIMELINE) this.entries.shift();
    this.sink?.(entry);
  }

  list(): TimelineEntry[] {
    return [...this.entries];
  }
}
