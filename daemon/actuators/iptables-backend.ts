/**
 * Which iptables tools to run. Debian/Ubuntu ship both backends as
 * iptables-nft-* and iptables-legacy-*, with `iptables` pointing at one of
 * them through alternatives; rules made with one backend are invisible to
 * the other, so we must use the one the system uses (`iptables --version`
 * prints "(nf_tables)" or "(legacy)"), unless the operator overrides it.
 */
import type { IpFamily } from './ip-address.js';
import { IptablesBackendError } from './errors.js';
import type { CommandRunner } from './run-command.js';

export type BackendChoice = 'auto' | 'nft' | 'legacy';
export type BackendKind = 'nft' | 'legacy' | 'plain';

export interface FamilyTools {
  readonly save: string;
  readonly restore: string;
}

export interface IptablesBackend {
  readonly kind: BackendKind;
  readonly tools: Readonly<Record<IpFamily, FamilyTools>>;
}

/** Parses "iptables v1.8.9 (nf_tables)" / "(legacy)"; undefined when unknown (old builds print no suffix). */
export function parseVersionBackend(versionText: string): 'nft' | 'legacy' | undefined {
  if (/\(nf_tables\)/.test(versionText)) return 'nft';
  if (/\(legacy\)/.test(versionText)) return 'legacy';
  return undefined;
}

export function backendTools(kind: BackendKind): IptablesBackend {
  const infix = kind === 'plain' ? '' : `-${kind}`;
  return {
    kind,
    tools: {
      4: { save: `iptables${infix}-save`, restore: `iptables${infix}-restore` },
      6: { save: `ip6tables${infix}-save`, restore: `ip6tables${infix}-restore` },
    },
  };
}

/** Resolves the backend: the override, or what `iptables --version` says; checks the save tool runs. */
export async function detectBackend(run: CommandRunner, choice: BackendChoice = 'auto'): Promise<IptablesBackend> {
  let kind: BackendKind;
  if (choice !== 'auto') {
    kind = choice;
  } else {
    const v = await run('iptables', ['--version']);
    if (v.failure !== undefined || v.exitCode !== 0) {
      throw new IptablesBackendError(`iptables --version: ${v.failure ?? v.stderr.trim()}`);
    }
    kind = parseVersionBackend(v.stdout + v.stderr) ?? 'plain';
  }
  let backend = backendTools(kind);
  const probe = await run(backend.tools[4].save, ['-t', 'nat']);
  if (probe.failure !== undefined && choice === 'auto' && kind !== 'plain') {
    // The distro has no per-backend names; the plain tools are the system's.
    backend = backendTools('plain');
    const plain = await run(backend.tools[4].save, ['-t', 'nat']);
    if (plain.failure !== undefined) throw new IptablesBackendError(`${backend.tools[4].save}: ${plain.failure}`);
  } else if (probe.failure !== undefined || probe.exitCode !== 0) {
    throw new IptablesBackendError(`${backend.tools[4].save}: ${probe.failure ?? probe.stderr.trim()}`);
  }
  return backend;
}
