import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForTcp } from './tcp-ports.js';

export interface NginxOptions {
  /** The meterhub host nginx forwards to, on 127.0.0.1. */
  upstreamPort: number;
  /** The sub-path nginx forwards, unchanged (`/meterhub/`). */
  location: string;
  /** The address nginx connects to the upstream from (proxy_bind), so the host can tell nginx from direct clients. */
  bindAddress: string;
  /** What nginx sends as X-Forwarded-Proto: `$scheme`, or `https` as a TLS-terminating proxy would. */
  forwardedProto: string;
}

/** The binary from Debian's nginx package (in /usr/sbin, which a non-root PATH may lack). */
function nginxBinary(): string {
  const found = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  if (!found) throw new Error('nginx is not installed (apt-get install nginx; scripts/test-prerequisites.sh does it)');
  return found;
}

/**
 * The reverse proxy configuration docs/install.md recommends, written to a
 * temporary prefix: X-Forwarded-For, -Proto and -Host, and the WebSocket
 * upgrade headers. The Host header stays nginx's default (the upstream's
 * address), so only X-Forwarded-Host carries the name the client used.
 */
function config(dir: string, port: number, o: NginxOptions): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port};
    location ${o.location} {
      proxy_pass http://127.0.0.1:${o.upstreamPort};
      proxy_bind ${o.bindAddress};
      proxy_http_version 1.1;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto ${o.forwardedProto};
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
    }
  }
}
`;
}

/** Debian's nginx as a child process in front of a host, on a free loopback port; `stop` ends it and removes its files. */
export class NginxProxy {
  private constructor(readonly port: number, private readonly child: ChildProcess, private readonly dir: string) {}

  /** `http://127.0.0.1:<port>`: where clients reach the proxy. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(o: NginxOptions): Promise<NginxProxy> {
    const dir = mkdtempSync(join(tmpdir(), 'meterhub-nginx-'));
    mkdirSync(join(dir, 'logs'));
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), config(dir, port, o));
    const child = spawn(nginxBinary(), ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<never>((_resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`nginx exited with ${code}: ${stderr}${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`)));
      child.once('error', reject);
    });
    exited.catch(() => undefined);
    await Promise.race([waitForTcp(port, Date.now() + 10000, 'nginx'), exited]);
    return new NginxProxy(port, child, dir);
  }

  /** nginx's access log: one line per request it forwarded. */
  accessLog(): string {
    return readFileSync(join(this.dir, 'access.log'), 'utf8');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      // SIGTERM: nginx's fast shutdown (the master ends its workers).
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
