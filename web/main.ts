/**
 * The dashboard page: signs in (bearer token, or nothing behind `adclick dashboard`), then fills
 * every view for the chosen range, again on demand and every 30 seconds.
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { ApiClient, ApiError } from './api-client.js';
import { el, notice, replaceContent } from './dom.js';
import { forgetToken, readToken, saveToken, takeTokenFromFragment } from './session-token.js';
import { DEFAULT_RANGE, isRangeKey, RANGE_CHOICES, type RangeKey, timeRange } from './time-range.js';
import { showAdPerformance } from './views/ad-performance.js';
import { showExperiments } from './views/experiments.js';
import { showFraudFlags } from './views/fraud-flags.js';
import { showModelRegistry } from './views/model-registry.js';
import { showModelReliability } from './views/model-reliability.js';
import { DIMENSIONS, showUserSegments } from './views/user-segments.js';
import type { ViewContext } from './views/view-context.js';

const AUTO_REFRESH_MS = 30_000;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
const viewBody = (name: string) => document.querySelector<HTMLElement>(`.view-body[data-view="${name}"]`)!;

/** `sigv4`: served by `adclick dashboard`, which signs every call; else the admin token. */
const signedByProxy = meta('adclick-auth') === 'sigv4';
const storage = window.sessionStorage;
takeTokenFromFragment(window.location, window.history, storage);
const token = () => (signedByProxy ? null : readToken(storage));
const api = new ApiClient(token);

const rangeSelect = byId<HTMLSelectElement>('range');
const dimensionSelect = byId<HTMLSelectElement>('dimension');
const adFilter = byId<HTMLInputElement>('ad-filter');
const autoRefresh = byId<HTMLInputElement>('auto-refresh');
const status = byId<HTMLElement>('status');
const announce = (message: string) => {
  status.textContent = message;
};

for (const r of RANGE_CHOICES)
  rangeSelect.append(el('option', { value: r.key, selected: r.key === DEFAULT_RANGE }, r.label));
for (const d of DIMENSIONS) dimensionSelect.append(el('option', { value: d.value }, d.label));

const views: readonly (readonly [name: string, show: (root: HTMLElement, ctx: ViewContext) => Promise<void>])[] = [
  ['performance', (root, ctx) => showAdPerformance(root, ctx, adFilter.value.trim())],
  ['segments', (root, ctx) => showUserSegments(root, ctx, dimensionSelect.value)],
  ['models', showModelReliability],
  ['experiments', showExperiments],
  ['fraud', showFraudFlags],
  ['registry', showModelRegistry],
];

function context(): ViewContext {
  const key: RangeKey = isRangeKey(rangeSelect.value) ? rangeSelect.value : DEFAULT_RANGE;
  return { api, range: timeRange(key, Date.now()), announce };
}

function showAuth(): void {
  byId('sign-in').hidden = signedByProxy || token() !== null;
  byId('signed-in').hidden = !signedByProxy && token() === null;
  byId('sign-out').hidden = signedByProxy;
  if (signedByProxy) {
    byId('auth-state').textContent = 'Calls signed with your AWS credentials';
    byId('api-origin').textContent = `API: ${meta('adclick-api')}`;
  }
}

/** A view's failure stays in that view; a refused token signs the page out. */
async function showView(name: string, show: (root: HTMLElement, ctx: ViewContext) => Promise<void>, ctx: ViewContext) {
  const root = viewBody(name);
  root.setAttribute('aria-busy', 'true');
  try {
    await show(root, ctx);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401 && !signedByProxy) {
      forgetToken(storage);
      showAuth();
      replaceContent(root, notice('error', 'The admin token was refused: sign in again.'));
    } else {
      const detail = err instanceof ApiError ? `${err.status}: ${err.message}` : (err as Error).message;
      replaceContent(root, notice('error', `Could not load this view (${detail}).`));
    }
  } finally {
    root.removeAttribute('aria-busy');
  }
}

let refreshing: Promise<void> | null = null;
async function refresh(only?: string): Promise<void> {
  showAuth();
  if (!signedByProxy && token() === null) {
    for (const [name] of views) {
      replaceContent(
        viewBody(name),
        notice('info', 'Sign in with the admin token to see this view (see the top of the page).'),
      );
    }
    announce('Not signed in.');
    return;
  }
  const ctx = context();
  announce('Loading…');
  await Promise.all(views.filter(([name]) => !only || name === only).map(([name, show]) => showView(name, show, ctx)));
  announce(`Updated ${new Date().toISOString().slice(11, 19)} UTC.`);
}
const run = (only?: string) => {
  refreshing = refresh(only).finally(() => {
    refreshing = null;
  });
  return refreshing;
};

byId<HTMLFormElement>('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('admin-token');
  if (input.value.trim() === '') return;
  saveToken(storage, input.value);
  input.value = '';
  void run().then(() => byId('main').focus());
});
byId('sign-out').addEventListener('click', () => {
  forgetToken(storage);
  void run().then(() => byId<HTMLInputElement>('admin-token').focus());
});
byId('refresh').addEventListener('click', () => void run());
rangeSelect.addEventListener('change', () => void run());
dimensionSelect.addEventListener('change', () => void run('segments'));
byId<HTMLFormElement>('ad-filter-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void run('performance');
});

// Not while someone works inside a view or a dialog: a refresh would take their focus away.
setInterval(() => {
  const busy = document.activeElement?.closest('.view-body, dialog') || document.querySelector('dialog[open]');
  if (autoRefresh.checked && !refreshing && !busy && document.visibilityState === 'visible') void run();
}, AUTO_REFRESH_MS);

void run();
