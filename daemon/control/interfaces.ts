/**
 * Facts about this router's interfaces the manager needs at activation: the
 * IPv4 address of an interface (where a DNAT can send clients when the
 * policy's listen address is 0.0.0.0) and the interface that leads to a
 * server (never redirected: its clients do not cross us). Read with
 * `ip -json`, the I/O edge; the parsing is pure.
 */
import { runCommand } from '../actuators/run-command.js';
import type { CommandRunner } from '../actuators/run-command.js';

/** `ip ARGS…`'s stdout; throws on a failure or a non-zero exit. */
async function ipJson(run: CommandRunner, args: string[]): Promise<string> {
  const r = await run('ip', args);
  if (r.failure !== undefined || r.exitCode !== 0) throw new Error(`ip ${args.join(' ')}: ${r.failure ?? (r.stderr.trim() || `exit ${String(r.exitCode)}`)}`);
  return r.stdout;
}

interface IpAddrJson {
  ifname: string;
  addr_info?: { family: string; local: string; scope?: string }[];
}

/** Pure: interface → its first global IPv4 address, from `ip -json addr`. */
export function ipv4ByInterface(json: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const link of JSON.parse(json) as IpAddrJson[]) {
    const a = link.addr_info?.find((x) => x.family === 'inet' && x.scope !== 'host');
    if (a) out.set(link.ifname, a.local);
  }
  return out;
}

export async function interfaceAddresses(run: CommandRunner = runCommand): Promise<Map<string, string>> {
  return ipv4ByInterface(await ipJson(run, ['-json', 'addr', 'show']));
}

/** The interface the router would use to reach `ip`. */
export async function routeInterface(ip: string, run: CommandRunner = runCommand): Promise<string | undefined> {
  try {
    const stdout = await ipJson(run, ['-json', 'route', 'get', ip]);
    const routes = JSON.parse(stdout) as { dev?: string }[];
    return routes[0]?.dev;
  } catch {
    return undefined;
  }
}
