/**
 * Pure diff of actual (parsed iptables-save) against desired (generated
 * rules) into ONE iptables-restore --noflush script per address family,
 * plus a report of what changes. Kubernetes-controller style: the same
 * function creates the scaffolding on first start, repairs drift, removes
 * stale rules left by a crashed run, and returns an empty script when
 * nothing differs (so reconcile is idempotent and cheap).
 *
 * Only our objects are touched: the three top chains, AR-[DFB]-<hash>
 * sub-chains, and jump rules in built-in chains tagged "active-router".
 */
import type { IpFamily } from './ip-address.js';
import type { SaveSnapshot, SavedRule } from './iptables-save-parse.js';
import type { FamilyRules, GeneratedRule, RuleSignature, TableName } from './rule-text.js';
import {
  JUMP_TAG,
  NAT_CHAIN,
  POST_CHAIN,
  SNAT_TAG_PREFIX,
  SUB_CHAIN_PATTERN,
  TAG_PREFIX,
  TOP_CHAINS,
  jumpSpec,
} from './rule-text.js';

export interface IdChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
}

export interface FamilyPlan {
  readonly family: IpFamily;
  /** iptables-restore --noflush input; '' when nothing needs to change. */
  readonly script: string;
  readonly redirects: IdChanges;
  readonly snats: IdChanges;
  /** Scaffolding and drift repairs, human-readable ("create chain nat/ACTIVE_ROUTER", ...). */
  readonly repairs: readonly string[];
}

/** What of ours exists in one family, read from iptables-save. */
export interface OwnedState {
  /** table -> our chains that exist (top and sub-chains). */
  readonly chains: ReadonlyMap<TableName, ReadonlySet<string>>;
  /** top chain name -> its rules. */
  readonly topRules: ReadonlyMap<string, readonly SavedRule[]>;
  /** sub-chain name -> number of rules. */
  readonly subRuleCounts: ReadonlyMap<string, number>;
  /** top chain name -> number of tagged jump rules to it in its hook. */
  readonly jumps: ReadonlyMap<string, number>;
}

const TABLES: readonly TableName[] = ['nat', 'filter'];

function ourTag(rule: SavedRule): string {
  return rule.comments.find((c) => c === JUMP_TAG || c.startsWith(TAG_PREFIX)) ?? '';
}

export function ownedStateFromSnapshot(snapshot: SaveSnapshot): OwnedState {
  const chains = new Map<TableName, Set<string>>();
  const topRules = new Map<string, SavedRule[]>();
  const subRuleCounts = new Map<string, number>();
  const jumps = new Map<string, number>();
  for (const table of TABLES) {
    const saved = snapshot.tables.get(table);
    const ours = new Set<string>();
    chains.set(table, ours);
    if (!saved) continue;
    const tops = TOP_CHAINS.filter((c) => c.table === table);
    for (const name of saved.chains) {
      if (tops.some((c) => c.name === name) || SUB_CHAIN_PATTERN.test(name)) ours.add(name);
    }
    for (const top of tops) if (ours.has(top.name)) topRules.set(top.name, []);
    for (const sub of ours) if (SUB_CHAIN_PATTERN.test(sub)) subRuleCounts.set(sub, 0);
    for (const rule of saved.rules) {
      const top = tops.find((c) => c.name === rule.chain);
      if (top) topRules.get(top.name)?.push(rule);
      else if (subRuleCounts.has(rule.chain)) subRuleCounts.set(rule.chain, (subRuleCounts.get(rule.chain) ?? 0) + 1);
      const hooked = tops.find((c) => c.hook === rule.chain && c.name === rule.target);
      if (hooked && ourTag(rule) === JUMP_TAG) jumps.set(hooked.name, (jumps.get(hooked.name) ?? 0) + 1);
    }
  }
  return { chains, topRules, subRuleCounts, jumps };
}

/** id -> key of what exists: redirect ids from ACTIVE_ROUTER tags, SNAT ids from ACTIVE_ROUTER_POST tags. */
function currentKeys(owned: OwnedState): { redirects: Map<string, string>; snats: Map<string, string> } {
  const redirects = new Map<string, string>();
  const snats = new Map<string, string>();
  for (const r of owned.topRules.get(NAT_CHAIN) ?? []) {
    const tag = ourTag(r);
    if (tag.startsWith(TAG_PREFIX) && !tag.startsWith(SNAT_TAG_PREFIX)) redirects.set(tag.slice(TAG_PREFIX.length), r.target ?? '');
  }
  for (const r of owned.topRules.get(POST_CHAIN) ?? []) {
    const tag = ourTag(r);
    if (!tag.startsWith(SNAT_TAG_PREFIX)) continue;
    const rest = tag.slice(SNAT_TAG_PREFIX.length);
    const at = rest.lastIndexOf('@');
    if (at > 0) snats.set(rest.slice(0, at), rest.slice(at + 1));
  }
  return { redirects, snats };
}

