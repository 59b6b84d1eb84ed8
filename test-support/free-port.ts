import { createServer } from 'node:net';

/** A loopback port nobody listens on right now, for a server that must come back on the same port (or whose library treats 0 as a default). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
