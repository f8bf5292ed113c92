/**
 * Entry of the state writer thread (node:worker_threads): its own SQLite
 * connection to the file, the same BatchWriter the inline writer uses, and
 * the protocol of writer-protocol.ts. Started by thread-sink.ts.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { BatchWriter } from './batch-writer.js';
import type { BatchWriterOutput } from './batch-writer.js';
import { decodeOps } from './op-codec.js';
import { openDatabase } from './open-database.js';
import { CTRL_ACKED_BATCHES, CTRL_ACKED_OPS, CTRL_DONE_ID, CTRL_FATAL } from './writer-protocol.js';
import type { FromWriter, ToWriter, WriterThreadData } from './writer-protocol.js';

/** Batches written in one transaction at most (the sink keeps MAX_INFLIGHT_BATCHES in flight). */
const MAX_MERGED_BATCHES = 8;

const data = workerData as WriterThreadData;
const ctrl = new Int32Array(data.ctrl);
const port = parentPort;
let counts = new Map<string, number>();
let errors: FromWriter['errors'] = [];

function reply(extra: Partial<FromWriter> = {}): void {
  data.replies.postMessage({ counts: [...counts], errors, ...extra } satisfies FromWriter);
  counts = new Map();
  errors = [];
}

function die(err: unknown): never {
  reply({ fatal: err instanceof Error ? err.message : String(err) });
  Atomics.store(ctrl, CTRL_FATAL, 1);
  Atomics.notify(ctrl, CTRL_DONE_ID);
  throw err;
}

try {
  if (port === null) throw new Error('writer-thread.ts must run as a worker');
  const db = openDatabase(data.path, { repairIndexes: false });
  const out: BatchWriterOutput = {
    bump(name, n = 1) {
      if (n !== 0) counts.set(name, (counts.get(name) ?? 0) + n);
    },
    onError(err) {
      const e = err as { message?: unknown; code?: unknown };
      errors.push({ message: String(e.message ?? err), code: typeof e.code === 'string' ? e.code : 'SQLITE_ERROR' });
    },
  };
  const writer = new BatchWriter(db, data.settings, out, { heldSessionsCap: data.heldSessionsCap });
  const inbox = port;
  const handle = (m: ToWriter): void => {
    if (m.t === 'batch') {
      // The batches already queued behind this one go into the same transaction: a commit rewrites the
      // hot index pages once for all of them (fewer, larger commits), at no extra memory (they are here).
      const ops = decodeOps(m.ops);
      let n = m.ops.n;
      let batches = 1;
      let after: ToWriter | undefined;
      while (batches < MAX_MERGED_BATCHES) {
        const queued = receiveMessageOnPort(inbox)?.message as ToWriter | undefined;
        if (queued === undefined) break;
        if (queued.t !== 'batch') {
          after = queued;
          break;
        }
        for (const op of decodeOps(queued.ops)) ops.push(op);
        n += queued.ops.n;
        batches++;
      }
      writer.write(ops);
      reply();
      Atomics.add(ctrl, CTRL_ACKED_OPS, n);
      Atomics.add(ctrl, CTRL_ACKED_BATCHES, batches);
      if (after !== undefined) handle(after);
      return;
    }
    if (m.releaseHeld === true) writer.releaseHeldSessions();
    const prune = m.pruneTs === undefined ? undefined : writer.prune(m.pruneTs);
    if (m.close === true) db.close();
    reply(prune === undefined ? { id: m.id } : { id: m.id, prune });
    Atomics.store(ctrl, CTRL_DONE_ID, m.id);
    Atomics.notify(ctrl, CTRL_DONE_ID);
    if (m.close === true) inbox.close();
  };
  port.on('message', (m: ToWriter) => {
    try {
      handle(m);
    } catch (err) {
      die(err);
    }
  });
} catch (err) {
  die(err);
}
