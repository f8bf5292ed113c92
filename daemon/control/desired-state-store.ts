/**
 * The single owner of the desired state handed to the actuators: the
 * manager's redirects and the cache proxies' upstream SNATs. Every change goes
 * through one serialised `apply()`, so two reconciles never race and the
 * rules always match the latest desired state (ARCHITECTURE.md: reconcile).
 */
import type { ApplyResult } from '../actuators/apply-desired.js';
import type { DesiredState, Redirect, UpstreamSnat } from '../actuators/types.js';

export type ApplyFn = (desired: DesiredState) => Promise<ApplyResult | undefined>;

export class DesiredStateStore {
  private readonly redirects = new Map<string, Redirect>();
  private readonly snats = new Map<string, UpstreamSnat>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly applyFn: ApplyFn) {}

  setRedirect(r: Redirect): void {
    this.redirects.set(r.id, r);
  }

  removeRedirect(id: string): boolean {
    return this.redirects.delete(id);
  }

  setSnat(s: UpstreamSnat): void {
    this.snats.set(s.id, s);
  }

  removeSnat(id: string): boolean {
    return this.snats.delete(id);
  }

  current(): DesiredState {
    return { redirects: [...this.redirects.values()], snats: [...this.snats.values()] };
  }

  /** Reconciles the rules towards the current desired state; calls queue behind each other. */
  apply(): Promise<ApplyResult | undefined> {
    const run = this.chain.then(() => this.applyFn(this.current()));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Forgets everything (shutdown: the caller then clears the chains). */
  reset(): void {
    this.redirects.clear();
    this.snats.clear();
  }
}
