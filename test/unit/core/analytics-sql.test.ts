import { describe, expect, it } from 'vitest';
import { expandIncludes, loadSql } from '../../../lambdas/adapters/shared/sql-files.js';

describe('SQL includes', () => {
  it('replaces an include line with the named file, recursively', () => {
    // Prepare
    const files: Record<string, string> = {
      'a/outer': 'WITH x AS (SELECT 1)\n-- @include a/inner\n',
      'a/inner': ', y AS (SELECT 2)\n',
    };

    // Act
    const text = expandIncludes('-- the query\n-- @include a/outer\nSELECT * FROM x, y', (n) => files[n]!);

    // Assess
    expect(text).toBe('-- the query\nWITH x AS (SELECT 1)\n, y AS (SELECT 2)\nSELECT * FROM x, y');
  });

  it('refuses a cycle and a name that is not a query name', () => {
    // Prepare
    const files: Record<string, string> = { 'a/one': '-- @include a/two', 'a/two': '-- @include a/one' };

    // Act
    const cycle = () => expandIncludes('-- @include a/one', (n) => files[n]!, ['q']);
    const badName = () => expandIncludes('-- @include ../etc/passwd', () => '');

    // Assess
    expect(cycle).toThrow('SQL include cycle: q -> a/one -> a/two -> a/one');
    expect(badName).toThrow('not a query name: ../etc/passwd');
  });

  it('leaves a mention of @include inside other text alone', () => {
    // Act
    const text = expandIncludes("SELECT '-- @include a/b' AS s", () => 'never');

    // Assess
    expect(text).toBe("SELECT '-- @include a/b' AS s");
  });

  it.each(['ad-performance', 'user-segments', 'models'])(
    'expands analytics/%s with the shared definition of a labelled impression, once',
    (name) => {
      // Act
      const text = loadSql(`analytics/${name}`, 'athena');

      // Assess
      expect(text).not.toMatch(/^--[ \t]*@include/m);
      expect(text.match(/\blabelled AS \(/g)).toHaveLength(1);
    },
  );
});
