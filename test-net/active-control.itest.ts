/**
 * Integration test of active control (issue 5, "Done when"; seed 001 §5, Fig. 4):
 * real capture, real iptables, real conntrack, real sockets, the built daemon
 * and OpenNap server and peers (dist/), in the paper topology's network
 * namespaces (test-net/active-control/bed.ts). One test bed for the whole
 * file; the steps run in order and each asserts one property of the list:
 *
 *  1. threshold crossed, our DNAT to 10.201.2.1:9888 installed, net B peers on the proxy in < 1 s;
 *  2. their searches keep >= 90 % of their results;  3. the origin's query rate falls;
 *  4. net A sees net B's real addresses (201 results, 204 download acks) through the proxy's SNAT;
 *  5. release when the load stops;  6. SIGTERM and kill -9 + restart leave no rule;
 *  7. an invalid policy on SIGHUP is refused and the old one keeps working; --dry-run applies nothing.
 *
 * Needs root (namespaces, iptables) and a build (`npx tsc -p tsconfig.json`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesOfGroup, paperCatalogue } from '../opennap/catalogue.js';
import { SHARE_FOLDER } from '../opennap/peer-workload.js';
import type { SearchLogRecord } from '../opennap/search-log.js';
import { ActiveControlBed, B_PEERS, bPeerAddress, compileProbe, DAEMON_STOP_GRACE_MS } from './active-control/bed.js';
import type { DaemonRun, PeerRun, PeersStopped, TimelineEntry } from './active-control/bed.js';
import { sleep, waitUntil } from './active-control/child.js';
import { parseConntrack, snatedClientAddresses } from './active-control/conntrack-view.js';
import { dnatTargets, isClean, redirectRuleKeys, snatSources, viewSave } from './active-control/iptables-view.js';
import { counterRate, keywordMatchedResults, longestSilenceMs, peerNumberOfNick, reconnectGap, resultsInWindow, sentIn } from './active-control/measures.js';
import { DRY_RUN_STATUS_LISTEN, invalidPolicyYaml, PROXY_PORT, STATUS_LISTEN, testPolicyYaml } from './active-control/policy.js';
import { PAPER_ROUTER_ADDR_A, PAPER_ROUTER_ADDR_B, PAPER_ROUTER_IF_B, PAPER_NET_B, PAPER_SERVER_ADDR } from './topologies/paper.js';

const isRoot = process.getuid?.() === 0;

/** The first daemon measures only, as a plain router, for this long: the "before" of the comparisons. */
const ACTIVE_AFTER_S = 10;
/** The restarted daemon (after kill -9) waits this long before it may act, so the reconcile check sees its start-up alone. */
const RESTART_ACTIVE_AFTER_S = 4;
/** Net B's first searches are left out of "before": peers still logging in, caches cold. */
const WARMUP_MS = 3_000;
/** "After" starts this long after the rules went in (the reconnect itself is measured apart). */
const AFTER_SETTLE_MS = 2_000;
/** Length of the "after" window. */
const AFTER_MS = 8_000;
/** The largest answer gap per B peer across the switch the test accepts (the issue's "under a second"). */
const MAX_RECONNECT_GAP_MS = 1_000;
/** Waits for the daemon to decide: active-after, hold, metric window, tick, on a busy machine. */
const DECISION_TIMEOUT_MS = 30_000;

const PROXY = `${PAPER_ROUTER_ADDR_B}:${PROXY_PORT}`;
const ORIGIN = `${PAPER_SERVER_ADDR}:8888`;
const B_ADDRESSES = B_PEERS.map(bPeerAddress).sort();

