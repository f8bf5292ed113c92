/**
 * Pure generation of our iptables rules (iptables-restore syntax, see
 * iptables-restore(8) and iptables-extensions(8): DNAT, SNAT, REJECT,
 * conntrack, comment, tcp). Layout, per address family:
 *
 *   nat    PREROUTING  -> ACTIVE_ROUTER       one dispatch rule per redirect:
 *                                             server ip/port, NEW + SYN -> AR-D-<hash>
 *          AR-D-<hash>                        except -> RETURN; selected clients -> DNAT
 *          POSTROUTING -> ACTIVE_ROUTER_POST  one SNAT rule per proxy upstream connection
 *   filter FORWARD     -> ACTIVE_ROUTER_FWD   per TCP redirect: non-SYN packets that no
 *                                             known connection owns (NEW via loose pickup,
 *                                             or INVALID) -> AR-F/AR-B-<hash> -> tcp-reset
 *
 * Why the reset sits in filter FORWARD and the DNAT needs SYN: after the
 * router deletes a redirected flow's conntrack entry, the next mid-stream
 * segment is picked up as NEW (nf_conntrack_tcp_loose=1) or is INVALID
 * (loose=0). The DNAT dispatch only matches SYNs, so that segment is not
 * rewritten, is forwarded towards the original server, and meets the reset
 * rule in FORWARD: the sender gets a RST and reconnects, and its new SYN is
 * DNATed. The AR-B chain does the same for a segment the server sends first,
 * so a flow whose server speaks first cannot slip back to the origin.
 *
 * A redirect's sub-chains are named by a hash of its whole normalised spec:
 * chains are immutable, a changed spec is a new chain, and the diff needs
 * nothing but chain names and comment tags from iptables-save.
 */
import { createHash } from 'node:crypto';
import type { IpFamily } from './ip-address.js';
import type { NormalDesiredState, NormalRedirect, NormalSnat } from './desired-state.js';

export const NAT_CHAIN = 'ACTIVE_ROUTER';
export const POST_CHAIN = 'ACTIVE_ROUTER_POST';
export const FWD_CHAIN = 'ACTIVE_ROUTER_FWD';
/** Comment on the jump rules in the built-in chains. */
export const JUMP_TAG = 'active-router';
/** Every other rule's comment starts with this. */
export const TAG_PREFIX = 'active-router:';
/**
 * Comment of the always-present last rule of ACTIVE_ROUTER_FWD. A network
 * namespace tracks no connections until some rule needs conntrack (empty nat
 * chains do not); this no-op RETURN with a conntrack match makes the kernel
 * track flows from start-up, so flows that exist before a redirect can be
 * found and destroyed when it goes live.
 */
export const TRACK_TAG = 'active-router:track';
export const SNAT_TAG_PREFIX = 'active-router:snat:';
/** Per-redirect sub-chains: AR-D (DNAT), AR-F (reset towards server), AR-B (reset from server) + 16 hex. */
export const SUB_CHAIN_PATTERN = /^AR-[DFB]-[0-9a-f]{16}$/;

export type TableName = 'nat' | 'filter';

export interface TopChain {
  readonly table: TableName;
  readonly name: string;
  /** Built-in chain that jumps to it. */
  readonly hook: string;
}

export const TOP_CHAINS: readonly TopChain[] = [
  { table: 'nat', name: NAT_CHAIN, hook: 'PREROUTING' },
  { table: 'nat', name: POST_CHAIN, hook: 'POSTROUTING' },
  { table: 'filter', name: FWD_CHAIN, hook: 'FORWARD' },
];

/** One rule of ours, reduced to what the diff compares: its comment tag and its target. */
export interface RuleSignature {
  readonly tag: string;
  readonly target: string;
}

export interface GeneratedRule extends RuleSignature {
  /** Everything after "-A CHAIN ". */
  readonly spec: string;
}

export interface GeneratedChain {
  readonly table: TableName;
  readonly name: string;
  readonly rules: readonly GeneratedRule[];
}

export interface FamilyRules {
  readonly family: IpFamily;
  /** Rules of the three top chains, in order. Key: chain name. */
  readonly top: ReadonlyMap<string, readonly GeneratedRule[]>;
  /** Per-redirect sub-chains, by name. */
  readonly subChains: ReadonlyMap<string, GeneratedChain>;
  /** id -> identity key (sub-chain name for redirects, spec hash for SNATs): what "changed" means. */
  readonly redirectKeys: ReadonlyMap<string, string>;
  readonly snatKeys: ReadonlyMap<string, string>;
}

