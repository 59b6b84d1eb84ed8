/**
 * CPU time of processes from /proc (Linux), for the per-tier accounting of the
 * scale benchmark: children of this process, PostgreSQL backends, Redis.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ): 100 on every Linux that Node supports here. */
const TICKS = 100;

/** User + system CPU seconds of a process (all its threads), 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

export const sumCpu = (pids: Iterable<number>) => [...pids].reduce((s, p) => s + cpuSeconds(p), 0);

/** Pids whose command name is `comm` (e.g. redis-server): read only, for accounting. */
export function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) out.push(Number(d));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}

/** Busy CPU seconds of the whole machine (all cores, every process), from /proc/stat. */
export function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
  return (cpu[0]! + cpu[1]! + cpu[2]! + cpu[5]! + cpu[6]! + cpu[7]!) / TICKS;
}
