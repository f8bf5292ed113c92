/**
 * One search result learnt from the origin (a 201 data section, napster.txt
 * type 201), kept ready to send: its whole frame encoded once, plus the few
 * fields the proxy filters on (name words, attributes, sharer nick). Pure:
 * a payload that does not parse is an error value, never an exception.
 */
import { WIRE_MAX_DATA, encodeFrame } from '../../opennap/codec.js';
import { MessageType } from '../../opennap/message-types.js';
import { parseSearchResult } from '../../opennap/messages.js';
import { keywordsOf } from '../../opennap/search-expression.js';

export interface CachedResult {
  /** `nick \0 filename`: what makes two results the same file (de-duplication). */
  readonly id: string;
  readonly nick: string;
  readonly filename: string;
  readonly size: number;
  readonly bitrate: number;
  readonly freq: number;
  readonly duration: number;
  /** The sharer's link type, compared with LINESPEED. */
  readonly linkType: number;
  /** Words of the file name (`keywordsOf`), for include/exclude checks when serving. */
  readonly words: ReadonlySet<string>;
  /** The complete 201 frame, header included, byte for byte as the origin sent its data. */
  readonly frame: Buffer;
}

export type CachedResultParse =
  | { kind: 'ok'; result: CachedResult }
  | { kind: 'error'; code: 'cache_proxy.result_too_large' | 'cache_proxy.bad_result'; message: string };

/** Identity of a result for de-duplication across local directory and cache. */
export function resultId(nick: string, filename: string): string {
  return `${nick}\0${filename}`;
}

/** Builds a cached result from a 201 data section (copied: the input may be a view into a decoder buffer). */
export function cachedResultFromPayload(payload: Buffer): CachedResultParse {
  if (payload.length > WIRE_MAX_DATA) {
    return { kind: 'error', code: 'cache_proxy.result_too_large', message: `result of ${payload.length} bytes` };
  }
  const parsed = parseSearchResult(payload.toString('latin1'));
  if (parsed.kind === 'error') return { kind: 'error', code: 'cache_proxy.bad_result', message: parsed.message };
  const r = parsed.value;
  return {
    kind: 'ok',
    result: {
      id: resultId(r.nick, r.filename),
      nick: r.nick,
      filename: r.filename,
      size: r.size,
      bitrate: r.bitrate,
      freq: r.freq,
      duration: r.duration,
      linkType: r.linkType,
      words: new Set(keywordsOf(r.filename)),
      frame: encodeFrame(MessageType.SearchResult, payload),
    },
  };
}
