export interface BenchContext {
  /** A short run for CI: fewer repetitions, figures still printed. */
  smoke: boolean;
  missed: string[];
}

/** Prints one figure beside the baseline it is compared with (measured in the same run) and whether the target holds. */
export function report(ctx: BenchContext, what: string, figure: string, baseline: string, comparison: string, targetMet: boolean): void {
  console.log(`${targetMet ? 'ok    ' : 'MISSED'} ${what}: ${figure} | baseline: ${baseline} | ${comparison}`);
  if (!targetMet) ctx.missed.push(what);
}
