import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../lambdas/core/api/openapi.js';
import { ROUTES } from '../lambdas/core/api/routes.js';
import { lakeTablesMarkdown } from '../lambdas/core/lake/docs.js';
import { VERSION } from '../lambdas/core/version.js';

// The committed copies of what the code defines: the API document the server serves at
// GET /openapi.json and the lake tables' reference. test/unit/docs checks they are current.
writeFileSync('docs/openapi.json', `${JSON.stringify(openApiDocument(ROUTES, VERSION), null, 2)}\n`);
writeFileSync('docs/lake-tables.md', lakeTablesMarkdown());
process.stdout.write('wrote docs/openapi.json and docs/lake-tables.md\n');
