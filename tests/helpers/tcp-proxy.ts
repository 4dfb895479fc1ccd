// A TCP proxy on loopback, to take a service away from the app without stopping it (other
// tests share the machine's PostgreSQL): put it between the app and the service, then cut().
//
//   const proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
//   const url = proxy.rewrite(databaseUrl);   // same URL, host and port of the proxy
//   proxy.cut();                 // open connections reset, new ones refused (ECONNREFUSED)
//   proxy.cut({ mode: 'stall' }); // open connections reset, new ones accepted and never answered
//   await proxy.restore();       // back to forwarding, on the same port
import net from 'node:net';

export type CutMode = 'refuse' | 'stall';

export interface TcpProxy {
  host: string;
  port: number;
  /** Connections accepted so far (including refused-by-stall ones). */
  readonly accepted: number;
  /** Connections open now (both sides). */
  readonly open: number;
  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string;
  /**
   * Resets every open connection, then, until restore(): `refuse` closes the listening socket
   * (a connect fails at once with ECONNREFUSED, as with a stopped server); `stall` accepts
   * connections and never answers (a server that hangs, or a firewall dropping packets).
   */
  cut(opts?: { mode?: CutMode }): Promise<void>;
  /** Forwards again; with `refuse`, listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, opts: { port?: number } = {}): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let mode: CutMode | null = null;
  let accepted = 0;
  let closed = false;

  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    // A reset peer is what this proxy is for: never let it throw.
    s.on('error', () => undefined);
  };

  const server = net.createServer((client) => {
    accepted++;
    track(client);
    if (mode === 'stall') return; // held open, never read, never answered
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side going away takes the other with it, as a broken network path would.
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  const resetAll = (): void => {
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
  };

  await listen(opts.port ?? 0);
  const port = (server.address() as net.AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    rewrite(url: string): string {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    async cut(o = {}) {
      mode = o.mode ?? 'refuse';
      // Stop accepting before the resets, so that no reconnect slips through in between.
      if (mode === 'refuse') {
        const stopped = stopListening();
        resetAll();
        await stopped;
      } else {
        resetAll();
      }
    },
    async restore() {
      if (closed) throw new Error('tcp proxy: closed');
      const was = mode;
      mode = null;
      // Stalled connections never reached the service: drop them so their clients see it.
      if (was === 'stall') resetAll();
      if (!server.listening) await listen(port);
    },
    async close() {
      closed = true;
      const stopped = stopListening();
      resetAll();
      await stopped;
    },
  };
}
