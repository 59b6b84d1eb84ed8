import type { MeasurementFamily } from '../vocabulary/measurements.js';

/**
 * Where a reading came from. `poll`: this host read it from a meter on a bus;
 * `push`: a client submitted it (REST); `uplink`: an edge collector forwarded
 * it; any other string is the id of the plugin that submitted it. Outlets use
 * it to tell readings apart; every source takes the same path.
 */
export type ReadingSource = 'poll' | 'push' | 'uplink' | (string & {});

/**
 * One reading: every value a meter gave at one moment, keyed by measurement id
 * of the vocabulary, in the vocabulary's units. It holds instantaneous values,
 * counters or both; the host splits them by `MeasurementFamily` once, on entry.
 */
export interface Reading {
  meterId: string;
  /** Epoch milliseconds of the moment the values were taken (for polled meters: the poll cycle's start). */
  ts: number;
  values: Record<string, number>;
  /**
   * Where it came from. Optional when a reading is submitted (the host fills
   * in the submitter's: `poll` for the acquisition, the plugin id for a
   * plugin); always set on readings handed to subscribers.
   */
  source?: ReadingSource;
  /**
   * True when the reading is older than the newest one already known for its
   * meter (a collector's backlog, a backfill): it is stored, but the newest
   * values do not move back to it. The live stream marks or leaves it out as
   * each client chose. Absent means false.
   */
  replay?: boolean;
}

/** The newest values of one meter in one family, as the host's one latest-values store holds them. */
export interface LatestValues {
  /** Epoch ms of the newest reading that carried values of this family. */
  ts: number;
  values: Readonly<Record<string, number>>;
}

