/**
 * The files the interop check shares, made from one run tag so every run
 * searches words no earlier run left on a long-lived server. Attributes use
 * values the C server stores exactly: bitrates and sample rates from the
 * MPEG tables it keeps as indices (opennap.h `DATUM.bitrate:5`,
 * `frequency:3`, looked up in `BitRate[]`/`SampleRate[]`), sizes and
 * durations below its 32/16-bit fields.
 */
import type { SharedFile } from '../../opennap/messages.js';

/** Bitrates of the five detailed files: all valid MPEG-1 layer III rates, so a server's index keeps them as sent. */
export const DETAIL_BITRATES: readonly number[] = [128, 160, 192, 256, 320];

/** More files than any server's MAX_RESULTS cap (100 in search-expression.ts and the C config.c), to see the cap. */
export const CAP_FILE_COUNT = 105;

/** Files of the firewalled sharer (data port 0). */
export const FIREWALLED_FILE_COUNT = 3;

export interface InteropWords {
  /** Word in the five detailed files of the open sharer. */
  detail: string;
  /** Word in the CAP_FILE_COUNT files of the open sharer. */
  cap: string;
  /** Word in the firewalled sharer's files. */
  firewalled: string;
}

/** Search words for a run tag (lower-case letters and digits only, so every tokenizer keeps them whole). */
export function interopWords(tag: string): InteropWords {
  return { detail: `${tag}det`, cap: `${tag}cap`, firewalled: `${tag}fw` };
}

function md5Of(seed: number): string {
  // A fixed-looking 32-hex-digit hash per file; servers treat it as opaque text.
  return (seed.toString(16).padStart(8, '0') + 'a5c3e1f7').repeat(3).slice(0, 24) + seed.toString(16).padStart(8, '0');
}

/** The five detailed files: distinct bitrates, sizes and durations, so every 201 field is checked against its own value. */
export function detailFiles(words: InteropWords): SharedFile[] {
  return DETAIL_BITRATES.map((bitrate, i) => ({
    filename: `C:\\My Music\\Interop Band - ${words.detail} Track ${i + 1}.mp3`,
    md5: md5Of(0x1000 + i),
    size: 3_000_000 + i * 111_111,
    bitrate,
    freq: i % 2 === 0 ? 44100 : 48000,
    duration: 180 + i * 7,
  }));
}

/** CAP_FILE_COUNT look-alike files sharing one word. */
export function capFiles(words: InteropWords): SharedFile[] {
  return Array.from({ length: CAP_FILE_COUNT }, (_, i) => ({
    filename: `C:\\My Music\\Cap Set\\${words.cap} Number ${i + 1}.mp3`,
    md5: md5Of(0x2000 + i),
    size: 1_000_000 + i,
    bitrate: 128,
    freq: 44100,
    duration: 60 + i,
  }));
}

/** Files of the firewalled sharer. */
export function firewalledFiles(words: InteropWords): SharedFile[] {
  return Array.from({ length: FIREWALLED_FILE_COUNT }, (_, i) => ({
    filename: `C:\\Shared\\${words.firewalled} Hidden ${i + 1}.mp3`,
    md5: md5Of(0x3000 + i),
    size: 2_000_000 + i,
    bitrate: 192,
    freq: 44100,
    duration: 200 + i,
  }));
}
