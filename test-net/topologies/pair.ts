/**
 * The smallest routed topology: client - router - server, one subnet each
 * side, for tests that need traffic to cross the router and nothing more.
 */
import type { TopologySpec } from '../topology.js';

export const PAIR_NET_CLIENT = '10.202.1.0/24';
export const PAIR_NET_SERVER = '10.202.2.0/24';
export const PAIR_ROUTER_IF_CLIENT = 'eth-c';
export const PAIR_ROUTER_IF_SERVER = 'eth-s';
export const PAIR_CLIENT_ADDR = '10.202.1.10';
export const PAIR_SERVER_ADDR = '10.202.2.10';

export function pairTopology(): TopologySpec {
  return {
    name: 'pair',
    subnets: [
      { name: 'c', cidr: PAIR_NET_CLIENT },
      { name: 's', cidr: PAIR_NET_SERVER },
    ],
    hosts: [
      { name: 'client', kind: 'host' },
      { name: 'router', kind: 'router' },
      { name: 'server', kind: 'host' },
    ],
    links: [
      { host: 'router', subnet: 'c', ifname: PAIR_ROUTER_IF_CLIENT, address: '10.202.1.1' },
      { host: 'router', subnet: 's', ifname: PAIR_ROUTER_IF_SERVER, address: '10.202.2.1' },
      { host: 'client', subnet: 'c', address: PAIR_CLIENT_ADDR },
      { host: 'server', subnet: 's', address: PAIR_SERVER_ADDR },
    ],
  };
}
