/**
 * Reading `iptables-save` output (and the daemon's dry-run script, which is
 * iptables-restore input of the same grammar) for what the test asserts:
 * which rules and chains of ours exist, where our DNAT sends clients, which
 * SNAT sources are in force. Our objects follow daemon/actuators/rule-text.ts:
 * chains ACTIVE_ROUTER, ACTIVE_ROUTER_POST, ACTIVE_ROUTER_FWD and AR-[DFB]-<hash>,
 * every rule tagged with a comment starting "active-router". Pure.
 *
 * Deletions in a restore script (-D, -F, -X) are not rules and are skipped.
 * Rules are compared by their meaning (chain, match fields, target), not by
 * text: iptables-save reorders and quotes options differently from the
 * script the daemon feeds to iptables-restore.
 */
import { tokenize } from '../../daemon/actuators/iptables-save-parse.js';

const OUR_CHAIN = /^(ACTIVE_ROUTER(_POST|_FWD)?|AR-[DFB]-[0-9a-f]{16})$/;

export interface RuleView {
  readonly table: string;
  readonly chain: string;
  readonly source: string | null;
  readonly destination: string | null;
  readonly inInterface: string | null;
  readonly outInterface: string | null;
  readonly protocol: string | null;
  readonly dport: string | null;
  readonly sport: string | null;
  readonly comment: string | null;
  readonly target: string | null;
  readonly toDestination: string | null;
  readonly toSource: string | null;
  readonly negated: boolean;
}

export interface SaveView {
  /** Chains of ours declared (`:NAME ...`), as `table/NAME`. */
  readonly chains: string[];
  /** Rules in chains of ours, or carrying our tag anywhere (the jumps in built-in chains). */
  readonly rules: RuleView[];
}

/** Splits an iptables-save line into words, honouring double quotes with \" escapes (the actuators' tokenizer). */
export function splitWords(line: string): string[] {
  const r = tokenize(line);
  // iptables-save never writes an unterminated quote; split such a line on spaces rather than drop it.
  return r.kind === 'ok' ? [...r.tokens] : line.split(' ').filter((w) => w !== '');
}

function parseRule(table: string, words: readonly string[]): RuleView {
  const get = (flag: string): string | null => {
    const i = words.indexOf(flag);
    return i >= 0 ? (words[i + 1] ?? null) : null;
  };
  const stripHost = (cidr: string | null): string | null => (cidr !== null && cidr.endsWith('/32') ? cidr.slice(0, -3) : cidr);
  return {
    table,
    chain: words[1] ?? '',
    source: stripHost(get('-s')),
    destination: stripHost(get('-d')),
    inInterface: get('-i'),
    outInterface: get('-o'),
    protocol: get('-p'),
    dport: get('--dport'),
    sport: get('--sport'),
    comment: get('--comment'),
    target: get('-j'),
    toDestination: get('--to-destination'),
    toSource: get('--to-source'),
    negated: words.includes('!'),
  };
}

function isOurs(r: RuleView): boolean {
  return OUR_CHAIN.test(r.chain) || (r.comment !== null && r.comment.startsWith('active-router'));
}

export function viewSave(text: string): SaveView {
  let table = '';
  const chains: string[] = [];
  const rules: RuleView[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      if (OUR_CHAIN.test(name)) chains.push(`${table}/${name}`);
    } else if (line.startsWith('-A ') || line.startsWith('-I ')) {
      // The dry-run script may insert (-I CHAIN [pos]) where iptables-save lists (-A CHAIN).
      const r = parseRule(table, splitWords(line));
      if (isOurs(r)) rules.push(r);
    }
  }
  return { chains, rules };
}

/** Where our DNAT rules send clients ("10.201.2.1:9888"), one entry per rule. */
export function dnatTargets(v: SaveView): string[] {
  return v.rules.filter((r) => r.target === 'DNAT' && r.toDestination !== null).map((r) => r.toDestination as string);
}

/** The source addresses our SNAT rules give upstream connections. */
export function snatSources(v: SaveView): string[] {
  return v.rules.filter((r) => r.target === 'SNAT' && r.toSource !== null).map((r) => r.toSource as string);
}

/** True when nothing of ours is left: no chain, no tagged rule. */
export function isClean(v: SaveView): boolean {
  return v.chains.length === 0 && v.rules.length === 0;
}

/**
 * A rule's meaning as one comparable string, without the per-connection SNAT
 * rules (their ports differ from run to run) and without counters.
 */
export function ruleKey(r: RuleView): string {
  return [r.table, r.chain, r.negated ? '!' : '', r.source, r.destination, r.inInterface, r.outInterface, r.protocol, r.dport, r.sport, r.comment, r.target, r.toDestination, r.toSource]
    .map((x) => x ?? '-')
    .join('|');
}

/** Keys of the redirect's rules (everything but SNATs), sorted: what a dry run must print and a live run must apply. */
export function redirectRuleKeys(v: SaveView): string[] {
  return v.rules.filter((r) => r.target !== 'SNAT').map(ruleKey).sort();
}
