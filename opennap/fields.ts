/**
 * Splitting and joining the space-separated fields of an OpenNap data
 * section (napster.txt §2): fields are separated by single spaces; strings
 * with spaces are double-quoted, and quotes inside them are not escaped. A
 * quoted field therefore ends at a quote followed by a space or the end of
 * the data, which is how real clients' `"a "quoted" string"` is read.
 */

/** Splits `data` into fields, unquoting quoted ones. Pure, never throws. */
export function splitFields(data: string): string[] {
  const fields: string[] = [];
  const n = data.length;
  let i = 0;
  while (i < n) {
    while (i < n && data.charCodeAt(i) === 32) i++;
    if (i >= n) break;
    if (data.charCodeAt(i) === 34) {
      // Quoted: find a closing quote followed by a space or end of data.
      let j = i + 1;
      let end = -1;
      while (j < n) {
        if (data.charCodeAt(j) === 34 && (j + 1 === n || data.charCodeAt(j + 1) === 32)) {
          end = j;
          break;
        }
        j++;
      }
      if (end < 0) {
        // Unterminated quote: take the rest, as the C server's tokenizer does.
        fields.push(data.slice(i + 1));
        break;
      }
      fields.push(data.slice(i + 1, end));
      i = end + 1;
    } else {
      let j = i;
      while (j < n && data.charCodeAt(j) !== 32) j++;
      fields.push(data.slice(i, j));
      i = j;
    }
  }
  return fields;
}

/** Quotes a string field. */
export function quote(s: string): string {
  return `"${s}"`;
}

/** Parses a non-negative decimal integer field; NaN for anything else. */
export function parseUInt(s: string | undefined): number {
  if (s === undefined || s.length === 0 || s.length > 15) return Number.NaN;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return Number.NaN;
  }
  return Number(s);
}
