/**
 * Starts a listener the way the directory server and the cache proxy need
 * it: the promise rejects on a bind error (port in use, bad address), and
 * once listening, later listener errors (EMFILE on accept...) go to
 * `onLaterError` to be counted, never thrown.
 */
import type net from 'node:net';

export function listenCounted(server: net.Server, port: number, host: string, onLaterError: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', onLaterError);
      resolve();
    });
  });
}
