// Compiles the runtime sources (bin/, lambdas/, sagemaker/) file by file into dist/, keeping the
// tree, so that `npm start` runs plain JavaScript: no TypeScript loader in the server or in each
// of its worker threads (tsx costs every thread tens of MB and its own loader thread). Tests,
// benchmarks and `npx adclick` keep running the sources through tsx. Takes well under a second.
// The dashboard's page is bundled into dist/web/.
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const ROOTS = ['bin', 'lambdas', 'sagemaker'];
const OUT = 'dist';

const files = ROOTS.flatMap((root) =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name)),
);
const sources = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
// Plain-JavaScript modules (the SQLite checkpoint worker) are used as they are.
const assets = files.filter((f) => f.endsWith('.mjs'));

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: sources,
  outdir: OUT,
  outbase: '.',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// The shared analytics and training-set SQL is read at run time from sql/ beside the code.
const sqlFiles = readdirSync('sql', { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.sql'))
  .map((e) => join(e.parentPath ?? e.path, e.name));
for (const asset of [...assets, ...sqlFiles]) {
  mkdirSync(dirname(join(OUT, asset)), { recursive: true });
  copyFileSync(asset, join(OUT, asset));
}
// The dashboard (web/): one script and one stylesheet, uPlot inside, bundled by the same code
// that bundles it in memory when the server runs from the sources.
const { bundleDashboard, DASHBOARD_PAGE, DASHBOARD_SCRIPT, DASHBOARD_STYLE } = await import(
  `./../${OUT}/lambdas/server/dashboard-assets.js`
);
const dashboard = await bundleDashboard('web');
mkdirSync(join(OUT, 'web'), { recursive: true });
writeFileSync(join(OUT, 'web', DASHBOARD_PAGE), dashboard.html);
writeFileSync(join(OUT, 'web', DASHBOARD_SCRIPT), dashboard.script);
writeFileSync(join(OUT, 'web', DASHBOARD_STYLE), dashboard.style);
process.stderr.write(`built ${sources.length} modules and the dashboard into ${OUT}/\n`);
