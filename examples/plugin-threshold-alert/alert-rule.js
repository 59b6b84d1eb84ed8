/**
 * One alert rule's state per meter: it fires when the value rises above the
 * limit and re-arms only when it falls below `limit - hysteresis`, so a value
 * hovering at the limit does not fire on every reading.
 */
export class AlertRule {
  /** @param {{ measurement: string, above: number, hysteresis: number, meters?: string[] }} rule */
  constructor(rule) {
    this.rule = rule;
    /** @type {Map<string, boolean>} meters currently above the limit */
    this.active = new Map();
  }

  /**
   * @param {{ meterId: string, ts: number, values: Record<string, number> }} reading
   * @returns {null | { meterId: string, measurement: string, value: number, limit: number, ts: string }}
   */
  check(reading) {
    const { measurement, above, hysteresis, meters } = this.rule;
    if (meters && !meters.includes(reading.meterId)) return null;
    const value = reading.values[measurement];
    if (value === undefined) return null;
    const wasActive = this.active.get(reading.meterId) === true;
    if (!wasActive && value > above) {
      this.active.set(reading.meterId, true);
      return { meterId: reading.meterId, measurement, value, limit: above, ts: new Date(reading.ts).toISOString() };
    }
    if (wasActive && value < above - hysteresis) this.active.set(reading.meterId, false);
    return null;
  }
}
