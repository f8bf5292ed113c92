/**
 * Facts about this router's interfaces the manager needs at activation: the
 * IPv4 address of an interface (where a DNAT can send clients when the
 * policy's listen address is 0.0.0.0) and the interface that leads to a
 * server (never redirected: its clients do not cross us). Read with
 * `ip -json`, the I/O edge; the parsing is pure.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

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

export async function interfaceAddresses(): Promise<Map<string, string>> {
  const { stdout } = await run('ip', ['-json', 'addr', 'show'], { timeout: 5000 });
  return ipv4ByInterface(stdout);
}

/** The interface the router would use to reach `ip`. */
export async function routeInterface(ip: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('ip', ['-json', 'route', 'get', ip], { timeout: 5000 });
    const routes = JSON.parse(stdout) as { dev?: string }[];
    return routes[0]?.dev;
  } catch {
    return undefined;
  }
}
