/**
 * A small physical model of an installation, producing every measurement of the
 * vocabulary consistently: per phase P = V·I·PF, S = V·I, Q = √(S²−P²); totals
 * are sums of phases; energy counters integrate the simulated power over time,
 * so they only rise and at the rate the power implies.
 */

/** Deterministic PRNG (mulberry32) so that tests can reproduce a run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MeterModelOptions {
  /** 1 for a single-phase meter (totals equal L1), 3 for three-phase. */
  phases: 1 | 3;
  seed?: number;
  /** Mean load current per phase, amperes. */
  baseCurrentA?: number;
  nominalVoltage?: number;
  nominalFrequency?: number;
  /** Model start time (epoch ms); by default the first `advance()` sets it. */
  startMs?: number;
}

const PHASES = ['L1', 'L2', 'L3'] as const;
const MS_PER_HOUR = 3_600_000;
const DEMAND_PERIOD_MS = 15 * 60_000;

export class MeterModel {
  readonly phases: 1 | 3;
  readonly #rand: () => number;
  readonly #baseCurrent: number;
  readonly #nominalV: number;
  readonly #nominalF: number;
  /** Model time; undefined until the first advance, which only sets it. */
  #t: number | undefined;
  #current: number[];
  #pf: number[];
  #voltage: number[];
  #frequency: number;
  // Counters per phase: import kWh, import kvarh, Ah.
  #importKwh = [1200.5, 800.25, 950.75];
  #importKvarh = [210.5, 150.25, 170.75];
  #ah = 0;
  #exportKwh = [12.5, 0, 0];
  #exportKvarh = [3.25, 0, 0];
  #tariffKwh = [0, 0];
  #resetBaseKwh = 0;
  #demand = { power: 0, apparent: 0, current: [0, 0, 0], max: 0, maxApparent: 0, maxCurrent: [0, 0, 0] };

  constructor(options: MeterModelOptions) {
    this.phases = options.phases;
    this.#rand = prng(options.seed ?? 1);
    this.#baseCurrent = options.baseCurrentA ?? 6;
    this.#nominalV = options.nominalVoltage ?? 230;
    this.#nominalF = options.nominalFrequency ?? 50;
    this.#t = options.startMs;
    const n = this.phases;
    this.#current = PHASES.map((_, i) => (i < n ? this.#baseCurrent * (0.7 + 0.6 * this.#rand()) : 0));
    this.#pf = PHASES.map(() => 0.9 + 0.08 * this.#rand());
    this.#voltage = PHASES.map(() => this.#nominalV + this.#noise(1));
    this.#frequency = this.#nominalF;
    if (n === 1) {
      this.#importKwh = [this.#importKwh[0]!, 0, 0];
      this.#importKvarh = [this.#importKvarh[0]!, 0, 0];
    }
    this.#tariffKwh = [this.#sum(this.#importKwh) * 0.7, this.#sum(this.#importKwh) * 0.3];
  }

  /** Gaussian noise with standard deviation `sd` (Box–Muller). */
  #noise(sd: number): number {
    const u = Math.max(this.#rand(), 1e-12);
    return sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.#rand());
  }