function diffKeys(current: ReadonlyMap<string, string>, desired: ReadonlyMap<string, string>): IdChanges {
  const added: string[] = [];
  const updated: string[] = [];
  const unchanged: string[] = [];
  for (const [id, key] of desired) {
    const cur = current.get(id);
    if (cur === undefined) added.push(id);
    else if (cur === key) unchanged.push(id);
    else updated.push(id);
  }
  const removed = [...current.keys()].filter((id) => !desired.has(id));
  return { added, removed, updated, unchanged };
}

function sameSignatures(current: readonly SavedRule[], desired: readonly RuleSignature[]): boolean {
  if (current.length !== desired.length) return false;
  return current.every((r, i) => ourTag(r) === desired[i]?.tag && r.target === desired[i]?.target);
}

function addLines(chain: string, rules: readonly GeneratedRule[]): string[] {
  return rules.map((r) => `-A ${chain} ${r.spec}`);
}

/**
 * Plans one family. `ensureScaffolding`: create our top chains and jumps even
 * when nothing is desired (always for IPv4, so conntrack starts tracking at
 * start-up; for IPv6 only once something of ours exists or is wanted).
 */
export function planFamily(owned: OwnedState, desired: FamilyRules, ensureScaffolding: boolean): FamilyPlan {
  const repairs: string[] = [];
  const keys = currentKeys(owned);
  const redirects = diffKeys(keys.redirects, desired.redirectKeys);
  const snats = diffKeys(keys.snats, desired.snatKeys);
  const anyOwned = [...owned.chains.values()].some((s) => s.size > 0);
  const scaffold = ensureScaffolding || anyOwned || desired.redirectKeys.size > 0 || desired.snatKeys.size > 0;
  const blocks: string[] = [];
  for (const table of TABLES) {
    const exists = owned.chains.get(table) ?? new Set<string>();
    const decl: string[] = [];
    const flush: string[] = [];
    const subAdds: string[] = [];
    const topAdds: string[] = [];
    const stale: string[] = [];
    const jumpLines: string[] = [];
    if (scaffold) {
      for (const top of TOP_CHAINS.filter((c) => c.table === table)) {
        const want = desired.top.get(top.name) ?? [];
        if (!exists.has(top.name)) {
          decl.push(`:${top.name} - [0:0]`);
          repairs.push(`create chain ${table}/${top.name}`);
          topAdds.push(...addLines(top.name, want));
        } else if (!sameSignatures(owned.topRules.get(top.name) ?? [], want)) {
          flush.push(`-F ${top.name}`);
          topAdds.push(...addLines(top.name, want));
        }
        const n = owned.jumps.get(top.name) ?? 0;
        if (n === 0) {
          jumpLines.push(`-I ${top.hook} 1 ${jumpSpec(top)}`);
          repairs.push(`add jump ${table}/${top.hook} -> ${top.name}`);
        }
        for (let k = 1; k < n; k++) jumpLines.push(`-D ${top.hook} ${jumpSpec(top)}`);
        if (n > 1) repairs.push(`remove ${n - 1} duplicate jump(s) ${table}/${top.hook} -> ${top.name}`);
      }
    }
    for (const sub of desired.subChains.values()) {
      if (sub.table !== table) continue;
      if (!exists.has(sub.name)) {
        decl.push(`:${sub.name} - [0:0]`);
        subAdds.push(...addLines(sub.name, sub.rules));
      } else if ((owned.subRuleCounts.get(sub.name) ?? 0) !== sub.rules.length) {
        flush.push(`-F ${sub.name}`);
        subAdds.push(...addLines(sub.name, sub.rules));
        repairs.push(`rewrite drifted chain ${table}/${sub.name}`);
      }
    }
    for (const name of exists) {
      if (SUB_CHAIN_PATTERN.test(name) && !desired.subChains.has(name)) stale.push(`-F ${name}`, `-X ${name}`);
    }
    const body = [...decl, ...flush, ...subAdds, ...topAdds, ...stale, ...jumpLines];
    if (body.length > 0) blocks.push([`*${table}`, ...body, 'COMMIT'].join('\n'));
  }
  const script = blocks.length > 0 ? `${blocks.join('\n')}\n` : '';
  return { family: desired.family, script, redirects, snats, repairs };
}

/** Script removing every object of ours (jumps first, then flush, then delete chains). '' when none exist. */
export function planClear(owned: OwnedState): string {
  const blocks: string[] = [];
  for (const table of TABLES) {
    const exists = owned.chains.get(table) ?? new Set<string>();
    const lines: string[] = [];
    for (const top of TOP_CHAINS.filter((c) => c.table === table)) {
      for (let k = 0; k < (owned.jumps.get(top.name) ?? 0); k++) lines.push(`-D ${top.hook} ${jumpSpec(top)}`);
    }
    // Flush all before deleting any: top chains reference sub-chains.
    for (const name of exists) lines.push(`-F ${name}`);
    for (const name of exists) lines.push(`-X ${name}`);
    if (lines.length > 0) blocks.push([`*${table}`, ...lines, 'COMMIT'].join('\n'));
  }
  return blocks.length > 0 ? `${blocks.join('\n')}\n` : '';
}
