import {
  decodeBlock, describeError, emptyKnowledge, EXCEPTION, invalidReason, learnFromRefusal, ModbusExceptionError, planReads,
  type CompiledDriver, type CompiledRegister, type PlanKnowledge, type ReadBlock,
} from '@meterhub/sdk';
import type { PolledMeterConfig } from '../config/host-config.js';
import type { BusLink } from './bus-link.js';
import { errorKind } from './bus-link.js';

export type { MeterState } from '@meterhub/sdk';
import type { MeasurementKind, MeterState } from '@meterhub/sdk';
/** The two poll groups are the two kinds of measurement. */
export type PollGroup = MeasurementKind;

export interface MeterStatus {
  id: string;
  bus: string;
  unitId: number;
  driver: string;
  state: MeterState;
  lastSuccess: string | null;
  lastError: { message: string; at: string } | null;
  consecutiveFailures: number;
  cycles: number;
  failedCycles: number;
  overruns: number;
  requestsPerFullCycle: number;
  invalidValues: number;
  lastInvalid: { measurement: string; reason: string } | null;
  unsupported: string[];
  learned: { gapsRefused: boolean; singles: number };
}

export interface CycleResult {
  ok: boolean;
  values: Record<string, number>;
  requests: number;
  error?: unknown;
}

/**
 * One meter as the bus worker polls it: its selected registers split into the
 * instantaneous and counter groups, a plan per combination of due groups, what
 * was learned about its answers, and its status.
 */
export class MeterRuntime {
  readonly knowledge: PlanKnowledge = emptyKnowledge();
  readonly groups: Record<PollGroup, CompiledRegister[]>;
  #plans = new Map<string, ReadBlock[]>();
  /** Next due time per group (epoch ms), on a fixed grid so the schedule never drifts. */
  due: Record<PollGroup, number>;
  /** While offline: from when a probe may run in the bus's slack. */
  probeFrom = 0;
  /** While offline: when a probe runs even without slack (one back-off period after the last one). */
  retryAt = 0;
  /** Bus time the last successful cycle took, for the overrun warning's figures. */
  lastCycleMs = 0;
  readonly status: MeterStatus;

  constructor(readonly config: Readonly<PolledMeterConfig>, readonly driver: CompiledDriver, now: number, readonly perRegister = false) {
    const selected = config.measurements?.length
      ? config.measurements.map((m) => driver.byMeasurement.get(m)!).filter(Boolean)
      : [...driver.registers];
    this.groups = {
      instant: selected.filter((r) => r.measurement.kind === 'instant'),
      counter: selected.filter((r) => r.measurement.kind === 'counter'),
    };
    this.due = { instant: now, counter: now };
    this.status = {
      id: config.id, bus: config.bus, unitId: config.unitId, driver: driver.id, state: 'unknown',
      lastSuccess: null, lastError: null, consecutiveFailures: 0, cycles: 0, failedCycles: 0, overruns: 0,
      requestsPerFullCycle: 0, invalidValues: 0, lastInvalid: null, unsupported: [], learned: { gapsRefused: false, singles: 0 },
    };
    this.status.requestsPerFullCycle = this.plan(['instant', 'counter']).length;
  }

  intervalOf(group: PollGroup): number {
    return group === 'instant' ? this.config.intervals.instantMs : this.config.intervals.counterMs;
  }

  /** The read plan for a set of due groups; re-planned after anything is learned. */
  plan(groups: readonly PollGroup[]): ReadBlock[] {
    const key = groups.join('+');
    let plan = this.#plans.get(key);
    if (!plan) {
      const regs = groups.flatMap((g) => this.groups[g]);
      plan = planReads(this.driver, regs, { gaps: this.driver.definition.limits.gaps, perRegister: this.perRegister, knowledge: this.knowledge });
      this.#plans.set(key, plan);
    }
    return plan;
  }

  /** A probe of an offline meter: one read of the first register due, short enough for the probe timeout. */
  #probePlan(groups: readonly PollGroup[]): ReadBlock[] {
    const first = this.plan(groups)[0]?.registers[0];
    return first ? planReads(this.driver, [first], { gaps: this.driver.definition.limits.gaps, knowledge: this.knowledge }) : [];
  }

  #forget(): void {
    this.#plans.clear();
    this.status.requestsPerFullCycle = this.plan(['instant', 'counter']).length;
    this.status.unsupported = [...this.knowledge.unsupported];
    this.status.learned = { gapsRefused: this.knowledge.gapsRefused, singles: this.knowledge.singles.size };
  }

  /**
   * Runs one poll cycle over `groups`. While the meter is offline only its
   * first register is read, without retries and with the bus's shorter probe
   * timeout: a dead meter costs at most one probe timeout.
   * A refused merged read is learned from and its registers re-read at once.
   */
  async poll(link: BusLink, groups: readonly PollGroup[]): Promise<CycleResult> {
    const values: Record<string, number> = {};
    const offline = this.status.state === 'offline';
    let queue = offline ? this.#probePlan(groups) : [...this.plan(groups)];
    let requests = 0;
    while (queue.length > 0) {
      const block = queue.shift()!;
      requests++;
      try {
        const data = await link.read(this.config.unitId, block, offline ? { retries: 0, timeoutMs: link.timing.probeTimeoutMs } : {});
        decodeBlock(block, data, values);
      } catch (err) {
        if (err instanceof ModbusExceptionError && err.exceptionCode === EXCEPTION.ILLEGAL_DATA_ADDRESS && !offline) {
          if (learnFromRefusal(this.driver, block, this.knowledge)) {
            this.#forget();
            // Re-plan the rest of the cycle too: its blocks were planned before this lesson.
            const rest = [...block.registers, ...queue.flatMap((b) => b.registers)];
            queue = planReads(this.driver, rest, { gaps: this.driver.definition.limits.gaps, perRegister: this.perRegister, knowledge: this.knowledge });
          }
          continue;
        }
        if (err instanceof ModbusExceptionError) {
          // Another exception (device failure, busy): this block's values are missing this cycle.
          this.status.lastError = { message: describeError(err), at: new Date().toISOString() };
          continue;
        }
        // Timeouts and connection errors end the cycle: the meter or the link is gone.
        return { ok: false, values: {}, requests, error: err };
      }
    }
    return { ok: true, values: this.#checked(values), requests };
  }

  /** Drops values the meter marks invalid (NaN, ±Inf) or that cannot be true, with a reason. */
  #checked(values: Record<string, number>): Record<string, number> {
    for (const [id, v] of Object.entries(values)) {
      const reason = invalidReason(this.driver.byMeasurement.get(id)!.measurement, v);
      if (reason) {
        delete values[id];
        this.status.invalidValues++;
        this.status.lastInvalid = { measurement: id, reason };
      }
    }
    return values;
  }

  /** Records a cycle's outcome; returns true when the meter's online state changed. */
  record(result: CycleResult, offlineAfter: number): boolean {
    const before = this.status.state;
    this.status.cycles++;
    if (result.ok) {
      this.status.state = 'online';
      this.status.consecutiveFailures = 0;
      this.status.lastSuccess = new Date().toISOString();
    } else {
      this.status.failedCycles++;
      this.status.consecutiveFailures++;
      this.status.lastError = { message: describeError(result.error), at: new Date().toISOString() };
      // A meter that never answered is not given a second full timeout (with retries) before it counts as offline.
      const neverAnswered = this.status.lastSuccess === null;
      if (neverAnswered || this.status.consecutiveFailures >= offlineAfter || errorKind(result.error) === 'connection') this.status.state = 'offline';
    }
    return before !== this.status.state;
  }
}
