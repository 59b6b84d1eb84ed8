import { html } from '../html.js';
import { ago } from '../format.js';

/** online / offline / stale / disabled, with the last time the meter answered. */
export function StateBadge({ state, lastSeen }: { state: string; lastSeen: number | null }) {
  return html`<span class="state">
    <span class="badge badge-${state}" data-testid="state">${state}</span>
    <span class="muted" title=${lastSeen ? new Date(lastSeen).toLocaleString() : ''}>last seen ${ago(lastSeen)}</span>
  </span>`;
}
