import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api } from '../api-client.js';
import { formatDate, measurementValue, timeZone } from '../format.js';

type Period = 'day' | 'week' | 'month';
const SPAN: Record<Period, (d: Date) => Date> = {
  day: (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate() - 13),
  week: (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate() - 7 * 11 - ((d.getDay() + 6) % 7)),
  month: (d) => new Date(d.getFullYear(), d.getMonth() - 11, 1),
};
const LABEL: Record<Period, string> = { day: 'last 14 days', week: 'last 12 weeks', month: 'last 12 months' };

/** An amount in the tariff's currency, in the browser's locale (€3.63, 3,63 €). */
const money = (amount: number, currency: string) => new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);

/**
 * Import energy per local day, week or month, as bars with the totals of
 * import and export (a table underneath for screen readers); for a meter with
 * a tariff, each bar's net cost and the total beside the kWh.
 */
export function ConsumptionBars({ meterId }: { meterId: string }) {
  const [period, setPeriod] = useState<Period>('day');
  const [rows, setRows] = useState<Array<{ start: string; value: number; exported: number; cost?: { net: number; currency: string } }> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    setRows(null);
    const now = new Date();
    api.consumption(meterId, { period, tz: timeZone, from: SPAN[period](now), to: now, measurements: ['importEnergy', 'exportEnergy'] }).then(
      (c) => alive && setRows(c.results.map((r) => ({
        start: r.start, value: r.values['importEnergy'] ?? 0, exported: r.values['exportEnergy'] ?? 0,
        ...(r.cost ? { cost: { net: r.cost.net, currency: r.cost.currency } } : {}),
      }))),
      (e: Error) => alive && setError(e.message),
    );
    return () => { alive = false; };
  }, [meterId, period]);
  const max = Math.max(1e-9, ...(rows ?? []).map((r) => r.value));
  const total = (rows ?? []).reduce((s, r) => s + r.value, 0);
  const exported = (rows ?? []).reduce((s, r) => s + r.exported, 0);
  // The sum of the periods' rounded amounts, as a bill adds them (one currency per meter).
  const currency = rows?.find((r) => r.cost)?.cost!.currency;
  const cost = currency ? (rows ?? []).reduce((s, r) => s + (r.cost?.net ?? 0), 0) : undefined;
  const name = (start: string) => period === 'month' ? new Date(start).toLocaleDateString(undefined, { month: 'short', year: 'numeric' }) : formatDate(new Date(start));
  return html`<section aria-labelledby="consumption-h">
    <h2 id="consumption-h">Consumption</h2>
    <div class="segmented" role="group" aria-label="Period">
      ${(['day', 'week', 'month'] as const).map((p) => html`<button type="button" aria-pressed=${p === period} onClick=${() => setPeriod(p)}>per ${p}</button>`)}
    </div>
    ${error && html`<p class="error">${error}</p>`}
    ${rows && html`<p>Total import, ${LABEL[period]}: <strong data-testid="consumption-total">${measurementValue('importEnergy', total)}</strong>; export: <strong>${measurementValue('exportEnergy', exported)}</strong>${currency && cost !== undefined && html`; net cost: <strong data-testid="consumption-cost">${money(cost, currency)}</strong>`}</p>
      <table class="bars" data-testid="consumption">
        <caption class="sr-only">Import energy per ${period}</caption>
        <thead class="sr-only"><tr><th scope="col">${period}</th><th scope="col">Import</th>${currency && html`<th scope="col">Net cost</th>`}</tr></thead>
        <tbody>${rows.map((r) => html`<tr>
          <th scope="row">${name(r.start)}</th>
          <td><span class="bar" style=${{ width: `${(r.value / max) * 100}%` }}></span><span class="bar-value">${measurementValue('importEnergy', r.value)}</span></td>
          ${currency && html`<td class="bar-cost">${r.cost ? money(r.cost.net, r.cost.currency) : ''}</td>`}
        </tr>`)}</tbody>
      </table>`}
  </section>`;
}