/** iptables-save style quoting: bare when safe, else double quotes with \" and \\ escaped. */
export function quoteArg(text: string): string {
  if (/^[A-Za-z0-9._:/@+=,[\]-]+$/.test(text)) return text;
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function hostCidr(ip: string, family: IpFamily): string {
  return `${ip}/${family === 4 ? 32 : 128}`;
}

function toDestination(r: NormalRedirect): string {
  return r.family === 4 ? `${r.to.ip}:${r.to.port}` : `[${r.to.ip}]:${r.to.port}`;
}

/** Stable 16-hex hash of a normalised spec (key order fixed by construction). */
export function specHash(spec: NormalRedirect | NormalSnat): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

export function redirectTag(id: string): string {
  return `${TAG_PREFIX}${id}`;
}

export function snatTag(id: string, hash: string): string {
  return `${SNAT_TAG_PREFIX}${id}@${hash}`;
}

function rule(parts: string[], tag: string, target: string, targetArgs = ''): GeneratedRule {
  const spec = [...parts, '-m comment --comment', quoteArg(tag), '-j', target, targetArgs]
    .filter((p) => p !== '')
    .join(' ');
  return { tag, target, spec };
}

/** Client selector rules: except -> RETURN first, then the product interfaces x sources. */
function selectorRules(
  r: NormalRedirect,
  tag: string,
  dir: 'from-client' | 'to-client',
  target: string,
  targetArgs: string,
): GeneratedRule[] {
  const addrFlag = dir === 'from-client' ? '-s' : '-d';
  const ifFlag = dir === 'from-client' ? '-i' : '-o';
  const out: GeneratedRule[] = r.except.map((c) => rule([addrFlag, c], tag, 'RETURN'));
  const ifaces: (string | undefined)[] = r.inInterfaces.length > 0 ? [...r.inInterfaces] : [undefined];
  const sources: (string | undefined)[] = r.sources.length > 0 ? [...r.sources] : [undefined];
  for (const i of ifaces) {
    for (const s of sources) {
      const parts: string[] = [];
      if (i !== undefined) parts.push(ifFlag, i);
      if (s !== undefined) parts.push(addrFlag, s);
      // DNAT with a port and REJECT tcp-reset both need the protocol in the same rule.
      parts.push('-p', r.protocol);
      out.push(rule(parts, tag, target, targetArgs));
    }
  }
  return out;
}

function redirectRules(r: NormalRedirect, hash: string, top: Map<string, GeneratedRule[]>, subs: Map<string, GeneratedChain>): string {
  const tag = redirectTag(r.id);
  const server = hostCidr(r.server.ip, r.family);
  const dChain = `AR-D-${hash}`;
  const syn = r.protocol === 'tcp' ? ' --tcp-flags FIN,SYN,RST,ACK SYN' : '';
  top.get(NAT_CHAIN)?.push(
    rule(
      ['-d', server, '-p', r.protocol, '-m', r.protocol, '--dport', `${r.server.port}${syn}`, '-m conntrack --ctstate NEW'],
      tag,
      dChain,
    ),
  );
  subs.set(dChain, { table: 'nat', name: dChain, rules: selectorRules(r, tag, 'from-client', 'DNAT', `--to-destination ${toDestination(r)}`) });
  if (r.protocol === 'tcp') {
    const fChain = `AR-F-${hash}`;
    const bChain = `AR-B-${hash}`;
    const orphan = '! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate INVALID,NEW';
    const fwd = top.get(FWD_CHAIN);
    fwd?.push(rule(['-d', server, '-p tcp -m tcp --dport', String(r.server.port), orphan], tag, fChain));
    fwd?.push(rule(['-s', server, '-p tcp -m tcp --sport', String(r.server.port), orphan], tag, bChain));
    const reset = '--reject-with tcp-reset';
    subs.set(fChain, { table: 'filter', name: fChain, rules: selectorRules(r, tag, 'from-client', 'REJECT', reset) });
    subs.set(bChain, { table: 'filter', name: bChain, rules: selectorRules(r, tag, 'to-client', 'REJECT', reset) });
  }
  return dChain;
}

function snatRule(s: NormalSnat, hash: string): GeneratedRule {
  return rule(
    ['-d', hostCidr(s.origin.ip, s.family), '-p tcp -m tcp --sport', String(s.localPort), '--dport', String(s.origin.port)],
    snatTag(s.id, hash),
    'SNAT',
    `--to-source ${s.toSource}`,
  );
}

/** All rules of one address family for a normalised desired state. */
export function buildFamilyRules(desired: NormalDesiredState, family: IpFamily): FamilyRules {
  const top = new Map<string, GeneratedRule[]>(TOP_CHAINS.map((c) => [c.name, []]));
  const subChains = new Map<string, GeneratedChain>();
  const redirectKeys = new Map<string, string>();
  const snatKeys = new Map<string, string>();
  for (const r of desired.redirects) {
    if (r.family !== family) continue;
    redirectKeys.set(r.id, redirectRules(r, specHash(r), top, subChains));
  }
  for (const s of desired.snats) {
    if (s.family !== family) continue;
    const hash = specHash(s);
    snatKeys.set(s.id, hash);
    top.get(POST_CHAIN)?.push(snatRule(s, hash));
  }
  top.get(FWD_CHAIN)?.push(rule(['-m conntrack --ctstate INVALID'], TRACK_TAG, 'RETURN'));
  return { family, top, subChains, redirectKeys, snatKeys };
}

/** The jump rule from a built-in chain to one of our top chains. */
export function jumpSpec(chain: TopChain): string {
  return `-m comment --comment ${JUMP_TAG} -j ${chain.name}`;
}
