import { afterAll, describe, expect, it } from 'vitest';
import { decideColumnTypes } from '../../../sagemaker/data/columns.js';
import { Dataset, scanFile } from '../../../sagemaker/data/dataset.js';
import { type DataFormat, readLayout } from '../../../sagemaker/data/layout.js';
import { failure, scratch } from './files.js';

const files = scratch('dataset');
afterAll(() => files.cleanup());

function open(text: string, format: DataFormat = 'csv', name = 'data.csv') {
  const path = files.write(name, text);
  const layout = readLayout(path, { format, labels: 'required', file: name });
  const scan = scanFile(layout);
  const types = decideColumnTypes(layout.features, (c) => scan.numericColumns.has(c));
  return { layout, scan, dataset: new Dataset(layout, { types, boundaries: scan.boundaries }) };
}

describe('scanFile and Dataset on csv', () => {
  it('types a column numeric only when every non-empty cell is a finite number', () => {
    // Act
    const { scan } = open('click,price,site,code,empty\n1,1.5,a.com,7,\n0,,b.com,x7,\n0,-2,c.com,8,\n');

    // Assess
    expect([...scan.numericColumns].sort()).toEqual(['empty', 'price']);
    expect(scan.rows).toBe(3);
    expect(scan.positives).toBe(1);
  });

  it('yields numbers for numeric columns, strings for categorical ones and null for empty cells', () => {
    // Prepare
    const { dataset } = open('site,click,price\n"a,b",1,2.5\n,0,\nsite-c,1,-3\n');

    // Act
    const rows = [...dataset.examples()()];

    // Assess
    expect(rows).toEqual([
      { features: { site: 'a,b', price: 2.5 }, label: 1 },
      { features: { site: null, price: null }, label: 0 },
      { features: { site: 'site-c', price: -3 }, label: 1 },
    ]);
  });

  it('compares categorical values as strings: 1 and 1.0 stay two values', () => {
    // Prepare
    const { dataset } = open('click,code\n1,1\n0,1.0\n0,x\n');

    // Act
    const codes = [...dataset.examples()()].map((e) => e.features.code);

    // Assess
    expect(codes).toEqual(['1', '1.0', 'x']);
  });

  it('lets overrides type a column against detection', () => {
    // Prepare
    const path = files.write('override.csv', 'click,user_id,score\n1,123,4\n0,456,5\n');
    const layout = readLayout(path, { format: 'csv', labels: 'required' });
    const scan = scanFile(layout);

    // Act
    const types = decideColumnTypes(layout.features, (c) => scan.numericColumns.has(c), { categorical: ['user_id'] });
    const rows = [...new Dataset(layout, { types }).examples()()];

    // Assess
    expect(rows[0]!.features).toEqual({ user_id: '123', score: 4 });
  });

  it('reads any row range, the same rows whether it starts from a remembered boundary or from the top', () => {
    // Prepare: ~3 MB, so the scan remembers boundaries at its 1 MiB read chunks.
    const lines = ['click,n,pad'];
    for (let i = 0; i < 60_000; i++) lines.push(`${i % 3 === 0 ? 1 : 0},${i},${'x'.repeat(40)}`);
    const { scan, dataset, layout } = open(`${lines.join('\n')}\n`, 'csv', 'big.csv');
    const types = decideColumnTypes(layout.features, (c) => scan.numericColumns.has(c));
    const fromTop = new Dataset(layout, { types });

    // Act
    const tail = [...dataset.examples({ start: 45_000, end: 45_003 })()].map((e) => e.features.n);
    const tailFromTop = [...fromTop.examples({ start: 45_000, end: 45_003 })()].map((e) => e.features.n);
    const count = [...dataset.examples({ start: 59_990 })()].length;

    // Assess
    expect(scan.boundaries.length).toBeGreaterThan(1);
    expect(tail).toEqual([45_000, 45_001, 45_002]);
    expect(tailFromTop).toEqual(tail);
    expect(count).toBe(10);
  });

  it('replays the same rows on every call (one read per training pass)', () => {
    // Prepare
    const { dataset } = open('click,a\n1,x\n0,y\n');
    const source = dataset.examples();

    // Act
    const first = [...source()];
    const second = [...source()];

    // Assess
    expect(second).toEqual(first);
  });

  it('keeps only the requested columns in the feature maps', () => {
    // Prepare
    const path = files.write('only.csv', 'click,a,b,c\n1,x,2,z\n');
    const layout = readLayout(path, { format: 'csv', labels: 'optional' });
    const dataset = new Dataset(layout, { types: new Map([['b', 'numeric']]), only: ['b', 'c'] });

    // Act
    const maps = [...dataset.featureMaps()()];

    // Assess
    expect(maps).toEqual([{ b: 2, c: 'z' }]);
  });

  it('scores a non-number in a numeric column as its string when told to, and counts it', () => {
    // Prepare
    const path = files.write('lenient.csv', 'price\n1\nabc\n3\n');
    const layout = readLayout(path, { format: 'csv', labels: 'optional' });
    const dataset = new Dataset(layout, { types: new Map([['price', 'numeric']]), nonNumbers: 'categorical' });

    // Act
    const values = [...dataset.featureMaps()()].map((f) => f.price);

    // Assess
    expect(values).toEqual([1, 'abc', 3]);
    expect(dataset.nonNumberReport).toEqual({ count: 1, first: { line: 3, column: 'price', value: 'abc' } });
  });
});

