/**
 * The callback shapes through which frames leave the capture module, live or
 * from a file, so the capture loop treats both alike: the daemon and `replay`
 * take frames as offsets (FrameBytesSink); tests and tools may take a view.
 */

/**
 * Receives one link-layer frame.
 * - `linkType`: LINKTYPE_* number (see link-types.ts).
 * - `frame`: the captured bytes. It is a view into a buffer that is reused for
 *   the next frame: copy whatever must outlive the call, never keep `frame`.
 * - `ts`: capture time in milliseconds since the epoch (fractional).
 * - `iface`: interface name (live) or the pcapng interface name / `file#N`.
 */
export type FrameSink = (linkType: number, frame: Buffer, ts: number, iface: string) => void;

/**
 * A FrameSink that takes the frame as `bytes[start, end)` instead of a view of its own: the file
 * reader and the live capture hand frames on this way, since making a view per frame cost more
 * than decoding it (BENCHMARKS.md). `bytes` is reused for the next frames, as for FrameSink.
 */
export type FrameBytesSink = (linkType: number, bytes: Buffer, start: number, end: number, ts: number, iface: string) => void;
