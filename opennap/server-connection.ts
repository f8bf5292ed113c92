/**
 * One client connection of the directory server: its socket, its frame
 * decoder, the user it logged in as, and the bookkeeping the server's sweeper
 * needs (when it connected, since when a partial frame has been waiting).
 * Output is bounded: a client that does not read its results is disconnected
 * rather than let its queue grow without limit.
 *
 * While the server handles one read (`batch` … `flush`), everything sent to
 * this client is gathered and leaves in one socket write: the bytes
 * themselves when there is one frame, else one concatenation of the frames
 * (a search's pre-encoded 201s and its 202 are queued one by one, so they are
 * copied once, straight into the write). That is cheaper per search than
 * cork/uncork, which queues every write in the stream and hands the kernel a
 * writev of them.
 */
import type { Socket } from 'node:net';
import { FrameDecoder, encodeFrame } from './codec.js';
import { MessageType } from './message-types.js';
import type { ServerUser } from './server-model.js';

/** Strips the IPv4-mapped prefix a dual-stack listener reports (`::ffff:10.0.0.1` → `10.0.0.1`). */
export function plainIp(address: string | undefined): string {
  if (address === undefined) return '0.0.0.0';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** How long a rejected client gets to read its error message before the socket is destroyed anyway. */
export const CLOSE_LINGER_MS = 2000;

export type CloseReason =
  | 'opennap.output_overflow'
  | 'opennap.partial_frame_timeout'
  | 'opennap.login_timeout'
  | 'opennap.idle_timeout'
  | 'opennap.protocol_close'
  | 'opennap.server_stop';

export class ClientConnection {
  readonly decoder: FrameDecoder;
  readonly ip: string;
  user: ServerUser | undefined;
  /** Set once the connection is being closed: no more input is handled, no more output queued. */
  closing = false;
  /** ms timestamp when the decoder started holding an incomplete frame; 0 when it holds none. */
  partialSince = 0;
  /** ms timestamp of the last bytes received. */
  lastInput: number;
  /** Output gathered during `batch` … `flush`; undefined outside a batch. */
  private pending: Buffer[] | undefined;
  private pendingBytes = 0;

  constructor(
    readonly socket: Socket,
    readonly id: number,
    readonly connectedAt: number,
    maxFrameData: number,
    private readonly maxOutputBytes: number,
    /** Told once why the server closes this connection (counted by reason). */
    private readonly onClose: (conn: ClientConnection, reason: CloseReason) => void,
  ) {
    this.decoder = new FrameDecoder(maxFrameData);
    this.ip = plainIp(socket.remoteAddress);
    this.lastInput = connectedAt;
  }

  /** Queues bytes; disconnects the client when its unread output passes the bound. */
  send(bytes: Buffer): void {
    if (this.closing) return;
    const pending = this.pending;
    if (pending !== undefined) {
      pending.push(bytes);
      this.pendingBytes += bytes.length;
      if (this.socket.writableLength + this.pendingBytes > this.maxOutputBytes) this.abort('opennap.output_overflow');
      return;
    }
    this.socket.write(bytes);
    if (this.socket.writableLength > this.maxOutputBytes) this.abort('opennap.output_overflow');
  }

  /** Gathers what is sent from now on until `flush`, so it leaves in one write. */
  batch(): void {
    if (this.pending === undefined) this.pending = [];
  }

  /** Writes what was gathered since `batch` (in order, one write) and ends the batch. */
  flush(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    const bytes = this.pendingBytes;
    this.pending = undefined;
    this.pendingBytes = 0;
    if (this.closing || pending.length === 0) return;
    this.send(pending.length === 1 ? pending[0]! : Buffer.concat(pending, bytes));
  }

  /** Sends the error message of the connection's phase (0 before login, 404 after) and keeps the connection. */
  sendError(text: string): void {
    this.send(encodeFrame(this.user === undefined ? MessageType.Error : MessageType.GeneralError, text));
  }

  /** Sends an error message, then closes once it is flushed: used for protocol violations. */
  rejectAndClose(text: string): void {
    this.sendAndClose(encodeFrame(this.user === undefined ? MessageType.Error : MessageType.GeneralError, text));
  }

  /** Sends `bytes`, then closes once they are flushed. */
  sendAndClose(bytes: Buffer): void {
    if (this.closing) return;
    this.send(bytes);
    // What was gathered so far goes out before the close.
    this.flush();
    if (this.closing) return; // the send itself overflowed
    this.closing = true;
    this.onClose(this, 'opennap.protocol_close');
    this.socket.destroySoon();
    // A client that stops reading would keep destroySoon waiting for the flush forever.
    setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS).unref();
  }

  /** Closes at once, dropping queued output (overflow, timeouts, server stop). */
  abort(reason: CloseReason): void {
    this.pending = undefined;
    this.pendingBytes = 0;
    if (!this.closing) {
      this.closing = true;
      this.onClose(this, reason);
    }
    this.socket.destroy();
  }
}
