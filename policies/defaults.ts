/**
 * Default values filled in where a policy file is silent. They match the
 * paper's set-up (OpenNap on 8888; N = 10 queries per query-rate sample) and
 * `examples/default.yaml`, which spells the same values out with comments.
 */
import type { ProtocolName } from './types.js';

export const DEFAULTS = {
  interfaces: ['any'],
  snaplen: 65_535,
  // 128 MB: at 100,000 packets/s a 16 MB ring overflowed during the daemon's short pauses (GC, a
  // batch handed to the writer, the status tick) although it kept up on average, and 64 MB still
  // dropped in 4 of 28 runs on a slow machine (0.1-0.8 %), 128 MB in none of 12 (8 alternated with 64)
  // (BENCHMARKS.md). Zeek's AF_PACKET ring defaults to 128 MB too. daemon/capture keeps the same
  // default of its own (DEFAULT_BUFFER_BYTES): neither module may import the other.
  captureBufferMB: 128,
  learn: true,
  // OpenNap servers commonly listen on 8888 and 7777; mainline DHT nodes on 6881. The grid protocol is ours
  // and has no conventional port, so its servers are found by probing (learn) or named in `watch`.
  protocolPorts: { opennap: [8888, 7777], dht: [6881], grid: [] } satisfies Record<ProtocolName, number[]>,
  metricsWindow: '10s',
  queriesPerSample: 10,
  tick: '500ms',
  holdBeforeAct: '1s',
  holdBeforeRelease: '10s',
  cooldown: '30s',
  actionListen: '0.0.0.0:0',
  cacheTtl: '300s',
  cacheEntries: 10_000,
  cacheBytes: '64MB',
  onRelease: 'drain',
  upstreamTimeout: '3s',
  dryRun: false,
  statusListen: '127.0.0.1:9900',
  databasePath: '/var/lib/active-router/state.db',
  retention: '1h',
  /** SQLite is most of the passive pipeline's cost; on its own thread it leaves the capture loop. */
  databaseWriter: 'thread',
} as const;
