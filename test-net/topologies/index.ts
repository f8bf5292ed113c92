/**
 * The ready-made topologies by name, for the CLI (`testnet up --topology NAME`)
 * and for tests that pick one by name.
 */
import type { TopologySpec } from '../topology.js';
import { pairTopology } from './pair.js';
import { paperTopology } from './paper.js';

export const TOPOLOGIES: Readonly<Record<string, () => TopologySpec>> = {
  paper: paperTopology,
  pair: pairTopology,
};

export function topologyByName(name: string): TopologySpec | null {
  const make = Object.hasOwn(TOPOLOGIES, name) ? TOPOLOGIES[name] : undefined;
  return make === undefined ? null : make();
}

export { pairTopology, paperTopology };
