import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../lambdas/core/api/openapi.js';
import { ROUTES } from '../../../lambdas/core/api/routes.js';
import { lakeTablesMarkdown } from '../../../lambdas/core/lake/docs.js';
import { VERSION } from '../../../lambdas/core/version.js';

const ROOT = resolve(import.meta.dirname, '../../..');

describe('the generated docs', () => {
  it('docs/openapi.json matches the route table (run `npm run docs` after changing a route)', () => {
    // Act
    const committed = JSON.parse(readFileSync(resolve(ROOT, 'docs/openapi.json'), 'utf8'));

    // Assess
    expect(committed).toEqual(openApiDocument(ROUTES, VERSION));
  });

  it('docs/lake-tables.md matches the lake table definitions', () => {
    // Act
    const committed = readFileSync(resolve(ROOT, 'docs/lake-tables.md'), 'utf8');

    // Assess
    expect(committed).toBe(lakeTablesMarkdown());
  });
});
