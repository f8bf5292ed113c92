/**
 * A tiny line protocol analyzer ("testline") used by the flow-layer and
 * compliance tests as a stand-in for real protocols: the client sends
 * `Q <word>\n`, the server answers `R <word>\n` lines and ends each answer
 * with `E\n`. It exercises the whole contract (probe, port and probe
 * learning, query/response events, gaps with resync, violations) without
 * depending on any real protocol's code. Test support only.
 */
import type {
  AnalyzerContext,
  Direction,
  FlowEndReason,
  ProbeVerdict,
  StreamAnalyzer,
  StreamAnalyzerRegistration,
} from '../analyzer.js';

/** Longest line accepted: anything longer is not this protocol. */
export const TESTLINE_MAX_LINE = 256;
/** Bad lines tolerated before the analyzer declares a violation. */
export const TESTLINE_MAX_BAD_LINES = 3;
export const TESTLINE_PORT = 7000;

export function testLineProbe(dir: Direction, bytes: Buffer): ProbeVerdict {
  if (bytes.length < 2) return bytes.length === 0 || bytes[0] === (dir === 'toServer' ? 0x51 : 0x52) || bytes[0] === 0x45 ? 'need-more' : 'no';
  const head = bytes.toString('latin1', 0, 2);
  if (dir === 'toServer') return head === 'Q ' ? 'match' : 'no';
  return head === 'R ' || head === 'E\n' ? 'match' : 'no';
}

class TestLineAnalyzer implements StreamAnalyzer {
  confirmed = false;
  violated = false;
  private readonly partial: Record<Direction, string> = { toServer: '', toClient: '' };
  private readonly skipping: Record<Direction, boolean> = { toServer: false, toClient: false };
  private seq = 0;
  private bad = 0;
  /** Unanswered queries, oldest first. */
  private readonly open: { seq: number; ts: number; word: string; results: number; answered: boolean }[] = [];

  constructor(private readonly ctx: AnalyzerContext) {}

  onData(dir: Direction, bytes: Buffer, ts: number): void {
    let text = this.partial[dir] + bytes.toString('latin1');
    let nl: number;
    while (!this.violated && (nl = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (this.skipping[dir]) {
        this.skipping[dir] = false;
        continue;
      }
      this.line(dir, line, ts);
    }
    if (text.length > TESTLINE_MAX_LINE) {
      this.ctx.count('testline.line_too_long');
      this.violated = true;
      text = '';
    }
    this.partial[dir] = text;
  }

  onGap(dir: Direction, _length: number, _ts: number): void {
    // Resync: drop the partial line and whatever follows the hole up to the next newline.
    this.ctx.count('testline.gap');
    this.partial[dir] = '';
    this.skipping[dir] = true;
  }

  onEnd(_ts: number, _reason: FlowEndReason): void {
    if (this.open.length > 0) this.ctx.count('testline.unanswered_at_end', this.open.length);
    this.open.length = 0;
  }

  private line(dir: Direction, line: string, ts: number): void {
    const { flow } = this.ctx;
    if (dir === 'toServer' && line.startsWith('Q ') && line.length > 2) {
      const word = line.slice(2).toLowerCase();
      this.confirm(ts);
      this.open.push({ seq: this.seq, ts, word, results: 0, answered: false });
      this.ctx.emit({ kind: 'query', protocol: 'testline', server: flow.server, client: flow.client, ts, seq: this.seq, keywords: [word], maxResults: 0 });
      this.seq++;
      return;
    }
    if (dir === 'toClient' && (line.startsWith('R ') || line === 'E')) {
      this.confirm(ts);
      const q = this.open[0];
      if (q === undefined) {
        this.ctx.count('testline.unmatched_response');
        return;
      }
      if (!q.answered) {
        q.answered = true;
        this.ctx.emit({ kind: 'first_response', protocol: 'testline', server: flow.server, client: flow.client, ts, seq: q.seq, queryTs: q.ts });
      }
      if (line === 'E') {
        this.open.shift();
        this.ctx.emit({
          kind: 'query_done',
          protocol: 'testline',
          server: flow.server,
          client: flow.client,
          ts,
          seq: q.seq,
          queryTs: q.ts,
          results: q.results,
          resultPayloads: [],
          keywords: [q.word],
        });
      } else {
        q.results++;
      }
      return;
    }
    this.ctx.count('testline.bad_line');
    if (++this.bad >= TESTLINE_MAX_BAD_LINES && !this.confirmed) this.violated = true;
  }

  private confirm(ts: number): void {
    if (this.confirmed) return;
    this.confirmed = true;
    this.ctx.emit({ kind: 'server_seen', protocol: 'testline', server: this.ctx.flow.server, ts, learnt: this.ctx.learnt });
  }
}

export const testLineRegistration: StreamAnalyzerRegistration = {
  name: 'testline',
  transport: 'tcp',
  defaultPorts: [TESTLINE_PORT],
  probe: testLineProbe,
  create: (ctx) => new TestLineAnalyzer(ctx),
};
