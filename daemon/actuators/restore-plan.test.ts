import { describe, expect, it } from 'vitest';
import { normalizeDesiredState } from './desired-state.js';
import type { IpFamily } from './ip-address.js';
import { parseIptablesSave, tokenize } from './iptables-save-parse.js';
import { ownedStateFromSnapshot, planClear, planFamily } from './restore-plan.js';
import { buildFamilyRules } from './rule-text.js';
import type { DesiredState, Redirect } from './types.js';

/**
 * A tiny model of what iptables-restore --noflush does with the lines we
 * emit (:chain, -A, -I n, -D, -F, -X), rendered back as iptables-save text,
 * so plans can be applied and re-planned without a kernel.
 */
class TableModel {
  readonly tables = new Map<string, Map<string, string[]>>();
  constructor(save: string) {
    let t: Map<string, string[]> | undefined;
    for (const line of save.split('\n')) {
      if (line.startsWith('*')) {
        t = this.tables.get(line.slice(1)) ?? new Map();
        this.tables.set(line.slice(1), t);
      } else if (line.startsWith(':') && t) t.set(line.slice(1).split(' ')[0] ?? '', []);
      else if (line.startsWith('-A ') && t) {
        const [, chain, ...rest] = line.split(' ');
        t.get(chain ?? '')?.push(rest.join(' '));
      }
    }
  }
  restore(script: string): void {
    let t: Map<string, string[]> | undefined;
    for (const line of script.split('\n')) {
      if (line === '' || line === 'COMMIT') continue;
      if (line.startsWith('*')) {
        t = this.tables.get(line.slice(1)) ?? new Map();
        this.tables.set(line.slice(1), t);
        continue;
      }
      if (!t) throw new Error(`line outside table: ${line}`);
      const [op, chain = '', ...rest] = line.split(' ');
      if (op?.startsWith(':')) {
        t.set(op.slice(1), []);
        continue;
      }
      const rules = t.get(chain);
      if (!rules) throw new Error(`no chain ${chain}: ${line}`);
      if (op === '-A') rules.push(rest.join(' '));
      else if (op === '-I') rules.splice(Number(rest[0]) - 1, 0, rest.slice(1).join(' '));
      else if (op === '-F') rules.length = 0;
      else if (op === '-D') {
        const i = rules.indexOf(rest.join(' '));
        if (i < 0) throw new Error(`no such rule: ${line}`);
        rules.splice(i, 1);
      } else if (op === '-X') {
        if (rules.length > 0) throw new Error(`chain not empty: ${line}`);
        for (const [, other] of t) if (other.some((r) => r.endsWith(`-j ${chain}`))) throw new Error(`chain in use: ${line}`);
        t.delete(chain);
      } else throw new Error(`unknown op ${line}`);
      // Every target must exist (as iptables-restore would insist).
      for (const r of t.get(chain) ?? []) {
        const tok = tokenize(r);
        if (tok.kind !== 'ok') throw new Error('bad rule');
        const target = tok.tokens[tok.tokens.indexOf('-j') + 1] ?? '';
        if (/^(AR-|ACTIVE_ROUTER)/.test(target) && !t.has(target)) throw new Error(`missing target ${target}`);
      }
    }
  }
  save(): string {
    const out: string[] = [];
    for (const [name, chains] of this.tables) {
      out.push(`*${name}`);
      for (const c of chains.keys()) out.push(`:${c} - [0:0]`);
      for (const [c, rules] of chains) for (const r of rules) out.push(`-A ${c} ${r}`);
      out.push('COMMIT');
    }
    return `${out.join('\n')}\n`;
  }
}

const BASE = `*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -j DOCKER
:DOCKER - [0:0]
COMMIT
*filter
:FORWARD ACCEPT [0:0]
-A FORWARD -j ACCEPT
COMMIT
`;

function redirect(id: string, port: number, extra: Partial<Redirect> = {}): Redirect {
  return {
    id,
    server: { ip: '10.0.1.2', port },
    protocol: 'tcp',
    clients: { inInterfaces: ['veth-b'], sources: ['10.0.2.0/24'], except: ['10.0.2.9'] },
    to: { ip: '10.0.2.1', port: port + 1000 },
    ...extra,
  };
}

