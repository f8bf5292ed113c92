// A reloaded policy reaches the passive analysis: server ports, self-study and protocol switches
// take effect for the traffic that follows, with the state kept (PassiveAnalysis.setPolicy).
import { describe, expect, it } from 'vitest';
import type { AnalyzerEvent } from '../analyzers/events.js';
import { buildFrame } from '../analyzers/packet/build.js';
import { LinkType, TcpFlag } from '../analyzers/packet/types.js';
import { encodeFrame } from '../opennap/codec.js';
import { MessageType } from '../opennap/message-types.js';
import { buildLogin } from '../opennap/messages.js';
import { loadPolicy } from '../policies/load.js';
import type { Policy } from '../policies/index.js';
import { PassiveAnalysis } from './passive-analysis.js';
import { useTempState } from './state/test-temp-dir.js';

function policy(yaml: string): Policy {
  const r = loadPolicy(yaml, 'test.yaml');
  if (r.kind !== 'ok') throw new Error(`test policy refused: ${JSON.stringify(r.errors)}`);
  return r.policy;
}

const SERVER = '10.7.0.1';
const CLIENT = '10.7.0.2';

/** One OpenNap segment from a client port to a server port, carrying `frames`. */
function segment(clientPort: number, serverPort: number, seq: number, frames: Buffer): Buffer {
  return buildFrame({ ip: { src: CLIENT, dst: SERVER }, tcp: { srcPort: clientPort, dstPort: serverPort, seq, flags: TcpFlag.ACK | TcpFlag.PSH, payload: frames } });
}

const LOGIN = encodeFrame(MessageType.Login, buildLogin({ nick: 'n', password: 'p', port: 6699, clientInfo: 'test', linkType: 3 }));
const search = (word: string): Buffer => encodeFrame(MessageType.Search, `FILENAME CONTAINS "${word}" MAX_RESULTS 10`);

const temp = useTempState();

describe('PassiveAnalysis.setPolicy', () => {
  it('attaches by the new ports and self-study setting from the next flow on', () => {
    const events: AnalyzerEvent[] = [];
    const a = new PassiveAnalysis({ policy: policy('learn: false\nprotocols:\n  opennap: { ports: [8888] }\n'), state: temp.state, onEvent: (e) => events.push(e) });
    const queries = (): number => events.filter((e) => e.kind === 'query').length;

    a.onFrame(LinkType.EN10MB, segment(40001, 9999, 1, Buffer.concat([LOGIN, search('a')])), 1000, 'eth0');
    expect(queries()).toBe(0); // port 9999 is nobody's, and self-study is off

    a.setPolicy(policy('learn: false\nprotocols:\n  opennap: { ports: [8888, 9999] }\n'));
    a.onFrame(LinkType.EN10MB, segment(40002, 9999, 1, Buffer.concat([LOGIN, search('b')])), 2000, 'eth0');
    expect(queries()).toBe(1);
    expect(events.find((e) => e.kind === 'server_seen')).toMatchObject({ server: { ip: SERVER, port: 9999 }, learnt: 'port' });

    a.setPolicy(policy('learn: true\nprotocols:\n  opennap: { ports: [8888] }\n'));
    a.onFrame(LinkType.EN10MB, segment(40003, 12345, 1, Buffer.concat([LOGIN, search('c')])), 3000, 'eth0');
    expect(events.filter((e) => e.kind === 'server_seen').map((e) => (e.kind === 'server_seen' ? [e.server.port, e.learnt] : []))).toEqual([
      [9999, 'port'],
      [12345, 'probe'],
    ]);
    expect(queries()).toBe(2);
  });

  it('stops analysing a protocol switched off, also on a flow it was following, and starts again when switched on', () => {
    const events: AnalyzerEvent[] = [];
    const a = new PassiveAnalysis({ policy: policy('learn: false\n'), state: temp.state, onEvent: (e) => events.push(e) });
    const queries = (): number => events.filter((e) => e.kind === 'query').length;
    const first = Buffer.concat([LOGIN, search('a')]);
    a.onFrame(LinkType.EN10MB, segment(40001, 8888, 1, first), 1000, 'eth0');
    expect(queries()).toBe(1);

    a.setPolicy(policy('learn: false\nprotocols:\n  opennap: { enabled: false }\n'));
    a.onFrame(LinkType.EN10MB, segment(40001, 8888, 1 + first.length, search('b')), 2000, 'eth0');
    a.onFrame(LinkType.EN10MB, segment(40002, 8888, 1, Buffer.concat([LOGIN, search('c')])), 2100, 'eth0');
    expect(queries()).toBe(1);
    expect(a.allCounters()['analyzer.disabled_midflow.opennap']).toBe(1);

    a.setPolicy(policy('learn: false\n'));
    a.onFrame(LinkType.EN10MB, segment(40003, 8888, 1, Buffer.concat([LOGIN, search('d')])), 3000, 'eth0');
    expect(queries()).toBe(2);
  });

  it('keeps clients for the new metric window', () => {
    const a = new PassiveAnalysis({ policy: policy('learn: false\nmetrics: { window: 10s }\n'), state: temp.state });
    a.onFrame(LinkType.EN10MB, segment(40001, 8888, 1, Buffer.concat([LOGIN, search('a')])), 1000, 'eth0');
    const tracked = a.servers.list()[0]!;
    a.housekeeping(6000); // within 10 s
    expect(tracked.clients.size).toBe(1);
    a.setPolicy(policy('learn: false\nmetrics: { window: 2s }\n'));
    a.housekeeping(6000); // past 2 s
    expect(tracked.clients.size).toBe(0);
  });
});

describe('PassiveAnalysis without the manager (replay)', () => {
  it('writes the same rows to the database and leaves the in-memory registry empty', () => {
    const run = (feedManager: boolean) => {
      const events: AnalyzerEvent[] = [];
      const a = new PassiveAnalysis({ policy: policy('learn: false\n'), state: temp.state, feedManager, onEvent: (e) => events.push(e) });
      a.onFrame(LinkType.EN10MB, segment(feedManager ? 40001 : 40002, 8888, 1, Buffer.concat([LOGIN, search('a'), search('b')])), 1000, 'eth0');
      temp.state.writer.flush();
      return { events: events.length, tracked: a.servers.list().length };
    };
    expect(run(true)).toEqual({ events: 5, tracked: 1 }); // session_open, server_seen, login, two queries
    expect(run(false)).toEqual({ events: 5, tracked: 0 });
    const [summary] = temp.state.reader.serverSummary(10_000, 2000);
    // Both runs' rows are in the file: two client endpoints, two queries each.
    expect(summary).toMatchObject({ address: `${SERVER}:8888`, queries: 4, clients: 2 });
  });
});
