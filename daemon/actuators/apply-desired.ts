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
 *
 * Then, when a session source and a reset injector are given, both ends of
 * every selected client's TCP session to the server are reset at once
 * (tcp-reset.ts): the origin drops the old session (so the client's
 * re-login through the proxy is not refused as a duplicate) and the client
 * reconnects without first having to send. Selection is as for conntrack:
 * by source CIDR only, so an interface-only selector resets all clients of
 * that server (the capture may not see the ingress interface either). The
 * proxy's own upstream connections (SNATed to a client's address) are spared.
 */
import type { Conntrack } from './conntrack.js';
import type { ConntrackEntry } from './conntrack-codec.js';
import type { IptablesActuator, ReconcileResult } from './iptables-actuator.js';
import { canonicalIp } from './ip-address.js';
import type { SessionResetter, TcpSessionState } from './tcp-reset.js';
import type { DesiredState } from './types.js';

/** What `tcpSessions` is asked for: FlowTable.tcpSessions's filter. */
export interface SessionQuery {
  readonly serverIp: string;
  readonly serverPort: number;
  readonly clientCidrs?: readonly string[];
  readonly except?: readonly string[];
}

export interface ActuatorDeps {
  readonly iptables: IptablesActuator;
  /** Optional: without it only rules change (e.g. dry environments). */
  readonly conntrack?: Conntrack;
  /** Optional: the TCP sessions the capture tracks (FlowTable.tcpSessions). Both this and `resetInjector` enable resets. */
  readonly tcpSessions?: (filter: SessionQuery) => readonly TcpSessionState[];
  /** Optional: forges the RSTs (TcpResetInjector). */
  readonly resetInjector?: SessionResetter;
  /**
   * Wait this long (ms) after deleting the tracked flows before reading the
   * sessions' sequence numbers: segments forwarded just before the deletion
   * must reach the capture first, or an RST carries a stale sequence number
   * and the server drops it silently (below its window). Default 0.
   */
  readonly settleMs?: number;
  /** Monotonic milliseconds, for the timings. */
  readonly now: () => number;
}

export interface FlowsDestroyed {
  readonly id: string;
  readonly destroyed: number;
  readonly entries: readonly ConntrackEntry[];
}

export interface SessionsReset {
  readonly id: string;
  /** Sessions selected (each gets up to two RSTs). */
  readonly sessionsReset: number;
  readonly packetsSent: number;
  /** Sends that failed (counted on the injector, `lastError` says why). */
  readonly failures: number;
  /** Halves not sent: sequence number unknown, IPv6 (counted on the injector by reason). */
  readonly skipped: number;
}

export interface ApplyResult {
  readonly reconcile: ReconcileResult;
  readonly flows: readonly FlowsDestroyed[];
  /** Empty unless both `tcpSessions` and `resetInjector` were given. */
  readonly resets: readonly SessionsReset[];
  readonly timings: {
    readonly reconcileMs: number;
    readonly conntrackMs: number;
    readonly resetMs: number;
    readonly totalMs: number;
  };
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
  const resets: SessionsReset[] = [];
  if (deps.tcpSessions && deps.resetInjector && (deps.settleMs ?? 0) > 0 && flows.some((f) => f.destroyed > 0)) {
    await new Promise((r) => setTimeout(r, deps.settleMs));
    // One more turn of the event loop so the capture delivers what the kernel holds.
    await new Promise((r) => setImmediate(r));
  }
  if (deps.tcpSessions && deps.resetInjector) {
    for (const r of desired.redirects) {
      if (!changed.has(r.id) || r.protocol !== 'tcp') continue;
      resets.push(resetSessions(deps.tcpSessions, deps.resetInjector, r, desired.snats));
    }
  }
  const t3 = deps.now();
  return {
    reconcile,
    flows,
    resets,
    timings: { reconcileMs: t1 - t0, conntrackMs: t2 - t1, resetMs: t3 - t2, totalMs: t3 - t0 },
  };
}

function resetSessions(
  tcpSessions: NonNullable<ActuatorDeps['tcpSessions']>,
  injector: SessionResetter,
  r: DesiredState['redirects'][number],
  snats: DesiredState['snats'],
): SessionsReset {
  // The proxy's own upstream connections carry a client's address (SNAT, source port kept):
  // they look like client sessions to the server and must survive a changed redirect.
  const upstream = new Set<string>();
  const serverIp = canonicalIp(r.server.ip);
  for (const n of snats) {
    if (n.origin.port === r.server.port && canonicalIp(n.origin.ip) === serverIp) {
      upstream.add(`${canonicalIp(n.toSource) ?? n.toSource} ${n.localPort}`);
    }
  }
  const sessions = tcpSessions({
    serverIp: r.server.ip,
    serverPort: r.server.port,
    ...(r.clients.sources && r.clients.sources.length > 0 ? { clientCidrs: r.clients.sources } : {}),
    ...(r.clients.except && r.clients.except.length > 0 ? { except: r.clients.except } : {}),
  }).filter((x) => !upstream.has(`${canonicalIp(x.client.ip) ?? x.client.ip} ${x.client.port}`));
  let packetsSent = 0;
  let failures = 0;
  let skipped = 0;
  for (const s of sessions) {
    const res = injector.resetSession(s);
    packetsSent += res.packetsSent;
    failures += res.failures;
    skipped += res.skipped;
  }
  return { id: r.id, sessionsReset: sessions.length, packetsSent, failures, skipped };
}
