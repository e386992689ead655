import type { DashboardState } from './dashboard-state.js';

/** Text for HTML content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;

/** The live part of the page (re-fetched every few seconds from `<path>/fragment`). */
export function renderLive(state: DashboardState, base: string): string {
  const where = state.transport === 'in-process' ? 'in this process' : `over ${state.transport}${state.group === undefined ? '' : `, group ${state.group}`}`;
  const topology = state.topology.length === 0
    ? '<p>No handlers are registered.</p>'
    : `<table><caption>Events and their handlers (${e(where)})</caption>
<thead><tr><th scope="col">Event</th><th scope="col">Group</th><th scope="col">Handlers</th></tr></thead><tbody>
${state.topology
  .map(
    (t) => `<tr><th scope="row">${e(t.event)}${t.kind === 'pattern' ? ' <small>(pattern)</small>' : ''}${t.eventClass === undefined ? '' : ` <small>(class ${e(t.eventClass)})</small>`}</th>` +
      `<td>${e(state.group ?? 'in-process')}</td><td><ul>${t.handlers.map((h) => `<li><code>${e(h)}</code></li>`).join('')}</ul></td></tr>`,
  )
  .join('\n')}</tbody></table>`;
  const rates = state.rates.length === 0
    ? `<p>No events in the last ${state.rateMinutes} minutes.</p>`
    : `<table><caption>Last ${state.rateMinutes} minutes, per event</caption>
<thead><tr><th scope="col">Event</th><th scope="col">${state.transport === 'in-process' ? 'Published or redriven' : 'Received or redriven'}</th><th scope="col">Handled</th><th scope="col">Failed attempts</th><th scope="col">Dead-lettered</th></tr></thead><tbody>
${state.rates.map((r) => `<tr><th scope="row">${e(r.event)}</th><td>${r.published}</td><td>${r.handled}</td><td>${r.failed}</td><td>${r.deadLettered}</td></tr>`).join('\n')}</tbody></table>`;
  const busy = state.load.handlers.filter((h) => h.unfinished !== 0);
  const load = `<p>Queued events: <strong id="queued">${state.load.queued}</strong>. Handlers with unfinished runs: <strong>${busy.length}</strong>.</p>` +
    (busy.length === 0
      ? ''
      : `<table><caption>Unfinished runs per handler (running, waiting for a slot or a retry, or of queued events)</caption><thead><tr><th scope="col">Handler</th><th scope="col">Unfinished runs</th></tr></thead><tbody>
${busy.map((h) => `<tr><th scope="row"><code>${e(h.handler)}</code></th><td>${h.unfinished}</td></tr>`).join('\n')}</tbody></table>`);
  const letters = state.deadLetters.length === 0
    ? '<p id="no-dead-letters">No dead letters.</p>'
    : `<table id="dead-letter-table"><caption>${state.deadLetters.length} dead letters (newest first, kept in ${e(state.deadLetterSource)})</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Event</th><th scope="col">Handler</th><th scope="col">Reason and error</th><th scope="col">Attempts</th><th scope="col">When (UTC)</th><th scope="col">Actions</th></tr></thead><tbody>
${state.deadLetters
  .map(
    (d) => `<tr data-dead-letter="${e(d.id)}"><th scope="row">${e(d.id)}</th><td>${e(d.event)}</td><td><code>${e(d.handler ?? '(none)')}</code></td>` +
      `<td>${e(d.reason)}: ${e(d.error)}${d.redriveOf === undefined ? '' : ` <small>(failed again after redrive of ${e(d.redriveOf)})</small>`}` +
      `<details><summary>Payload and headers</summary><pre>${e(JSON.stringify({ eventId: d.eventId, payload: d.payload, headers: d.headers }, null, 2))}</pre></details></td>` +
      `<td>${d.attempts}</td><td>${e(d.deadLetteredAt.replace('T', ' ').replace(/\.\d+Z$/, ''))}</td><td>` +
      (d.redrivable
        ? `<form method="post" action="${e(`${base}/dead-letters/${encodeURIComponent(d.id)}/redrive`)}" data-api="${e(`${base}/api/dead-letters/${encodeURIComponent(d.id)}/redrive`)}">` +
          `<input type="hidden" name="token" value="__TOKEN__"><button type="submit" aria-label="Redrive dead letter ${e(d.id)} (${e(d.event)} to ${e(d.handler ?? '')})">Redrive</button></form>`
        : '<span>Not redrivable</span>') +
      `</td></tr>`,
  )
  .join('\n')}</tbody></table>
<form method="post" action="${e(`${base}/dead-letters/purge`)}" data-api="${e(`${base}/api/dead-letters/purge`)}" data-confirm="Purge every dead letter? This cannot be undone.">
<input type="hidden" name="token" value="__TOKEN__"><button type="submit">Purge all dead letters</button></form>`;
  return `<section aria-labelledby="h-topology"><h2 id="h-topology">Topology</h2>${topology}</section>
<section aria-labelledby="h-rates"><h2 id="h-rates">Rates</h2>${rates}</section>
<section aria-labelledby="h-load"><h2 id="h-load">In flight and queued</h2>${load}</section>
<section aria-labelledby="h-dead-letters"><h2 id="h-dead-letters">Dead letters</h2>${letters}</section>`;
}

/** The whole page: readable without scripts (forms post and come back), refreshed by a few lines of script. */
export function renderPage(live: string, base: string, token: string, message: string | undefined): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="eb-token" content="${e(token)}">
<title>Events</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem; max-width: 80rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid; padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { border-bottom-width: 3px; }
ul { margin: 0; padding-left: 1.1rem; }
pre { white-space: pre-wrap; margin: .25rem 0; }
button { font: inherit; padding: .2rem .7rem; border: 2px solid; cursor: pointer; }
button:focus-visible, summary:focus-visible, a:focus-visible { outline: 3px solid; outline-offset: 2px; }
#status { min-height: 1.5em; font-weight: 600; }
</style>
</head>
<body data-base="${e(base)}">
<header><h1>Events</h1>
<p><a href="${e(`${base}/asyncapi.json`)}">AsyncAPI 3.0 document (JSON)</a> · <a href="${e(`${base}/api/state`)}">This page as JSON</a></p>
<p id="status" role="status" aria-live="polite">${message === undefined ? '' : e(message)}</p></header>
<main id="live">${live.replaceAll('__TOKEN__', e(token))}</main>
<script>
(() => {
  const base = document.body.dataset.base;
  const token = document.querySelector('meta[name="eb-token"]').content;
  const live = document.getElementById('live');
  const status = document.getElementById('status');
  async function refresh() {
    // Not while someone is on a control or reading a payload: replacing it would lose their place.
    if (live.contains(document.activeElement) && document.activeElement !== document.body) return;
    if (live.querySelector('details[open]')) return;
    const response = await fetch(base + '/fragment', { headers: { accept: 'text/html' } });
    if (response.ok) live.innerHTML = (await response.text()).replaceAll('__TOKEN__', token);
  }
  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!form.dataset.api) return;
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    form.querySelector('button').disabled = true;
    status.textContent = 'Working…';
    try {
      const response = await fetch(form.dataset.api, { method: 'POST', headers: { 'x-eb-dashboard-token': token, accept: 'application/json' } });
      const result = await response.json();
      status.textContent = result.message || ('Failed: ' + response.status);
    } catch (error) {
      status.textContent = 'Failed: ' + error;
    }
    document.activeElement && document.activeElement.blur && document.activeElement.blur();
    await refresh();
  });
  setInterval(() => refresh().catch(() => undefined), 2000);
})();
</script>
</body>
</html>`;
}
