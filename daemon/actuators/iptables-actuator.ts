/**
 * The iptables actuator: reconciles our DNAT/SNAT/reset rules (layout in
 * rule-text.ts) towards a desired state. Each call reads the actual rules
 * with `iptables-save`, diffs by comment tag and chain name
 * (restore-plan.ts), and applies ONE atomic `iptables-restore --noflush`
 * batch per address family. Start-up, change, crash repair and shutdown all
 * go through `reconcile`/`clear` (fail-open invariant: nothing of ours
 * survives outside our own chains, and a new start removes what a killed
 * run left behind).
 */
import type { BackendChoice, IptablesBackend } from './iptables-backend.js';
import { detectBackend } from './iptables-backend.js';
import { InvalidDesiredStateError, IptablesCommandError } from './errors.js';
import type { IpFamily } from './ip-address.js';
import { parseIptablesSave } from './iptables-save-parse.js';
import type { FamilyPlan, OwnedState } from './restore-plan.js';
import { ownedStateFromSnapshot, planClear, planFamily } from './restore-plan.js';
import { normalizeDesiredState } from './desired-state.js';
import { buildFamilyRules } from './rule-text.js';
import type { CommandRunner } from './run-command.js';
import { runCommand } from './run-command.js';
import type { DesiredState } from './types.js';

/** `-w`: wait this many seconds for the xtables lock instead of failing at once (legacy backend). */
export const XTABLES_LOCK_WAIT_S = 5;

export interface IptablesActuatorOptions {
  /** Backend override; 'auto' follows what the system's `iptables` is. */
  readonly backend?: BackendChoice;
  /** Process runner (tests of the pure parts never need one; integration runs the real tools). */
  readonly run?: CommandRunner;
}

export interface ActuatorPlan {
  readonly families: readonly FamilyPlan[];
  /** Families left alone, with the reason (e.g. ip6tables unavailable and nothing IPv6 wanted). */
  readonly skipped: readonly { readonly family: IpFamily; readonly reason: string }[];
}

export interface ReconcileResult extends ActuatorPlan {
  /** True when at least one iptables-restore batch ran. */
  readonly applied: boolean;
}

export interface ClearResult {
  readonly applied: boolean;
  readonly scripts: Readonly<Partial<Record<IpFamily, string>>>;
}

const FAMILIES: readonly IpFamily[] = [4, 6];

const EMPTY_OWNED: OwnedState = { chains: new Map(), topRules: new Map(), subRuleCounts: new Map(), jumps: new Map() };

function isEmptyOwned(o: OwnedState): boolean {
  return [...o.chains.values()].every((c) => c.size === 0) && [...o.jumps.values()].every((n) => n === 0);
}

export class IptablesActuator {
  private queue: Promise<unknown> = Promise.resolve();
  /** Families (other than IPv4) read once and found to hold nothing of ours. */
  private readonly knownEmpty = new Set<IpFamily>();
  /**
   * What of ours each family held when last read, read back after each change
   * off the decision path, so a reconcile costs one iptables-restore instead
   * of a save and a restore. We are the only writer of our chains; if they
   * changed under us anyway, the restore fails and is retried on a fresh read.
   */
  private readonly cache = new Map<IpFamily, OwnedState>();
  private generation = 0;

  private constructor(
    readonly backend: IptablesBackend,
    private readonly run: CommandRunner,
  ) {}

  static async create(options: IptablesActuatorOptions = {}): Promise<IptablesActuator> {
    const run = options.run ?? runCommand;
    return new IptablesActuator(await detectBackend(run, options.backend ?? 'auto'), run);
  }

  /** The exact scripts reconcile would apply now (dry run): applies nothing. */
  plan(desired: DesiredState): Promise<ActuatorPlan> {
    return this.serial(() => this.computePlan(desired, false).then((p) => p.plan));
  }

  /** Brings the actual rules to `desired`; returns what changed. */
  reconcile(desired: DesiredState): Promise<ReconcileResult> {
    return this.serial(async () => {
      const first = await this.computePlan(desired, true);
      let plan = first.plan;
      let applied: IpFamily[];
      try {
        applied = await this.applyPlan(plan);
      } catch (err) {
        if (!first.cached) throw err;
        // Our chains changed under us: read them and try once more.
        this.cache.clear();
        ({ plan } = await this.computePlan(desired, false));
        applied = await this.applyPlan(plan);
      }
      if (applied.length > 0) this.refreshCache(applied);
      return { ...plan, applied: applied.length > 0 };
    });
  }

