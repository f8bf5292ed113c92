/**
 * One actuation step: reconcile the iptables rules, then destroy the
 * conntrack entries of clients' existing flows to every server whose
 * redirect is new or changed, so those flows stop reaching the origin and
 * (through the reset rules) reconnect into the redirect. Order matters: rules
 * first, so a flow's next packet after its entry is gone meets the reset.
 *
 * Flows are selected by source CIDR only (conntrack knows no interfaces):
 * an interface-only selector destroys all flows to the server. That is
 * harmless for unselected clients: their next segment is picked up again
 * (loose TCP pickup) and, not matching the reset chain, is forwarded as
 * before.
 */
import type { Conntrack } from './conntrack.js';
import type { ConntrackEntry } from './conntrack-codec.js';
import type { IptablesActuator, ReconcileResult } from './iptables-actuator.js';
import type { DesiredState } from './types.js';

export interface ActuatorDeps {
  readonly iptables: IptablesActuator;
  /** Optional: without it only rules change (e.g. dry environments). */
  readonly conntrack?: Conntrack;
  /** Monotonic milliseconds, for the timings. */
  readonly now: () => number;
}

export interface FlowsDestroyed {
  readonly id: string;
  readonly destroyed: number;
  readonly entries: readonly ConntrackEntry[];
}

export interface ApplyResult {
  readonly reconcile: ReconcileResult;
  readonly flows: readonly FlowsDestroyed[];
  readonly timings: { readonly reconcileMs: number; readonly conntrackMs: number; readonly totalMs: number };
}

export async function applyDesiredState(deps: ActuatorDeps, desired: DesiredState): Promise<ApplyResult> {
  const t0 = deps.now();
  const reconcile = await deps.iptables.reconcile(desired);
  const t1 = deps.now();
  const changed = new Set<string>();
  for (const fp of reconcile.families) for (const id of [...fp.redirects.added, ...fp.redirects.updated]) changed.add(id);
  const flows: FlowsDestroyed[] = [];
  if (deps.conntrack) {
    for (const r of desired.redirects) {
      if (!changed.has(r.id)) continue;
      const res = deps.conntrack.destroyFlows({
        protocol: r.protocol,
        dst: { ip: r.server.ip, port: r.server.port },
        ...(r.clients.sources && r.clients.sources.length > 0 ? { srcCidrs: r.clients.sources } : {}),
        ...(r.clients.except && r.clients.except.length > 0 ? { except: r.clients.except } : {}),
      });
      flows.push({ id: r.id, destroyed: res.destroyed, entries: res.entries });
    }
  }
  const t2 = deps.now();
  return { reconcile, flows, timings: { reconcileMs: t1 - t0, conntrackMs: t2 - t1, totalMs: t2 - t0 } };
}
