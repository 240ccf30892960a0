import { LAKE_TABLE_NAMES, LAKE_TABLES } from './tables.js';

/** docs/lake-tables.md, generated from the table definitions so the docs cannot drift. */
export function lakeTablesMarkdown(): string {
  const out = [
    '# Lake tables',
    '',
    '<!-- Generated from lambdas/core/lake/tables.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Parquet under Hive partitions `<table>/dt=YYYY-MM-DD/hour=HH/` of the event-time column (UTC).',
    'Delivery is at least once: readers de-duplicate on the id column. User ids and IPs are keyed',
    'HMAC pseudonyms, never raw values.',
    '',
  ];
  for (const name of LAKE_TABLE_NAMES) {
    const t = LAKE_TABLES[name];
    out.push(`## ${t.name}`, '', t.description, '');
    out.push(
      `Partitioned by \`${t.eventTimeColumn}\`; id column \`${t.idColumn}\`; retention ${t.retentionDays} days.`,
      '',
    );
    out.push('| column | type | nullable | meaning |', '| --- | --- | --- | --- |');
    for (const c of t.columns)
      out.push(`| \`${c.name}\` | ${c.type} | ${c.nullable ? 'yes' : 'no'} | ${c.description} |`);
    out.push('');
  }
  return out.join('\n');
}