  /** Removes our chains and jumps (and nothing else), in every family where they exist. */
  clear(): Promise<ClearResult> {
    return this.serial(async () => {
      this.cache.clear();
      this.generation++;
      const scripts: Partial<Record<IpFamily, string>> = {};
      let applied = false;
      for (const family of FAMILIES) {
        const owned = await this.readOwned(family, family === 4);
        if (!owned) continue;
        const script = planClear(owned);
        if (script === '') continue;
        scripts[family] = script;
        await this.restore(family, script);
        applied = true;
      }
      return { applied, scripts };
    });
  }

  /** What of ours exists in one family; undefined when that family's tools fail and `required` is false. */
  async readOwned(family: IpFamily, required = true): Promise<OwnedState | undefined> {
    const tool = this.backend.tools[family].save;
    const res = await this.run(tool, []);
    if (res.failure !== undefined || res.exitCode !== 0) {
      if (!required) return undefined;
      throw new IptablesCommandError(tool, [], res.exitCode, res.failure ?? res.stderr);
    }
    return ownedStateFromSnapshot(parseIptablesSave(res.stdout));
  }

  private async applyPlan(plan: ActuatorPlan): Promise<IpFamily[]> {
    const applied: IpFamily[] = [];
    for (const fp of plan.families) {
      if (fp.script === '') continue;
      await this.restore(fp.family, fp.script);
      applied.push(fp.family);
    }
    return applied;
  }

  /** Reads the families just changed back into the cache, unless another change overtakes the read. */
  private refreshCache(families: readonly IpFamily[]): void {
    const gen = this.generation;
    for (const family of families) {
      this.readOwned(family, false).then(
        (owned) => {
          if (owned && gen === this.generation) this.cache.set(family, owned);
        },
        () => undefined,
      );
    }
  }

  private async computePlan(desired: DesiredState, useCache: boolean): Promise<{ plan: ActuatorPlan; cached: boolean }> {
    const norm = normalizeDesiredState(desired);
    if (norm.kind === 'error') throw new InvalidDesiredStateError(norm.problems);
    const families: FamilyPlan[] = [];
    const skipped: { family: IpFamily; reason: string }[] = [];
    const rulesOf = FAMILIES.map((family) => buildFamilyRules(norm.value, family));
    const wantedOf = rulesOf.map((r) => r.redirectKeys.size > 0 || r.snatKeys.size > 0);
    // Both families are read at once: each save is a process spawn, and this
    // sits on the decision → rules-live path. A family known to hold nothing
    // of ours and wanting nothing is not read again (we are its only writer).
    let cached = false;
    const owned = await Promise.all(
      FAMILIES.map(async (family, i) => {
        if (!wantedOf[i] && this.knownEmpty.has(family)) return EMPTY_OWNED;
        const hit = useCache ? this.cache.get(family) : undefined;
        if (hit) {
          cached = true;
          return hit;
        }
        const read = await this.readOwned(family, family === 4 || wantedOf[i]);
        if (read) this.cache.set(family, read);
        return read;
      }),
    );
    FAMILIES.forEach((family, i) => {
      const o = owned[i];
      if (!o) {
        skipped.push({ family, reason: `${this.backend.tools[family].save} unavailable and nothing IPv${family} desired` });
        return;
      }
      const plan = planFamily(o, rulesOf[i]!, family === 4);
      if (family !== 4 && !wantedOf[i] && plan.script === '' && isEmptyOwned(o)) this.knownEmpty.add(family);
      families.push(plan);
    });
    return { plan: { families, skipped }, cached };
  }

  private async restore(family: IpFamily, script: string): Promise<void> {
    this.knownEmpty.delete(family);
    // What we read before no longer holds until it is read back.
    this.cache.delete(family);
    this.generation++;
    const tool = this.backend.tools[family].restore;
    const args = ['--noflush', '-w', String(XTABLES_LOCK_WAIT_S)];
    const res = await this.run(tool, args, script);
    if (res.failure !== undefined || res.exitCode !== 0) {
      throw new IptablesCommandError(tool, args, res.exitCode, `${res.failure ?? ''}${res.stderr}`);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