// Skipped only outside CI, for a developer without root (or the tool named): these tests build
// namespaces and change iptables/conntrack. CI (CI=true, root, tools installed by .ci/setup) never skips them.
describe.skipIf(!isRoot && !process.env.CI)('active control in network namespaces (issue 5)', () => {
  let workDir = '';
  let bed: ActiveControlBed | undefined;
  let policyPath = '';
  let validPolicy = '';
  const daemons: DaemonRun[] = [];
  const peerRuns: PeerRun[][] = [];

  // Shared between the steps, in order.
  let daemon1: DaemonRun;
  let round1: PeerRun[];
  let round1StartedAt = 0;
  let crossed: TimelineEntry;
  let applied: TimelineEntry;
  let round1Stopped: PeersStopped;
  let round1StoppedAt = 0;
  let round2: PeerRun[];
  let liveRedirectKeys: string[] = [];

  const need = (): ActiveControlBed => {
    if (bed === undefined) throw new Error('the test bed is not up');
    return bed;
  };
  const natView = async () => viewSave(await need().iptablesSave('nat'));

  beforeAll(async () => {
    compileProbe();
    workDir = mkdtempSync(join(tmpdir(), 'ar-active-control-'));
    bed = await ActiveControlBed.up(workDir);
    validPolicy = testPolicyYaml({ databasePath: join(workDir, 'state.db') });
    policyPath = bed.writeFile('policy.yaml', validPolicy);
  });

  afterAll(async () => {
    // Daemons first, gently, so their own shutdown runs; the test bed kills whatever is left.
    await Promise.all(daemons.map((d) => d.child.stop(DAEMON_STOP_GRACE_MS)));
    await Promise.all(peerRuns.flat().map((p) => p.child.stop(3_000)));
    await bed?.down();
    if (workDir !== '') rmSync(workDir, { recursive: true, force: true });
  });

  describe('takeover and release', () => {
    it('crosses the threshold and installs our DNAT to the proxy', async () => {
      const b = need();
      daemon1 = b.startDaemon('daemon1', { policyPath, dbPath: join(workDir, 'state.db'), activeAfterS: ACTIVE_AFTER_S, statusListen: STATUS_LISTEN });
      daemons.push(daemon1);
      await daemon1.waitRunning();
      // A plain router while it measures: nothing of ours redirects yet.
      expect(dnatTargets(await natView())).toEqual([]);

      round1StartedAt = Date.now();
      round1 = b.startBPeers('round1');
      peerRuns.push(round1);
      crossed = await daemon1.waitTimeline('crossed', 0, DECISION_TIMEOUT_MS + ACTIVE_AFTER_S * 1000);
      applied = await daemon1.waitTimeline('rules_applied', crossed.ts, DECISION_TIMEOUT_MS);
      expect(crossed.server).toBe(ORIGIN);
      expect(crossed.detail).toMatch(/QR_avg [\d.]+ > 10/);

      const nat = await natView();
      const dnat = nat.rules.filter((r) => r.target === 'DNAT');
      expect(dnat.map((r) => r.toDestination)).toEqual([PROXY]);
      expect(dnat[0]).toMatchObject({ inInterface: PAPER_ROUTER_IF_B, source: PAPER_NET_B, protocol: 'tcp' });
      // The dispatch rule sends only new connections to the origin into the DNAT chain.
      expect(nat.rules.some((r) => r.chain === 'ACTIVE_ROUTER' && r.destination === PAPER_SERVER_ADDR && r.dport === '8888' && r.target === dnat[0]?.chain)).toBe(true);
      const status = daemon1.status();
      expect(status?.redirects.map((r) => r.to)).toEqual([PROXY]);
    });

    it('shows net A the real addresses of net B peers behind the proxy (201 results, 204 acks, SNAT)', async () => {
      const b = need();
      // Wait until every B peer's upstream session through the proxy is up (one SNAT rule per upstream connection).
      const sources = await waitUntil('one SNAT source per net B peer', 10_000, async () => {
        const s = [...new Set(snatSources(await natView()))].sort();
        return B_ADDRESSES.every((a) => s.includes(a)) ? s : undefined;
      });
      expect(sources).toEqual(B_ADDRESSES);
      // Connections the router itself opened to the origin reach it with the B peers' own addresses.
      const flows = parseConntrack(await b.conntrackToOrigin());
      expect(snatedClientAddresses(flows, [PAPER_ROUTER_ADDR_A, PAPER_ROUTER_ADDR_B])).toEqual(expect.arrayContaining(B_ADDRESSES));

      const file = filesOfGroup(paperCatalogue(1), 'B')[0];
      if (file === undefined) throw new Error('the paper catalogue has no net B file');
      const out = await b.probe('probeA', file.keywords);
      process.stdout.write(`active-control probe: ${out.results.length} results for "${file.name}": ${out.results.map((r) => `${r.nick}@${r.ip}`).join(' ')}\n`);
      expect(out.results.length).toBeGreaterThan(0);
      for (const r of out.results) {
        expect(r.filename).toBe(SHARE_FOLDER + file.name);
        const n = peerNumberOfNick(r.nick);
        expect(n, `result nick ${r.nick}`).not.toBeNull();
        expect(r.ip, `result of ${r.nick}`).toBe(bPeerAddress(n ?? 0));
      }
      // Every B peer shares the file and is logged in (through the proxy): each appears.
      expect([...new Set(out.results.map((r) => bPeerAddress(peerNumberOfNick(r.nick) ?? 0)))].sort()).toEqual(B_ADDRESSES);
      const acks = out.acks.filter((a): a is Extract<typeof a, { ip: string }> => 'ip' in a);
      expect(out.acks.filter((a) => 'error' in a)).toEqual([]);
      expect(acks.length).toBe(out.results.length);
      for (const a of acks) {
        expect(a.ip, `204 for ${a.nick}`).toBe(bPeerAddress(peerNumberOfNick(a.nick) ?? 0));
        expect(a.ip).not.toBe(PAPER_ROUTER_ADDR_A);
        expect(a.ip).not.toBe(PAPER_ROUTER_ADDR_B);
      }
    });

    it('moves net B to the proxy in under a second, keeps their results and takes load off the origin', async () => {
      const b = need();
      const afterFrom = applied.ts + AFTER_SETTLE_MS;
      const afterTo = afterFrom + AFTER_MS;
      await sleep(Math.max(0, afterTo - Date.now()));
      const proxyStats = daemon1.status()?.services.find((s) => s.listen === PROXY)?.stats;
      round1Stopped = await b.stopPeers(round1);
      round1StoppedAt = Date.now();

      const lines: string[] = [];
      let before = { searches: 0, results: 0 };
      let after = { searches: 0, results: 0 };
      const allBefore: SearchLogRecord[] = [];
      const allAfter: SearchLogRecord[] = [];
      for (const p of round1) {
        const recs = round1Stopped.records.get(p.host) ?? [];
        allBefore.push(...sentIn(recs, round1StartedAt + WARMUP_MS, crossed.ts));
        allAfter.push(...sentIn(recs, afterFrom, afterTo));
        const gap = reconnectGap(recs, applied.ts);
        const silence = longestSilenceMs(recs, applied.ts - 1_000, applied.ts + AFTER_SETTLE_MS);
        const be = resultsInWindow(recs, round1StartedAt + WARMUP_MS, crossed.ts);
        const af = resultsInWindow(recs, afterFrom, afterTo);
        lines.push(`${p.host}: gap ${gap.gapMs} ms, longest silence ${silence} ms, reconnects ${round1Stopped.reconnects.get(p.host)}, mean results ${be.mean?.toFixed(2)} -> ${af.mean?.toFixed(2)} (${be.searches} / ${af.searches} searches, ${af.timedOut} timed out)`);
        expect(gap.gapMs, `${p.host}: last answer before the rules to first after`).not.toBeNull();
        expect(gap.gapMs ?? Infinity, `${p.host}`).toBeLessThan(MAX_RECONNECT_GAP_MS);
        expect(round1Stopped.reconnects.get(p.host) ?? 0, `${p.host} reconnected`).toBeGreaterThanOrEqual(1);
        before = { searches: before.searches + be.searches, results: before.results + be.results };
        after = { searches: after.searches + af.searches, results: after.results + af.results };
      }
      const originBefore = counterRate(b.originSamples(), round1StartedAt + WARMUP_MS, crossed.ts);
      const originAfter = counterRate(b.originSamples(), afterFrom, afterTo);
      // Every B peer shares the same files, so one keyword gets the same answer from any of them: compare per keyword over all.
      const matched = keywordMatchedResults(allBefore, allAfter);
      lines.push(`mean results before ${(before.results / before.searches).toFixed(2)} (${before.searches}), after ${(after.results / after.searches).toFixed(2)} (${after.searches}); per keyword ${matched.actual} of ${matched.expected.toFixed(1)} expected (ratio ${matched.ratio?.toFixed(3)}, ${matched.matched} matched, ${matched.unmatched} unmatched)`);
      lines.push(`origin searches/s before ${originBefore?.toFixed(1)}, after ${originAfter?.toFixed(1)}; proxy ${JSON.stringify(proxyStats)}`);
      process.stdout.write(`active-control takeover:\n  ${lines.join('\n  ')}\n`);

      // 1: the proxy holds net B's sessions.
      expect(proxyStats?.sessions ?? 0).toBeGreaterThan(0);
      // Invariant 4: the origin took every moved user's re-login under its own nick
      // (both ends of each old session were reset at the switch, so none lingered).
      expect(proxyStats?.['cache_proxy.login_refused'] ?? 0).toBe(0);
      // 2: at least 90 % of the results per search, keyword for keyword (the plain means differ by the keyword mix alone).
      expect(before.searches).toBeGreaterThan(20);
      expect(after.searches).toBeGreaterThan(20);
      expect(matched.matched).toBeGreaterThanOrEqual(after.searches / 2);
      expect(matched.ratio ?? 0).toBeGreaterThanOrEqual(0.9);
      // 3: the origin answers far fewer searches (net A's slow ones and the proxy's forwards only).
      expect(originBefore).not.toBeNull();
      expect(originAfter).not.toBeNull();
      expect(originAfter ?? Infinity).toBeLessThan(0.5 * (originBefore ?? 0));
      expect(proxyStats?.forwards ?? Infinity).toBeLessThan(proxyStats?.searches ?? 0);
    });

    it('releases when the load stops: our DNAT goes away', async () => {
      const released = await daemon1.waitTimeline('released', round1StoppedAt - 1_000, DECISION_TIMEOUT_MS);
      expect(released.server).toBe(ORIGIN);
      const nat = await natView();
      expect(dnatTargets(nat)).toEqual([]);
      expect(nat.rules.filter((r) => r.chain === 'ACTIVE_ROUTER')).toEqual([]);
      expect(daemon1.status()?.redirects).toEqual([]);
    });
  });

  describe('reload, crash and shutdown', () => {
    it('refuses an invalid policy on SIGHUP and keeps acting on the old one', async () => {
      const b = need();
      const invalid = invalidPolicyYaml({ databasePath: join(workDir, 'state.db') });
      writeFileSync(policyPath, invalid.yaml);
      const since = daemon1.child.stderr.length;
      daemon1.child.child.kill('SIGHUP');
      await daemon1.child.waitForLine('stderr', (t) => t.includes('refused') && t.includes('keeping the running policy'), 10_000, since);
      writeFileSync(policyPath, validPolicy); // for the restart below; the running daemon does not re-read it
      expect(daemon1.child.running).toBe(true);

      const t0 = Date.now();
      round2 = b.startBPeers('round2');
      peerRuns.push(round2);
      const again = await daemon1.waitTimeline('rules_applied', t0, DECISION_TIMEOUT_MS);
      expect(again.ts).toBeGreaterThanOrEqual(t0);
      expect(dnatTargets(await natView())).toEqual([PROXY]);
    });

    it('kill -9 leaves the redirect; the restarted daemon removes it before it reports running', async () => {
      const b = need();
      daemon1.child.child.kill('SIGKILL');
      await daemon1.child.exited();
      // Nothing cleaned up: the rules outlive the process (this is what the start-up reconcile is for).
      expect(dnatTargets(await natView())).toEqual([PROXY]);

      const daemon2 = b.startDaemon('daemon2', { policyPath, dbPath: join(workDir, 'state.db'), activeAfterS: RESTART_ACTIVE_AFTER_S, statusListen: STATUS_LISTEN });
      daemons.push(daemon2);
      const runningAt = await daemon2.waitRunning();
      const save = await b.iptablesSave();
      const checkedAt = Date.now();
      expect(checkedAt - runningAt).toBeLessThan(RESTART_ACTIVE_AFTER_S * 1000); // checked before it could act again
      const v = viewSave(save);
      expect(dnatTargets(v)).toEqual([]);
      expect(snatSources(v)).toEqual([]);
      const ready = daemon2.logs().find((l) => l.msg.startsWith('iptables ready'));
      expect(Number(ready?.fields.removedStale ?? 0)).toBeGreaterThan(0);
    });

    it('SIGTERM of a daemon holding a redirect leaves no rule and no chain of ours', async () => {
      const b = need();
      const daemon2 = daemons[daemons.length - 1];
      if (daemon2 === undefined) throw new Error('no restarted daemon');
      await daemon2.waitTimeline('rules_applied', 0, DECISION_TIMEOUT_MS);
      const live = viewSave(await b.iptablesSave());
      expect(dnatTargets(live)).toEqual([PROXY]);
      liveRedirectKeys = redirectRuleKeys(live);

      const end = await daemon2.child.stop(DAEMON_STOP_GRACE_MS);
      expect(end).toEqual({ code: 0, signal: null });
      const save = await b.iptablesSaveBothBackends();
      expect(save).not.toContain('active-router');
      expect(isClean(viewSave(save))).toBe(true);
    });

    it('--dry-run decides, prints the exact rules and applies nothing', async () => {
      const b = need();
      const dryPolicy = b.writeFile('dry-run.yaml', testPolicyYaml({ databasePath: join(workDir, 'dry.db'), statusListen: DRY_RUN_STATUS_LISTEN }));
      const dry = b.startDaemon('daemon-dry', { policyPath: dryPolicy, dbPath: join(workDir, 'dry.db'), activeAfterS: 0, statusListen: DRY_RUN_STATUS_LISTEN, dryRun: true });
      daemons.push(dry);
      await dry.waitRunning();
      const marker = await dry.child.waitForLine('stdout', (t) => t.startsWith('# dry run: would apply'), DECISION_TIMEOUT_MS);
      const decided = await dry.waitTimeline('rules_applied', 0, 10_000);
      expect(decided.detail).toContain('dry run');
      // The script is written in one piece; wait until its last COMMIT (filter table) has arrived.
      const start = dry.child.stdout.indexOf(marker);
      await dry.child.waitForLine('stdout', (t) => t === 'COMMIT', 5_000, start + 1);
      await waitUntil('the whole dry-run script', 5_000, () => {
        const body = dry.child.stdout.slice(start + 1).map((l) => l.text);
        return body.filter((t) => t === 'COMMIT').length >= 2 ? body : undefined;
      });
      const script = dry.child.stdout
        .slice(start + 1)
        .map((l) => l.text)
        .join('\n');
      const printed = viewSave(script);
      expect(dnatTargets(printed)).toEqual([PROXY]);
      // Exactly what the live daemon applied for the same redirect (same chains, matches, targets).
      expect(redirectRuleKeys(printed)).toEqual(liveRedirectKeys);

      const save = await b.iptablesSaveBothBackends();
      expect(save).not.toContain('active-router');
      const end = await dry.child.stop(DAEMON_STOP_GRACE_MS);
      expect(end).toEqual({ code: 0, signal: null });
      expect(isClean(viewSave(await b.iptablesSaveBothBackends()))).toBe(true);
      await b.stopPeers(round2);
    });
  });
});
