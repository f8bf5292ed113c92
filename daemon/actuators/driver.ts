#!/usr/bin/env node
/**
 * Small command-line driver of the actuators, run inside a router network
 * namespace by actuators.itest.ts (`ip netns exec NS node driver.js ...`)
 * and handy by hand. Prints one JSON object per result line on stdout.
 *
 *   driver.js plan|reconcile|apply|hold '<DesiredState JSON>' [--backend nft|legacy]
 *   driver.js clear | list ['<FlowFilter JSON>'] | destroy-exact '<FlowTuple JSON>'
 *
 * `hold` applies, prints {"ready":true,...}, then waits until killed: the
 * integration test kill -9s it to prove a restart reconciles stale rules away.
 */
import { performance } from 'node:perf_hooks';
import { applyDesiredState } from './apply-desired.js';
import { Conntrack } from './conntrack.js';
import type { BackendChoice } from './iptables-backend.js';
import { IptablesActuator } from './iptables-actuator.js';
import type { DesiredState } from './types.js';

function parseJson<T>(text: string | undefined, what: string): T {
  if (text === undefined) throw new Error(`missing ${what} JSON argument`);
  return JSON.parse(text) as T;
}

async function main(argv: string[]): Promise<void> {
  const args = [...argv];
  let backend: BackendChoice = 'auto';
  const bi = args.indexOf('--backend');
  if (bi >= 0) {
    backend = (args[bi + 1] ?? 'auto') as BackendChoice;
    args.splice(bi, 2);
  }
  const [command, arg] = args;
  const out = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v)}\n`);
  switch (command) {
    case 'plan': {
      const ipt = await IptablesActuator.create({ backend });
      out(await ipt.plan(parseJson<DesiredState>(arg, 'desired state')));
      return;
    }
    case 'reconcile': {
      const ipt = await IptablesActuator.create({ backend });
      out(await ipt.reconcile(parseJson<DesiredState>(arg, 'desired state')));
      return;
    }
    case 'apply':
    case 'hold': {
      const desired = parseJson<DesiredState>(arg, 'desired state');
      const ipt = await IptablesActuator.create({ backend });
      const ct = Conntrack.open();
      try {
        const res = await applyDesiredState({ iptables: ipt, conntrack: ct, now: () => performance.now() }, desired);
        out({ ready: true, ...res, backend: ipt.backend.kind });
      } finally {
        ct.close();
      }
      if (command === 'hold') await new Promise<never>(() => setInterval(() => undefined, 60_000));
      return;
    }
    case 'clear': {
      const ipt = await IptablesActuator.create({ backend });
      out(await ipt.clear());
      return;
    }
    case 'list': {
      const ct = Conntrack.open();
      try {
        out(ct.list(arg ? parseJson(arg, 'filter') : {}));
      } finally {
        ct.close();
      }
      return;
    }
    case 'destroy-exact': {
      const ct = Conntrack.open();
      try {
        const t0 = performance.now();
        const ok = ct.destroyExact(parseJson(arg, 'tuple'));
        out({ destroyed: ok, ms: performance.now() - t0 });
      } finally {
        ct.close();
      }
      return;
    }
    default:
      throw new Error(`unknown command "${command ?? ''}"`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { name?: string; code?: string; message?: string };
  process.stdout.write(`${JSON.stringify({ error: { name: e.name, code: e.code, message: e.message ?? String(err) } })}\n`);
  process.exitCode = 1;
});
