/**
 * Registration record of the OpenNap analyzer: name, transport, default
 * ports (8888 and 7777 for servers; 8875 is the metaserver, which speaks a
 * different, line-based protocol and is not analysed), probe and factory.
 */
import type { StreamAnalyzerRegistration } from '../analyzer.js';
import { OpenNapAnalyzer } from './analyzer.js';
import { probeOpenNap } from './probe.js';

export const openNapRegistration: StreamAnalyzerRegistration = {
  name: 'opennap',
  transport: 'tcp',
  defaultPorts: [8888, 7777],
  probe: probeOpenNap,
  create: (ctx) => new OpenNapAnalyzer(ctx),
};
