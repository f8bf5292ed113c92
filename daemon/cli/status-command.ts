/**
 * `active-router status [--status HOST:PORT|unix:/path] [--json]`: asks a
 * running daemon for its status and prints servers, services, redirects and
 * the latest decisions.
 */
import { request } from 'node:http';
import type { Command } from 'commander';
import { parseListen } from './cli-args.js';

interface StatusJson {
  active: boolean;
  servers: { address: string; protocol: string; phase: string; qrAvg: number | null; rtAvgMs: number | null; queries: number }[];
  services: { id: string; listen: string; stats: Record<string, number> }[];
  redirects: { id: string; server: string; to: string }[];
  timeline: { ts: number; server: string; kind: string; detail: string }[];
}

function fetchStatus(target: { host: string; port: number } | { path: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ ...('path' in target ? { socketPath: target.path } : { host: target.host, port: target.port }), path: '/status', timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const n = (v: number | null): string => (v === null ? '-' : v.toFixed(1));

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description("show a running daemon's servers, services, redirects and recent decisions")
    .option('--status <listen>', 'where the daemon listens (HOST:PORT or unix:/path)', parseListen, { host: '127.0.0.1', port: 9900 })
    .option('--json', 'print the raw status JSON')
    .action(async (opts: { status: { host: string; port: number } | { path: string }; json?: boolean }) => {
      const body = await fetchStatus(opts.status).catch((err: unknown) => {
        throw new Error(`cannot reach the daemon's status endpoint: ${(err as Error).message}`);
      });
      if (opts.json) {
        process.stdout.write(body + '\n');
        return;
      }
      const s = JSON.parse(body) as StatusJson;
      const out = [`router is ${s.active ? 'active' : 'measuring only (not yet active)'}`, '', 'servers:'];
      for (const v of s.servers) out.push(`  ${v.address} ${v.protocol} ${v.phase} QR_avg=${n(v.qrAvg)}/s RT_av=${n(v.rtAvgMs)} ms queries=${v.queries}`);
      out.push('services:');
      for (const v of s.services) out.push(`  ${v.id} on ${v.listen} searches=${v.stats.searches ?? 0} hits=${v.stats.hits ?? 0} forwards=${v.stats.forwards ?? 0} sessions=${v.stats.sessions ?? 0}`);
      out.push('redirects:');
      for (const r of s.redirects) out.push(`  ${r.server} -> ${r.to} (${r.id})`);
      out.push('recent decisions:');
      for (const e of s.timeline.slice(-10)) out.push(`  ${new Date(e.ts).toISOString()} ${e.kind} ${e.server} ${e.detail}`);
      process.stdout.write(out.join('\n') + '\n');
    });
}