  #sum(a: readonly number[]): number {
    return a.reduce((x, y) => x + y, 0);
  }

  #power(i: number): number {
    return this.#voltage[i]! * this.#current[i]! * this.#pf[i]!;
  }

  /**
   * Moves the model to `now`: integrates the counters with the power held since
   * the previous step, then lets the load wander (mean-reverting) for the next.
   */
  advance(now: number): void {
    if (this.#t === undefined) {
      this.#t = now;
      return;
    }
    const dt = now - this.#t;
    if (dt <= 0) return;
    this.#t = now;
    const dtH = dt / MS_PER_HOUR;
    const hour = new Date(now).getHours();
    for (let i = 0; i < this.phases; i++) {
      const p = this.#power(i);
      const s = this.#voltage[i]! * this.#current[i]!;
      const kwh = (p * dtH) / 1000;
      this.#importKwh[i]! += kwh;
      this.#importKvarh[i]! += (Math.sqrt(Math.max(s * s - p * p, 0)) * dtH) / 1000;
      this.#ah += this.#current[i]! * dtH;
      this.#tariffKwh[hour >= 6 && hour < 22 ? 0 : 1]! += kwh;
    }
    // Demand: exponential average over the demand period, with its running maximum.
    const k = 1 - Math.exp(-dt / DEMAND_PERIOD_MS);
    const d = this.#demand;
    const totalP = PHASES.reduce((acc, _, i) => acc + this.#power(i), 0);
    const totalS = PHASES.reduce((acc, _, i) => acc + this.#voltage[i]! * this.#current[i]!, 0);
    d.power += (totalP - d.power) * (d.power === 0 ? 1 : k);
    d.apparent += (totalS - d.apparent) * (d.apparent === 0 ? 1 : k);
    d.max = Math.max(d.max, d.power);
    d.maxApparent = Math.max(d.maxApparent, d.apparent);
    for (let i = 0; i < 3; i++) {
      d.current[i]! += (this.#current[i]! - d.current[i]!) * (d.current[i] === 0 ? 1 : k);
      d.maxCurrent[i] = Math.max(d.maxCurrent[i]!, d.current[i]!);
    }
    const sqrtDt = Math.sqrt(Math.min(dt, 60_000) / 1000);
    for (let i = 0; i < this.phases; i++) {
      const c = this.#current[i]! + 0.05 * (this.#baseCurrent - this.#current[i]!) * Math.min(dt / 1000, 20) + this.#noise(0.3) * sqrtDt;
      this.#current[i] = Math.min(Math.max(c, 0.2), 60);
      this.#pf[i] = Math.min(Math.max(this.#pf[i]! + this.#noise(0.005) * sqrtDt, 0.8), 0.995);
      this.#voltage[i] = this.#nominalV + 0.8 * (this.#voltage[i]! - this.#nominalV) + this.#noise(0.6);
    }
    this.#frequency = this.#nominalF + 0.9 * (this.#frequency - this.#nominalF) + this.#noise(0.005);
  }

  /** Every vocabulary measurement the model knows, at the current model time. */
  values(): Map<string, number> {
    const v = new Map<string, number>();
    const n = this.phases;
    let totalP = 0;
    let totalS = 0;
    let totalQ = 0;
    let totalI = 0;
    let re = 0;
    let im = 0;
    for (let i = 0; i < 3; i++) {
      const ph = PHASES[i]!;
      const used = i < n;
      const volt = used ? this.#voltage[i]! : 0;
      const cur = used ? this.#current[i]! : 0;
      const p = used ? this.#power(i) : 0;
      const s = volt * cur;
      const q = Math.sqrt(Math.max(s * s - p * p, 0));
      totalP += p;
      totalS += s;
      totalQ += q;
      totalI += cur;
      re += cur * Math.cos((i * 2 * Math.PI) / 3);
      im += cur * Math.sin((i * 2 * Math.PI) / 3);
      v.set(`voltage${ph}`, volt).set(`current${ph}`, cur).set(`power${ph}`, p);
      v.set(`apparentPower${ph}`, s).set(`reactivePower${ph}`, q);
      v.set(`powerFactor${ph}`, used ? this.#pf[i]! : 0).set(`phaseAngle${ph}`, used ? (Math.acos(this.#pf[i]!) * 180) / Math.PI : 0);
      v.set(`voltageThd${ph}`, used ? 2 + 0.5 * Math.sin((this.#t ?? 0) / 60_000 + i) : 0);
      v.set(`currentThd${ph}`, used ? 8 + 2 * Math.sin((this.#t ?? 0) / 90_000 + i) : 0);
      v.set(`importEnergy${ph}`, this.#importKwh[i]!).set(`exportEnergy${ph}`, this.#exportKwh[i]!);
      v.set(`totalEnergy${ph}`, this.#importKwh[i]! + this.#exportKwh[i]!);
      v.set(`importReactiveEnergy${ph}`, this.#importKvarh[i]!).set(`exportReactiveEnergy${ph}`, this.#exportKvarh[i]!);
      v.set(`totalReactiveEnergy${ph}`, this.#importKvarh[i]! + this.#exportKvarh[i]!);
      v.set(`currentDemand${ph}`, this.#demand.current[i]!).set(`currentDemandMax${ph}`, this.#demand.maxCurrent[i]!);
    }
    const [v1, v2, v3] = this.#voltage as [number, number, number];
    const ll = (a: number, b: number) => (n === 3 ? Math.sqrt(a * a + b * b + a * b) : 0);
    v.set('voltageL12', ll(v1, v2)).set('voltageL23', ll(v2, v3)).set('voltageL31', ll(v3, v1));
    v.set('voltageLnAvg', n === 3 ? (v1 + v2 + v3) / 3 : v1);
    v.set('voltageLlAvg', n === 3 ? (ll(v1, v2) + ll(v2, v3) + ll(v3, v1)) / 3 : 0);
    v.set('voltageThdL12', 0).set('voltageThdL23', 0).set('voltageThdL31', 0);
    v.set('voltageThdLnAvg', (v.get('voltageThdL1')! + v.get('voltageThdL2')! + v.get('voltageThdL3')!) / n);
    v.set('voltageThdLlAvg', 0).set('currentThdAvg', (v.get('currentThdL1')! + v.get('currentThdL2')! + v.get('currentThdL3')!) / n);
    v.set('currentAvg', totalI / n).set('currentSum', totalI).set('currentN', n === 3 ? Math.hypot(re, im) : this.#current[0]!);
    v.set('power', totalP).set('apparentPower', totalS).set('reactivePower', totalQ);
    const pf = totalS > 0 ? totalP / totalS : 1;
    v.set('powerFactor', pf).set('powerFactorInverted', -pf).set('phaseAngle', (Math.acos(Math.min(pf, 1)) * 180) / Math.PI);
    v.set('frequency', this.#frequency);
    const imp = this.#sum(this.#importKwh);
    const exp = this.#sum(this.#exportKwh);
    const impQ = this.#sum(this.#importKvarh);
    const expQ = this.#sum(this.#exportKvarh);
    v.set('importEnergy', imp).set('exportEnergy', exp).set('totalEnergy', imp + exp);
    v.set('importReactiveEnergy', impQ).set('exportReactiveEnergy', expQ).set('totalReactiveEnergy', impQ + expQ);
    v.set('apparentEnergy', Math.hypot(imp, impQ)).set('charge', this.#ah);
    v.set('resettableTotalEnergy', imp + exp - this.#resetBaseKwh).set('resettableTotalReactiveEnergy', impQ + expQ);
    const [t1, t2] = this.#tariffKwh as [number, number];
    v.set('importEnergyT1', t1).set('importEnergyT2', t2).set('totalEnergyT1', t1).set('totalEnergyT2', t2);
    v.set('exportEnergyT1', 0).set('exportEnergyT2', 0);
    for (const q of ['importReactiveEnergy', 'exportReactiveEnergy', 'totalReactiveEnergy']) v.set(`${q}T1`, 0).set(`${q}T2`, 0);
    const d = this.#demand;
    v.set('powerDemand', d.power).set('powerDemandMax', d.max).set('importPowerDemand', d.power).set('importPowerDemandMax', d.max);
    v.set('exportPowerDemand', 0).set('exportPowerDemandMax', 0);
    v.set('apparentPowerDemand', d.apparent).set('apparentPowerDemandMax', d.maxApparent);
    v.set('currentDemandN', 0).set('currentDemandMaxN', 0);
    for (const t of ['T1', 'T2']) {
      v.set(`powerDemandMax${t}`, d.max).set(`importPowerDemandMax${t}`, d.max).set(`exportPowerDemandMax${t}`, 0);
      v.set(`currentDemandMaxL1${t}`, d.maxCurrent[0]!);
    }
    return v;
  }
}
