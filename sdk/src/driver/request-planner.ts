import { registerCount } from '../codec/register-codec.js';
import type { CompiledDriver, CompiledRegister } from './compiled-driver.js';
import type { GapBehaviour, RegisterFunction } from './driver-types.js';

/*
 * The read planner lives in the SDK, not the host, so that the conformance kit
 * a driver package runs (`meterhub-driver-test`) reads the simulator with the
 * very requests the host will send the meter, without installing the host.
 */

/** One read request of a plan and the registers it carries. */
export interface ReadBlock {
  function: RegisterFunction;
  address: number;
  count: number;
  registers: readonly CompiledRegister[];
}

/**
 * What the host has learned about one meter's answers. Meters in the field
 * zero-fill undocumented addresses; some follow the datasheet and refuse them.
 * The first refusal of a merged read switches the meter to bridging only
 * documented addresses; a refused read of documented registers is split into
 * single reads; a refused single read drops that register.
 */
export interface PlanKnowledge {
  gapsRefused: boolean;
  /** Measurements read one request each. */
  singles: Set<string>;
  /** Measurements the meter refuses to serve at all. */
  unsupported: Set<string>;
}

/** What the host knows of a meter it has not polled yet: nothing learned. */
export function emptyKnowledge(): PlanKnowledge {
  return { gapsRefused: false, singles: new Set(), unsupported: new Set() };
}

export interface PlanOptions {
  /** How the meter answers undocumented addresses, before anything was learned. */
  gaps: GapBehaviour;
  /** One request per register, for devices that refuse any merged read. */
  perRegister?: boolean;
  knowledge?: PlanKnowledge;
}

const alignDown = (a: number, k: number) => a - (a % k);
const alignUp = (a: number, k: number) => Math.ceil(a / k) * k;

/** Word-level map of which addresses the driver documents, per function. */
function documentedWords(driver: CompiledDriver, fn: RegisterFunction): Uint8Array {
  const words = new Uint8Array(0x10000);
  for (const r of driver.registers) if (r.function === fn) words.fill(1, r.address, r.address + r.count);
  for (const c of fn === 'holding' ? driver.definition.configRegisters ?? [] : []) {
    words.fill(1, c.address, c.address + registerCount(c.type));
  }
  return words;
}

const documentedCache = new WeakMap<CompiledDriver, Record<RegisterFunction, Uint8Array>>();
function documented(driver: CompiledDriver): Record<RegisterFunction, Uint8Array> {
  let d = documentedCache.get(driver);
  if (!d) {
    d = { input: documentedWords(driver, 'input'), holding: documentedWords(driver, 'holding') };
    documentedCache.set(driver, d);
  }
  return d;
}

function makeBlock(fn: RegisterFunction, start: number, end: number, registers: CompiledRegister[]): ReadBlock {
  return { function: fn, address: start, count: end - start, registers };
}

/**
 * Plans the fewest read requests that cover `selected`: registers sorted by
 * address are merged greedily while the request stays within the driver's
 * register cap and alignment, and every address bridged between two registers
 * is one the meter answers. Greedy left-to-right covering is optimal here: no
 * plan with fewer requests exists under the same constraints.
 * The host plans each meter's poll groups with it when the meter starts and
 * again after learning from a refusal; the conformance kit polls with it too.
 */
export function planReads(driver: CompiledDriver, selected: readonly CompiledRegister[], options: PlanOptions): ReadBlock[] {
  const { maxRegistersPerRequest: max, alignment } = driver.definition.limits;
  const k = options.knowledge ?? emptyKnowledge();
  const bridgeAll = options.gaps === 'zero-fill' && !k.gapsRefused;
  const blocks: ReadBlock[] = [];
  for (const fn of ['input', 'holding'] as const) {
    const docs = documented(driver)[fn];
    const regs = selected
      .filter((r) => r.function === fn && !k.unsupported.has(r.measurement.id))
      .sort((a, b) => a.address - b.address);
    const answerable = (from: number, to: number): boolean => {
      if (bridgeAll) return true;
      for (let a = from; a < to; a++) if (!docs[a]) return false;
      return true;
    };
    let cur: { start: number; end: number; regs: CompiledRegister[] } | undefined;
    const flush = () => {
      if (cur) blocks.push(makeBlock(fn, cur.start, cur.end, cur.regs));
      cur = undefined;
    };
    for (const r of regs) {
      const start = alignDown(r.address, alignment);
      const end = alignUp(r.address + r.count, alignment);
      if (options.perRegister || k.singles.has(r.measurement.id)) {
        flush();
        blocks.push(makeBlock(fn, start, end, [r]));
        continue;
      }
      if (cur && end - cur.start <= max && (start <= cur.end || answerable(cur.end, start))) {
        cur.end = Math.max(cur.end, end);
        cur.regs.push(r);
        continue;
      }
      flush();
      cur = { start, end, regs: [r] };
    }
    flush();
  }
  return blocks;
}

/**
 * Learns from an illegal-address exception on `block` (the host calls it when
 * a meter refuses a planned read). Returns true when the
 * plan changed (the caller re-plans and retries what the block carried).
 */
export function learnFromRefusal(driver: CompiledDriver, block: ReadBlock, k: PlanKnowledge): boolean {
  if (block.registers.length === 1) {
    const id = block.registers[0]!.measurement.id;
    if (k.unsupported.has(id)) return false;
    k.unsupported.add(id);
    return true;
  }
  const docs = documented(driver)[block.function];
  let bridgesGap = false;
  for (let a = block.address; a < block.address + block.count; a++) if (!docs[a]) bridgesGap = true;
  if (bridgesGap) {
    // Either news (the meter refuses gaps) or a block planned before we knew: re-plan either way.
    k.gapsRefused = true;
    return true;
  }
  for (const r of block.registers) k.singles.add(r.measurement.id);
  return true;
}

/** Register bytes of a block's response → values in vocabulary units; the host calls it on every answered read. */
export function decodeBlock(block: ReadBlock, data: Buffer, into: Record<string, number>): void {
  for (const r of block.registers) {
    into[r.measurement.id] = r.decode(data, (r.address - block.address) * 2) * r.factor;
  }
}
