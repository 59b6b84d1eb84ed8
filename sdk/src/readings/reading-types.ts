/**
 * One reading: every value a meter gave in one poll cycle, keyed by measurement
 * id of the vocabulary, in the vocabulary's units. The readings bus carries one
 * per meter per cycle; storage, live streams and the uplink consume them.
 */
export interface Reading {
  meterId: string;
  /** Epoch milliseconds of the moment the poll cycle started. */
  ts: number;
  values: Record<string, number>;
}
