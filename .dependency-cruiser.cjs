/**
 * The layering of DESIGN.md, enforced on every `npm test`:
 * core is the domain and imports no adapter, no AWS SDK, no Redis, no database and no HTTP;
 * use cases and handlers reach infrastructure only through the ports.
 */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-adapter',
      severity: 'error',
      comment: 'lambdas/core must not import adapters, handlers, the server or the CDK code.',
      from: { path: '^lambdas/core/' },
      to: { path: '^(lambdas/(adapters|handlers|server)|lib|bin)/' },
    },
    {
      name: 'core-imports-no-infrastructure',
      severity: 'error',
      comment: 'lambdas/core must not import the AWS SDK, ioredis, DuckDB, SQLite, Parquet or node:http.',
      from: { path: '^lambdas/core/' },
      to: {
        path: '(^|/)node_modules/(@aws-sdk|aws-sdk|@smithy|ioredis|redis|@duckdb|duckdb|better-sqlite3|hyparquet|hyparquet-writer|@aws-lambda-powertools)/',
      },
    },
    {
      name: 'core-imports-no-node-network',
      severity: 'error',
      comment: 'lambdas/core speaks no HTTP and opens no sockets or files: that is what adapters are for.',
      from: { path: '^lambdas/core/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(http|https|http2|net|dgram|fs|fs/promises|child_process)$' },
    },
    {
      name: 'adapters-do-not-import-entry-points',
      severity: 'error',
      from: { path: '^lambdas/adapters/' },
      to: { path: '^lambdas/(handlers|server)/' },
    },
    {
      name: 'sagemaker-is-independent-of-lambdas',
      severity: 'error',
      comment:
        'The model package is shared by the container, the local endpoint and the fallback: it imports no Lambda code.',
      from: { path: '^sagemaker/' },
      to: { path: '^lambdas/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
