/**
 * The dashboard's files (web/): the page, its script and its stylesheet, served at `/` and
 * `/assets/*` by the local server and by `adclick dashboard`. Run from dist/ they are the bundle
 * `npm run build` wrote into dist/web/; run from the sources (tests, `npx adclick` through tsx)
 * esbuild bundles web/ in memory at start, which takes a fraction of a second.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StaticDocument } from '../core/api/http-adapter.js';

export const DASHBOARD_SCRIPT = 'dashboard.js';
export const DASHBOARD_STYLE = 'dashboard.css';
export const DASHBOARD_PAGE = 'index.html';

/**
 * Same-origin scripts, styles and API calls only: no inline script or style, nothing from
 * elsewhere, no framing. (uPlot sizes its elements through the CSSOM, which this allows.)
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  // The page's address may carry the sign-in fragment for an instant: never pass it on.
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export interface DashboardBundle {
  readonly html: string;
  readonly script: string;
  readonly style: string;
}

/** How the page authenticates its API calls: a bearer token it asks for, or a signing proxy. */
export type DashboardAuth = 'bearer' | 'sigv4';

/** web/ beside this module: the sources seen from lambdas/server, the bundle from dist/lambdas/server. */
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** Bundles web/main.ts (and the CSS it imports, uPlot's included) with esbuild, in memory. */
export async function bundleDashboard(webDir: string = WEB_DIR): Promise<DashboardBundle> {
  // Loaded only here: a server running the prebuilt bundle never loads esbuild.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { dashboard: join(webDir, 'main.ts') },
    bundle: true,
    write: false,
    format: 'esm',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    minify: true,
    outdir: 'out',
    logLevel: 'silent',
  });
  const output = (name: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(name));
    if (!file) throw new Error(`esbuild wrote no ${name}`);
    return file.text;
  };
  return {
    html: readFileSync(join(webDir, DASHBOARD_PAGE), 'utf8'),
    script: output(DASHBOARD_SCRIPT),
    style: output(DASHBOARD_STYLE),
  };
}

/** The prebuilt bundle when there is one (dist/web), else web/ bundled now. */
export async function loadDashboard(webDir: string = WEB_DIR): Promise<DashboardBundle> {
  if (existsSync(join(webDir, DASHBOARD_SCRIPT))) {
    const read = (name: string) => readFileSync(join(webDir, name), 'utf8');
    return { html: read(DASHBOARD_PAGE), script: read(DASHBOARD_SCRIPT), style: read(DASHBOARD_STYLE) };
  }
  return bundleDashboard(webDir);
}

const escapeAttribute = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * The documents to serve, by path. The page learns how to authenticate (and, behind the proxy,
 * which API it shows) from two meta tags: no inline script, and never a secret.
 */
export function dashboardDocuments(
  bundle: DashboardBundle,
  options: { readonly auth: DashboardAuth; readonly api?: string },
): Map<string, StaticDocument> {
  const html = bundle.html
    .replace('__ADCLICK_AUTH__', options.auth)
    .replace('__ADCLICK_API__', escapeAttribute(options.api ?? ''));
  return new Map<string, StaticDocument>([
    ['/', { contentType: 'text/html; charset=utf-8', body: html, headers: HEADERS }],
    [
      `/assets/${DASHBOARD_SCRIPT}`,
      { contentType: 'text/javascript; charset=utf-8', body: bundle.script, headers: HEADERS },
    ],
    [`/assets/${DASHBOARD_STYLE}`, { contentType: 'text/css; charset=utf-8', body: bundle.style, headers: HEADERS }],
  ]);
}
