/**
 * Finding a frame boundary in the middle of an OpenNap byte stream, for an
 * analyzer that starts mid-session or after a reassembly gap (Suricata's
 * "after a gap, parsing waits until the probe matches again"). Pure.
 *
 * A candidate offset is accepted when its header is plausible (length within
 * bounds, a type expected in that direction) and the frame that follows it
 * is plausible too, or the candidate frame ends exactly at the buffer's end.
 */
import { HEADER_BYTES } from '../../opennap/codec.js';

export interface ResyncRules {
  maxData: number;
  allowedTypes: ReadonlySet<number>;
}

function plausibleHeader(buf: Buffer, at: number, rules: ResyncRules): number {
  if (at + HEADER_BYTES > buf.length) return -1;
  const length = buf.readUInt16LE(at);
  const type = buf.readUInt16LE(at + 2);
  if (length > rules.maxData || !rules.allowedTypes.has(type)) return -1;
  return length;
}

/**
 * The first offset in `buf` where two consecutive plausible frames start (or
 * one that ends exactly at the end of `buf`), or -1 if there is none yet.
 */
export function findFrameBoundary(buf: Buffer, rules: ResyncRules): number {
  for (let at = 0; at + HEADER_BYTES <= buf.length; at++) {
    const length = plausibleHeader(buf, at, rules);
    if (length < 0) continue;
    const next = at + HEADER_BYTES + length;
    if (next === buf.length) return at;
    if (next + HEADER_BYTES <= buf.length && plausibleHeader(buf, next, rules) >= 0) return at;
  }
  return -1;
}