function plan(model: TableModel, desired: DesiredState, family: IpFamily = 4) {
  const norm = normalizeDesiredState(desired);
  if (norm.kind !== 'ok') throw new Error(norm.problems.join());
  return planFamily(ownedStateFromSnapshot(parseIptablesSave(model.save())), buildFamilyRules(norm.value, family), family === 4);
}

describe('planFamily', () => {
  it('creates scaffolding and rules, then is idempotent', () => {
    const m = new TableModel(BASE);
    const d = { redirects: [redirect('a', 8888)], snats: [{ id: 's1', localPort: 40000, origin: { ip: '10.0.1.2', port: 8888 }, toSource: '10.0.2.5' }] };
    const p1 = plan(m, d);
    expect(p1.redirects.added).toEqual(['a']);
    expect(p1.snats.added).toEqual(['s1']);
    expect(p1.repairs).toContain('add jump nat/PREROUTING -> ACTIVE_ROUTER');
    m.restore(p1.script);
    expect(m.tables.get('nat')?.get('PREROUTING')?.[0]).toBe('-m comment --comment active-router -j ACTIVE_ROUTER');
    expect(m.tables.get('nat')?.get('PREROUTING')?.[1]).toBe('-j DOCKER');
    const p2 = plan(m, d);
    expect(p2.script).toBe('');
    expect(p2.redirects.unchanged).toEqual(['a']);
    expect(p2.snats.unchanged).toEqual(['s1']);
  });

  it('reports updated ids, replaces their chains and removes stale ones', () => {
    const m = new TableModel(BASE);
    m.restore(plan(m, { redirects: [redirect('a', 8888), redirect('b', 7777)], snats: [] }).script);
    const changed = { redirects: [redirect('a', 8888, { to: { ip: '10.0.2.1', port: 1234 } })], snats: [] };
    const p = plan(m, changed);
    expect(p.redirects).toEqual({ added: [], removed: ['b'], updated: ['a'], unchanged: [] });
    m.restore(p.script);
    const subs = [...(m.tables.get('nat')?.keys() ?? [])].filter((c) => c.startsWith('AR-'));
    expect(subs).toHaveLength(1);
    expect(m.tables.get('nat')?.get(subs[0] ?? '')?.some((r) => r.includes('--to-destination 10.0.2.1:1234'))).toBe(true);
    expect(plan(m, changed).script).toBe('');
  });

  it('removes duplicate jumps and repairs a tampered sub-chain', () => {
    const m = new TableModel(BASE);
    const d = { redirects: [redirect('a', 8888)], snats: [] };
    m.restore(plan(m, d).script);
    m.restore('*nat\n-A PREROUTING -m comment --comment active-router -j ACTIVE_ROUTER\nCOMMIT\n');
    const sub = [...(m.tables.get('nat')?.keys() ?? [])].find((c) => c.startsWith('AR-D-')) ?? '';
    m.restore(`*nat\n-F ${sub}\nCOMMIT\n`);
    const p = plan(m, d);
    expect(p.repairs).toEqual([`remove 1 duplicate jump(s) nat/PREROUTING -> ACTIVE_ROUTER`, `rewrite drifted chain nat/${sub}`]);
    m.restore(p.script);
    expect(m.tables.get('nat')?.get('PREROUTING')?.filter((r) => r.includes('ACTIVE_ROUTER'))).toHaveLength(1);
    expect(plan(m, d).script).toBe('');
  });

  it('leaves IPv6 alone when nothing of ours exists or is wanted there', () => {
    const m = new TableModel(BASE);
    expect(plan(m, { redirects: [redirect('a', 8888)], snats: [] }, 6).script).toBe('');
  });
});

describe('planClear', () => {
  it('removes everything of ours and nothing else', () => {
    const m = new TableModel(BASE);
    m.restore(plan(m, { redirects: [redirect('a', 8888), redirect('u', 53, { protocol: 'udp' })], snats: [] }).script);
    m.restore(planClear(ownedStateFromSnapshot(parseIptablesSave(m.save()))));
    expect(m.save()).toBe(new TableModel(BASE).save());
    expect(planClear(ownedStateFromSnapshot(parseIptablesSave(m.save())))).toBe('');
  });
});
