import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** One end: the simulator or the host opens it. */
  a: string;
  /** The other end: the master opens it. */
  b: string;
  close(): Promise<void>;
}

/**
 * A connected pair of pseudo-terminals made by socat: bytes written to one end
 * come out of the other, like two devices on one RS485 line. Fails loudly when
 * socat is missing, because the serial tests cannot run without it.
 */
export async function createPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'meterhub-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => child.once('error', (err) => reject(new Error(`socat is required for serial tests (apt-get install socat): ${err.message}`))));
  const deadline = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b))) {
    if (Date.now() > deadline) throw new Error('socat did not create the pty pair within 5 s');
    await Promise.race([new Promise((r) => setTimeout(r, 20)), failed]);
  }
  return {
    a,
    b,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
