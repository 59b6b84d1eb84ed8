import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitForTcp } from './tcp-ports.js';

const SCRIPT = fileURLToPath(new URL('./pymodbus-server.py', import.meta.url));

/** Float values the pymodbus server serves at unit 1, by input register address. */
export const PYMODBUS_VALUES: Readonly<Record<number, number>> = { 0: 231.5, 2: 229.0, 4: 230.5, 52: 4321.0, 70: 50.01, 72: 12345.5, 342: 12400.0 };

export interface PymodbusServer {
  port?: number;
  stop(): Promise<void>;
}

/**
 * Starts Debian's pymodbus (run with /usr/bin/python3) as an independent Modbus
 * slave, over TCP or RTU on a serial device. Fails loudly when pymodbus is missing.
 */
export async function startPymodbusServer(mode: 'tcp' | 'rtu', device?: string): Promise<PymodbusServer> {
  const port = mode === 'tcp' ? await freePort() : undefined;
  const child: ChildProcess = spawn('/usr/bin/python3', [SCRIPT, mode, mode === 'tcp' ? String(port) : device!], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`pymodbus server exited with ${code}: ${stderr} (apt-get install python3-pymodbus)`)));
    child.once('error', reject);
  });
  await ready;
  if (port !== undefined) await waitForTcp(port, Date.now() + 10000, 'pymodbus server');
  else await new Promise((r) => setTimeout(r, 500)); // the serial server opens its port after printing
  return {
    ...(port !== undefined ? { port } : {}),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
