/**
 * Recognising OpenNap on a port nobody named (the paper's "self-study"), in
 * the manner of Zeek's dynamic protocol detection: look at the first payload
 * of a flow and say match / no / need-more. Pure.
 *
 * A match needs a complete first frame of a type plausible for its direction
 * with readable data; a login (2/6) or nick check (7) must parse, and any
 * other first frame must be followed by a second plausible header, so a
 * random 4-byte prefix is not enough.
 */
import type { Direction, ProbeVerdict } from '../analyzer.js';
import { decodeFrame, HEADER_BYTES } from '../../opennap/codec.js';
import { CLIENT_TYPES, MessageType, SERVER_TYPES } from '../../opennap/message-types.js';
import { dataText, parseLogin } from '../../opennap/messages.js';

/** Longest first frame a probe waits for: logins and searches are far shorter. */
export const PROBE_MAX_DATA = 2048;

function printable(data: Buffer): boolean {
  for (const b of data) {
    if (b < 0x20 && b !== 0x09) return false;
  }
  return true;
}

export function probeOpenNap(dir: Direction, bytes: Buffer): ProbeVerdict {
  const allowed = dir === 'toServer' ? CLIENT_TYPES : SERVER_TYPES;
  if (bytes.length < HEADER_BYTES) return 'need-more';
  const first = decodeFrame(bytes, 0, PROBE_MAX_DATA);
  if (first.kind === 'error') return 'no';
  const type = bytes.readUInt16LE(2);
  if (!allowed.has(type)) return 'no';
  if (first.kind === 'incomplete') return 'need-more';
  const { frame, consumed } = first;
  if (!printable(frame.data)) return 'no';
  if (dir === 'toServer' && (type === MessageType.Login || type === MessageType.NewUserLogin)) {
    return parseLogin(dataText(frame.data)).kind === 'ok' ? 'match' : 'no';
  }
  if (dir === 'toServer' && type === MessageType.NickCheck) {
    return /^\S+$/.test(dataText(frame.data)) ? 'match' : 'no';
  }
  if (bytes.length - consumed < HEADER_BYTES) return 'need-more';
  const second = decodeFrame(bytes, consumed, PROBE_MAX_DATA);
  if (second.kind === 'error' || !allowed.has(bytes.readUInt16LE(consumed + 2))) return 'no';
  return 'match';
}
