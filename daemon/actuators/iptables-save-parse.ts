/**
 * Pure parser for `iptables-save` / `ip6tables-save` output (the
 * iptables-restore(8) file format: "*table", ":CHAIN POLICY [p:b]",
 * "-A CHAIN args", "COMMIT"). It keeps, per rule, only what our diff needs:
 * the chain, the comment(s) and the jump/goto target. Lines it does not
 * understand are counted by reason, never fatal (the nft backend may print
 * warnings for rules made by native nft tools).
 */

export interface SavedRule {
  readonly chain: string;
  /** Every `--comment` value in the rule, unquoted. */
  readonly comments: readonly string[];
  /** `-j` or `-g` target, if any. */
  readonly target: string | undefined;
}

export interface SavedTable {
  /** Declared chains (built-in and user-defined) in order. */
  readonly chains: readonly string[];
  readonly rules: readonly SavedRule[];
}

export interface SaveSnapshot {
  readonly tables: ReadonlyMap<string, SavedTable>;
  /** Skipped lines by reason: "rule_outside_table", "unterminated_quote", "unknown_line". */
  readonly skipped: Readonly<Record<string, number>>;
}

export type TokenizeResult = { readonly kind: 'ok'; readonly tokens: string[] } | { readonly kind: 'error'; readonly reason: 'unterminated_quote' };

/** Splits on blanks; double quotes group, backslash escapes the next character inside quotes. */
export function tokenize(line: string): TokenizeResult {
  const tokens: string[] = [];
  let cur = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] ?? '';
    if (quoted) {
      if (ch === '\\' && i + 1 < line.length) {
        cur += line[++i] ?? '';
      } else if (ch === '"') {
        quoted = false;
      } else {
        cur += ch;
      }
      continue;
    }
    if (ch === '"') {
      quoted = true;
      inToken = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inToken) tokens.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (quoted) return { kind: 'error', reason: 'unterminated_quote' };
  if (inToken) tokens.push(cur);
  return { kind: 'ok', tokens };
}

export function parseIptablesSave(text: string): SaveSnapshot {
  const tables = new Map<string, { chains: string[]; rules: SavedRule[] }>();
  const skipped: Record<string, number> = {};
  const skip = (reason: string): void => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };
  let current: { chains: string[]; rules: SavedRule[] } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      current = tables.get(name) ?? { chains: [], rules: [] };
      tables.set(name, current);
      continue;
    }
    if (line === 'COMMIT') {
      current = undefined;
      continue;
    }
    if (!current) {
      skip('rule_outside_table');
      continue;
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(/\s+/)[0] ?? '';
      if (name !== '') current.chains.push(name);
      else skip('unknown_line');
      continue;
    }
    if (!line.startsWith('-A ')) {
      skip('unknown_line');
      continue;
    }
    const tok = tokenize(line);
    if (tok.kind === 'error') {
      skip(tok.reason);
      continue;
    }
    const chain = tok.tokens[1];
    if (chain === undefined) {
      skip('unknown_line');
      continue;
    }
    const comments: string[] = [];
    let target: string | undefined;
    for (let i = 2; i < tok.tokens.length; i++) {
      const t = tok.tokens[i];
      const next = tok.tokens[i + 1];
      if (next === undefined) break;
      if (t === '--comment') comments.push(next);
      else if ((t === '-j' || t === '-g' || t === '--jump' || t === '--goto') && target === undefined) target = next;
    }
    current.rules.push({ chain, comments, target });
  }
  return { tables, skipped };
}
