/**
 * Bundles each Lambda entry the way issue 7's CDK `NodejsFunction` does (esbuild, CommonJS — the
 * construct's default, which the Lambda runtime loads with `require` — minified, no source map,
 * the SDK left to the runtime), and reads esbuild's metafile to say what weighs.
 *
 * Why CommonJS: the runtime's SDK is CommonJS. An ES module bundle imports each SDK package
 * through Node's ESM-to-CommonJS bridge, which lexes every CommonJS file for its export names:
 * measured here, the API handler's init took ~540 ms as ESM and ~285 ms as CommonJS. The one
 * thing ESM would give, `import.meta.url`, is used on the Lambda path only to find `sql/`, which
 * the stack passes as ADCLICK_SQL_DIR instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

/**
 * The Lambda Node 22 runtime ships the AWS SDK v3 (`@aws-sdk/*`), which CDK leaves out of the
 * bundle. `@smithy/*` is left out only under CDK's `sdkV3ExcludeSmithyPackages` flag, and the
 * runtime does not provide every Smithy package as an importable top-level package
 * (aws/aws-sdk-js-v3#6169: `@smithy/node-http-handler` from an ESM bundle; aws/aws-cdk#33099), so
 * the measured bundle keeps them in. The size with them left out is printed too.
 */
export const SDK_EXTERNAL: readonly string[] = ['@aws-sdk/*'];
export const SDK_AND_SMITHY_EXTERNAL: readonly string[] = ['@aws-sdk/*', '@smithy/*'];

/** A handler entry exports `handler` (a const, a function, or in an export list). */
const EXPORTS_HANDLER = /export\s+(?:const|let|var|async\s+function|function)\s+handler\b|export\s*\{[^}]*\bhandler\b/;

/** The files of `dir` (not its sub-folders) that export `handler`, sorted by name. */
export function findHandlerEntries(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .sort()
    .map((f) => join(dir, f))
    .filter((file) => EXPORTS_HANDLER.test(readFileSync(file, 'utf8')));
}

export interface Contributor {
  /** An npm package (`zod`, `@aws-lambda-powertools/logger`) or a folder of this repository. */
  readonly name: string;
  /** Bytes of the minified output that came from it. */
  readonly bytes: number;
  /** For a package: the shortest import chain from the entry to it (repository files and packages). */
  readonly via?: readonly string[];
}

export interface HandlerBundle {
  readonly entry: string;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly contributors: readonly Contributor[];
}

/** The package an input belongs to (the innermost node_modules), or undefined for the repository's own files. */
function packageOf(input: string): string | undefined {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return undefined;
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

function groupOf(input: string): string {
  return packageOf(input) ?? input.split('/').slice(0, -1).join('/');
}

/** Shortest import chain (breadth-first over the metafile's import graph) from the entry to each group. */
function chains(meta: Metafile, entryInput: string): Map<string, string[]> {
  const parent = new Map<string, string | null>([[entryInput, null]]);
  const queue = [entryInput];
  const firstOfGroup = new Map<string, string>();
  while (queue.length > 0) {
    const at = queue.shift()!;
    const group = groupOf(at);
    if (!firstOfGroup.has(group)) firstOfGroup.set(group, at);
    for (const imp of meta.inputs[at]?.imports ?? []) {
      if (imp.external || parent.has(imp.path) || !meta.inputs[imp.path]) continue;
      parent.set(imp.path, at);
      queue.push(imp.path);
    }
  }
  const result = new Map<string, string[]>();
  for (const [group, first] of firstOfGroup) {
    const path: string[] = [];
    for (let at: string | null | undefined = first; at; at = parent.get(at)) path.unshift(at);
    // Each step is a repository file (where a change would go) or a package, once.
    const steps: string[] = [];
    for (const p of path) {
      const step = packageOf(p) ?? p;
      if (steps[steps.length - 1] !== step) steps.push(step);
    }
    result.set(group, steps);
  }
  return result;
}

/** The bytes of the output grouped by package (or repository folder), largest first. */
export function contributors(meta: Metafile, outputFile: string, entryInput: string): Contributor[] {
  const output = meta.outputs[outputFile];
  if (!output) throw new Error(`esbuild's metafile has no output ${outputFile}`);
  const bytes = new Map<string, number>();
  const packages = new Set<string>();
  for (const [input, info] of Object.entries(output.inputs)) {
    const pkg = packageOf(input);
    if (pkg) packages.add(pkg);
    const group = pkg ?? groupOf(input);
    bytes.set(group, (bytes.get(group) ?? 0) + info.bytesInOutput);
  }
  const via = chains(meta, entryInput);
  return [...bytes.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => {
      const chain = packages.has(name) ? via.get(name) : undefined;
      return chain ? { name, bytes: n, via: chain } : { name, bytes: n };
    });
}

export interface BundleOptions {
  readonly repoRoot: string;
  readonly outDir: string;
  readonly external?: readonly string[];
}

/** Bundles one entry into `<outDir>/<name>/index.js` (the file name CDK gives a CommonJS bundle). */
export async function bundleHandler(entry: string, options: BundleOptions): Promise<HandlerBundle> {
  const name = relative(join(options.repoRoot, 'lambdas', 'handlers'), entry).replace(/\.ts$/, '');
  const file = join(options.outDir, name, 'index.js');
  const result = await build({
    absWorkingDir: options.repoRoot,
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // Packages' ES module builds tree-shake (zod's CommonJS build keeps every locale: +120 kB);
    // NodejsFunction takes the same `mainFields`.
    mainFields: ['module', 'main'],
    minify: true,
    sourcemap: false,
    external: [...(options.external ?? SDK_EXTERNAL)],
    metafile: true,
    write: true,
    logLevel: 'silent',
  });
  const outputKey = relative(options.repoRoot, file).split(sep).join('/');
  const code = readFileSync(file);
  return {
    entry: relative(options.repoRoot, entry),
    file,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    contributors: contributors(result.metafile, outputKey, relative(options.repoRoot, entry).split(sep).join('/')),
  };
}
