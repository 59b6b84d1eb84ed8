import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api, type Meter } from '../api-client.js';
import { measurementValue, timeZone } from '../format.js';
import { Sparkline } from '../components/sparkline.js';
import { StateBadge } from '../components/state-badge.js';
import { useLive, useTick } from '../components/use-live.js';
import { href } from '../router.js';
import type { MeterLive } from '../live-store.js';

const VOLTAGES = ['voltageL1', 'voltageL2', 'voltageL3'];

/** Today's import and export in the browser's time zone, from counter deltas on the host. */
function useToday(meters: Meter[]): Record<string, Record<string, number>> {
  const [today, setToday] = useState<Record<string, Record<string, number>>>({});
  const ids = meters.map((m) => m.id).join(',');
  useEffect(() => {
    let alive = true;
    const load = async () => {
      const from = new Date();
      from.setHours(0, 0, 0, 0);
      const next: Record<string, Record<string, number>> = {};
      await Promise.all(meters.map(async (m) => {
        try {
          const c = await api.consumption(m.id, { period: 'day', tz: timeZone, from, to: new Date(), measurements: ['importEnergy', 'exportEnergy'] });
          next[m.id] = c.results.at(-1)?.values ?? {};
        } catch {
          next[m.id] = {};
        }
      }));
      if (alive) setToday(next);
    };
    void load();
    const t = setInterval(load, 60_000);
    return () => { alive = false; clearInterval(t); };
  }, [ids]);
  return today;
}

function Card({ meter, live, today }: { meter: Meter; live: MeterLive; today: Record<string, number> | undefined }) {
  const v = live.values;
  const voltages = VOLTAGES.filter((id) => v[id] !== undefined);
  const name = meter.name || meter.id;
  return html`<article class="card" data-meter=${meter.id} data-state=${live.state}>
    <h2><a href=${href(['meter', meter.id])}>${name}</a></h2>
    <${StateBadge} state=${live.state} lastSeen=${live.lastSeen} />
    <p class="big" data-testid="power" data-value=${v['power'] ?? ''}>${measurementValue('power', v['power'])}</p>
    <dl class="facts">
      <div><dt>Today import</dt><dd data-testid="today-import">${measurementValue('importEnergy', today?.['importEnergy'])}</dd></div>
      <div><dt>Today export</dt><dd data-testid="today-export">${measurementValue('exportEnergy', today?.['exportEnergy'])}</dd></div>
      <div><dt>Voltage</dt><dd>${voltages.length ? voltages.map((id) => measurementValue(id, v[id])).join(' · ') : '–'}</dd></div>
    </dl>
    <${Sparkline} points=${live.spark} label=${`Power of ${name} over the last hour`} />
  </article>`;
}

export function OverviewPage() {
  const store = useLive();
  useTick(5000);
  const today = useToday(store.meters);
  return html`<main id="main">
    <h1>Overview <span class="conn ${store.connected ? 'up' : 'down'}" data-testid="live">${store.connected ? 'live' : 'reconnecting…'}</span></h1>
    ${store.loaded && store.meters.length === 0 && html`<p>No meters yet. ${'An administrator can add one under Meters.'}</p>`}
    <div class="cards">
      ${store.meters.map((m) => html`<${Card} key=${m.id} meter=${m} live=${store.entry(m.id)} today=${today[m.id]} />`)}
    </div>
  </main>`;
}
