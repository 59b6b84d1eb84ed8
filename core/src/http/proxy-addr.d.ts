declare module 'proxy-addr' {
  import type { IncomingMessage } from 'node:http';
  /** Decides whether the address `addr`, `i` hops from the socket, is a trusted proxy. */
  type TrustFn = (addr: string, i: number) => boolean;
  /** The client address: the socket's peer, walked back through X-Forwarded-For while each hop is trusted. */
  function proxyaddr(req: IncomingMessage, trust: TrustFn): string;
  namespace proxyaddr {
    /** Compiles addresses, CIDR subnets and `loopback`/`linklocal`/`uniquelocal` into a TrustFn; throws TypeError on a bad entry. */
    function compile(val: string | string[]): TrustFn;
  }
  export default proxyaddr;
}
