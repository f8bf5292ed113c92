/**
 * The cache proxy's upstream source binder on a router: each upstream
 * connection leaves from a local port of ours, and a SNAT rule for exactly
 * that port rewrites its source to the client's own address, so the origin
 * sees the client, never the router (invariant 4; the C server takes a user's
 * address from the connection, login.c). Replies come back through the
 * router, where conntrack undoes the SNAT.
 *
 * Binds that arrive together (a burst of reconnecting clients) share one
 * iptables-restore batch.
 */
import type { UpstreamLease, UpstreamSourceBinder } from '../../services/cache-proxy/types.js';
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { DesiredStateStore } from './desired-state-store.js';

/**
 * Local ports handed out for upstream connections: below Linux's default
 * ephemeral range (32768–60999), so the kernel never picks one of them for
 * another socket, and above the well-known service ports.
 */
export const SNAT_PORT_FIRST = 20_000;
export const SNAT_PORT_LAST = 29_999;

export class SnatSourceBinder implements UpstreamSourceBinder {
  private readonly inUse = new Set<number>();
  private next = SNAT_PORT_FIRST;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly store: DesiredStateStore,
    private readonly origin: Endpoint,
    private readonly idPrefix: string,
  ) {}

  async bind(client: { ip: string; port: number }): Promise<UpstreamLease> {
    const localPort = this.allocate();
    const id = `${this.idPrefix}:${localPort}`;
    this.store.setSnat({ id, localPort, origin: this.origin, toSource: client.ip });
    try {
      await this.flush();
    } catch (err) {
      this.store.removeSnat(id);
      this.inUse.delete(localPort);
      throw err;
    }
    let released = false;
    return {
      localPort,
      release: () => {
        if (released) return;
        released = true;
        this.store.removeSnat(id);
        this.inUse.delete(localPort);
        // Removing a rule is not urgent: the next batch (or this one) takes it.
        this.flush().catch(() => undefined);
      },
    };
  }

  /** Ports held now (for status). */
  get leases(): number {
    return this.inUse.size;
  }

  private allocate(): number {
    const span = SNAT_PORT_LAST - SNAT_PORT_FIRST + 1;
    for (let i = 0; i < span; i++) {
      const port = this.next;
      this.next = port === SNAT_PORT_LAST ? SNAT_PORT_FIRST : port + 1;
      if (!this.inUse.has(port)) {
        this.inUse.add(port);
        return port;
      }
    }
    throw new Error(`no free SNAT source port in ${SNAT_PORT_FIRST}-${SNAT_PORT_LAST}`);
  }

  /** One apply for every change made before it starts. */
  private flush(): Promise<void> {
    if (this.pending) return this.pending;
    const p = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.pending = undefined;
        this.store.apply().then(() => resolve(), reject);
      });
    });
    this.pending = p;
    return p;
  }
}
