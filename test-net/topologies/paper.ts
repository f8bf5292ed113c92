/**
 * The test topology of the paper's experiment (Shi et al., "Active Load
 * Distribution Mechanism for P2P Application", Fig. 4): a directory server and
 * peers 1-7 on net A, peers 8-13 on net B, one active router between them.
 * The router's interface names are fixed (`eth-a`, `eth-b`) because policies
 * name the ingress interface of net B.
 */
import type { LinkSpec, TopologySpec } from '../topology.js';

export const PAPER_NET_A = '10.201.1.0/24';
export const PAPER_NET_B = '10.201.2.0/24';
export const PAPER_ROUTER_IF_A = 'eth-a';
export const PAPER_ROUTER_IF_B = 'eth-b';
export const PAPER_ROUTER_ADDR_A = '10.201.1.1';
export const PAPER_ROUTER_ADDR_B = '10.201.2.1';
export const PAPER_SERVER_ADDR = '10.201.1.10';
/** Peers 1-7 sit on net A, 8-13 on net B. */
export const PAPER_NET_A_PEERS = 7;
export const PAPER_PEERS = 13;

/** peerN's address: last octet 10 + N on its net, so every peer's address is unique across both nets. */
export function paperPeerAddress(n: number): string {
  return n <= PAPER_NET_A_PEERS ? `10.201.1.${10 + n}` : `10.201.2.${10 + n}`;
}

export function paperTopology(): TopologySpec {
  const peers = Array.from({ length: PAPER_PEERS }, (_, i) => i + 1);
  const peerLinks: LinkSpec[] = peers.map((n) => ({
    host: `peer${n}`,
    subnet: n <= PAPER_NET_A_PEERS ? 'a' : 'b',
    address: paperPeerAddress(n),
  }));
  return {
    name: 'paper',
    subnets: [
      { name: 'a', cidr: PAPER_NET_A },
      { name: 'b', cidr: PAPER_NET_B },
    ],
    hosts: [
      { name: 'router', kind: 'router' },
      { name: 'server', kind: 'host' },
      ...peers.map((n) => ({ name: `peer${n}`, kind: 'host' as const })),
    ],
    links: [
      { host: 'router', subnet: 'a', ifname: PAPER_ROUTER_IF_A, address: PAPER_ROUTER_ADDR_A },
      { host: 'router', subnet: 'b', ifname: PAPER_ROUTER_IF_B, address: PAPER_ROUTER_ADDR_B },
      { host: 'server', subnet: 'a', address: PAPER_SERVER_ADDR },
      ...peerLinks,
    ],
  };
}