describe('criteo files', () => {
  const row = (label: string, ints: string[], cats: string[]) => [label, ...ints, ...cats].join('\t');
  const ints = Array.from({ length: 13 }, (_, i) => String(i - 1));
  const cats = Array.from({ length: 26 }, (_, i) => (i === 3 ? '' : `c${i}`));

  it('names the columns I1..I13 and C1..C26 and reads the label from the first cell', () => {
    // Prepare
    const path = files.write(
      'day.txt',
      `${row('1', ints, cats)}\n${row(
        '0',
        ints.map(() => ''),
        cats,
      )}\n`,
    );
    const layout = readLayout(path, { format: 'criteo', labels: 'required' });
    const types = decideColumnTypes(layout.features, (c) => c.startsWith('I'));

    // Act
    const rows = [...new Dataset(layout, { types }).examples()()];

    // Assess
    expect(rows[0]!.label).toBe(1);
    expect(rows[0]!.features).toMatchObject({ I1: -1, I2: 0, I13: 11, C1: 'c0', C4: null, C26: 'c25' });
    expect(rows[1]!.features.I5).toBeNull();
    expect(Object.keys(rows[0]!.features)).toHaveLength(39);
  });

  it('accepts rows without the label column for scoring only', () => {
    // Prepare
    const path = files.write('test.txt', `${[...ints, ...cats].join('\t')}\n`);

    // Act
    const layout = readLayout(path, { format: 'criteo', labels: 'optional' });
    const refusal = failure(() => readLayout(path, { format: 'criteo', labels: 'required', file: 'test.txt' }));

    // Assess
    expect(layout.labelIndex).toBe(-1);
    expect(refusal.message).toBe(
      'test.txt:1: row has 39 tab-separated cells; a criteo row has 40 (label, I1..I13, C1..C26)',
    );
  });
});

describe('bad files fail with the file, the line and the reason', () => {
  it('refuses an empty file', () => {
    // Act
    const error = failure(() => open(''));

    // Assess
    expect(error.message).toBe('data.csv: empty file (a csv needs a header row)');
  });

  it('refuses a header without a click column', () => {
    // Act
    const error = failure(() => open('label,a\n1,x\n'));

    // Assess
    expect(error.message).toBe("data.csv:1: no 'click' column in the header (the label, 0 or 1)");
  });

  it('refuses a file with a header and no rows', () => {
    // Act
    const error = failure(() => open('click,a\n\n'));

    // Assess
    expect(error.message).toBe('data.csv: no data rows');
  });

  it('refuses a row with fewer cells than the header, on its line', () => {
    // Act
    const error = failure(() => open('click,a,b\n1,x,y\n\n0,x\n'));

    // Assess
    expect(error.message).toBe('data.csv:4: row has 2 cells, the header has 3');
  });

  it('refuses a row with more cells than the header', () => {
    // Act
    const error = failure(() => open('click,a\n1,x\n0,x,extra\n'));

    // Assess
    expect(error.message).toBe('data.csv:3: row has 3 cells, the header has 2');
  });

  it('refuses a label that is not 0 or 1, and an empty label', () => {
    // Act
    const two = failure(() => open('click,a\n1,x\n2,y\n'));
    const empty = failure(() => open('click,a\n1,x\n,y\n'));

    // Assess
    expect(two.message).toBe(`data.csv:3: label 'click' must be 0 or 1, got "2"`);
    expect(empty.message).toBe(`data.csv:3: label 'click' must be 0 or 1, got an empty cell`);
  });

  it('accepts labels written as 1.0 and 0.0, as pandas does', () => {
    // Act
    const { scan } = open('click,a\n1.0,x\n0.0,y\n');

    // Assess
    expect(scan.positives).toBe(1);
  });

  it('refuses an unterminated quote, on the line it opens', () => {
    // Act
    const error = failure(() => open('click,a\n1,x\n0,"never closed\n1,y\n'));

    // Assess
    expect(error.message).toBe('data.csv:3: unterminated quote in cell 2');
  });

  it('refuses a --numeric column that holds a non-number, naming the cell', () => {
    // Prepare
    const path = files.write('numeric.csv', 'click,n\n1,5\n0,five\n');
    const layout = readLayout(path, { format: 'csv', labels: 'required', file: 'numeric.csv' });

    // Act
    const error = failure(() => scanFile(layout, { mustBeNumeric: new Set(['n']) }));

    // Assess
    expect(error.message).toBe('numeric.csv:3: --numeric n: cell "five" is not a finite number');
  });

  it('refuses duplicate and empty column names', () => {
    // Act
    const duplicate = failure(() => open('click,a,a\n1,x,y\n'));
    const unnamed = failure(() => open('click,,b\n1,x,y\n'));

    // Assess
    expect(duplicate.message).toBe('data.csv:1: column "a" appears twice in the header');
    expect(unnamed.message).toBe('data.csv:1: column 2 of the header has no name');
  });

  it('refuses a criteo row with the wrong number of cells, on its line', () => {
    // Prepare
    const good = ['1', ...Array.from({ length: 39 }, () => '')].join('\t');

    // Act
    const error = failure(() => open(`${good}\n${good}\n1\t2\t3\n`, 'criteo', 'day.txt'));

    // Assess
    expect(error.message).toBe("day.txt:3: row has 3 cells, the file's first row has 40");
  });
});
