import type { ByteOrder, RegisterType, WordOrder } from '../codec/register-codec.js';

/** Modbus register tables: `input` is read with function 04, `holding` with 03 (written with 16). */
export type RegisterFunction = 'input' | 'holding';

export type Parity = 'none' | 'even' | 'odd';

/**
 * How the meter answers a read that covers undocumented addresses between
 * documented ones: `zero-fill` (SDM meters in the field) or `exception` (what
 * the datasheet says). The scheduler merges reads across gaps only for
 * `zero-fill` meters, and learns splits when a merged read is refused.
 */
export type GapBehaviour = 'zero-fill' | 'exception';

/** One register that maps onto a vocabulary measurement. */
export interface RegisterDefinition {
  /** A measurement id of the vocabulary, e.g. `voltageL1`. */
  measurement: string;
  function: RegisterFunction;
  /** 0-based PDU address as sent on the wire (30001 is address 0). */
  address: number;
  type: RegisterType;
  /** Defaults to the definition's `defaults.wordOrder`. */
  wordOrder?: WordOrder;
  /** Defaults to the definition's `defaults.byteOrder`. */
  byteOrder?: ByteOrder;
  /** Multiplier from the raw value to `unit` (e.g. 0.1 for a value in tenths). Default 1. */
  scale?: number;
  /** Unit the datasheet gives, e.g. `kW`; converted to the vocabulary's unit. */
  unit: string;
  /** The register number printed in the datasheet, e.g. 30001, for readers of the file. */
  docRegister?: number;
  /** Names of the old logger's `meterlist.json` and the datasheet that select this register. */
  legacyNames?: string[];
  note?: string;
}

/** A configuration register (slave id, baud code, demand period …), read and written by tools. */
export interface ConfigRegisterDefinition {
  /** camelCase name, unique within the driver. */
  name: string;
  function: 'holding';
  address: number;
  type: RegisterType;
  wordOrder?: WordOrder;
  byteOrder?: ByteOrder;
  /** `rwp`: writable after the meter's password register was written. */
  access: 'r' | 'w' | 'rw' | 'rwp';
  unit?: string;
  /** Code → meaning, for encoded values such as baud-rate codes. */
  values?: Record<string, string>;
  allowed?: number[];
  range?: [number, number];
  default?: number;
  /** The meter applies a written value only after a power cycle. */
  restartRequired?: boolean;
  docRegister?: number;
  note?: string;
}

/** A plausibility check used to identify a meter model while scanning unit ids. */
export interface ProbeDefinition {
  /** A measurement that the driver maps; its value must lie in [min, max]. */
  measurement: string;
  min: number;
  max: number;
}

export interface DriverDefaults {
  unitId: number;
  baud: number;
  parity: Parity;
  dataBits: 7 | 8;
  stopBits: 1 | 2;
  wordOrder: WordOrder;
  byteOrder: ByteOrder;
}

export interface DriverLimits {
  /** The most registers the meter returns in one read request. */
  maxRegistersPerRequest: number;
  /** Start address and count of every read must be a multiple of this (2 for meters of floats). */
  alignment: number;
  /** See {@link GapBehaviour}. */
  gaps: GapBehaviour;
}

export interface DriverTiming {
  /** Silence the meter needs after a response before it accepts the next request. */
  interRequestDelayMs: number;
  /** Extra pause before addressing another unit id on the same bus. */
  unitSwitchDelayMs: number;
  /** How long to wait for an answer at the default baud rate. */
  responseTimeoutMs: number;
}

/**
 * A driver definition: pure data, validated against `schemas/driver.schema.json`
 * and the semantic checks of {@link validateDriverDefinition}. The host loads
 * drivers at start; a third party publishes one as an npm package whose
 * package.json names its JSON files under `meterhub.definitions`.
 */
export interface DriverDefinition {
  $schema?: string;
  /** Lower-case id used in configs, e.g. `sdm630`. */
  id: string;
  vendor: string;
  model: string;
  description?: string;
  /** Links to the datasheets the registers were taken from. */
  datasheets: string[];
  /** Rebadged models that speak the same register map. */
  whiteLabels?: Array<{ vendor: string; model: string }>;
  /**
   * Models with another register map that still answer this driver's probes
   * (an SDM72D reads like an SDM630 on L1-L3 voltages): `meterhub scan` names
   * them so a match is not taken for certain.
   */
  probeLookalikes?: Array<{ vendor: string; model: string; note?: string }>;
  defaults: DriverDefaults;
  limits: DriverLimits;
  timing: DriverTiming;
  registers: RegisterDefinition[];
  configRegisters?: ConfigRegisterDefinition[];
  probe: ProbeDefinition[];
}
