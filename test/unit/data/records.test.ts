import { afterAll, describe, expect, it } from 'vitest';
import { CSV_DIALECT, type Dialect, RecordReader, TSV_DIALECT } from '../../../sagemaker/data/records.js';
import { failure, scratch } from './files.js';

const files = scratch('records');
afterAll(() => files.cleanup());

/** Every record of a file as [line, cells]. */
function records(text: string, dialect: Dialect = CSV_DIALECT, chunkBytes?: number): [number, string[]][] {
  const path = files.write(`f-${Math.random().toString(36).slice(2)}.txt`, text);
  const reader = new RecordReader(path, 'data.csv', dialect, 16, undefined, chunkBytes);
  const out: [number, string[]][] = [];
  try {
    while (reader.next()) {
      const cells: string[] = [];
      for (let j = 0; j < Math.min(reader.count, 16); j++) cells.push(reader.cell(j));
      out.push([reader.line, cells]);
    }
  } finally {
    reader.close();
  }
  return out;
}

describe('RecordReader', () => {
  it('splits plain lines on the delimiter, keeping empty cells', () => {
    // Act
    const rows = records('a,b,c\n1,,3\n,,\n');

    // Assess
    expect(rows).toEqual([
      [1, ['a', 'b', 'c']],
      [2, ['1', '', '3']],
      [3, ['', '', '']],
    ]);
  });

  it('reads CRLF line ends, a last line without a newline, and skips blank lines while counting them', () => {
    // Act
    const rows = records('a,b\r\n\r\n1,2\r\n\n3,4');

    // Assess
    expect(rows).toEqual([
      [1, ['a', 'b']],
      [3, ['1', '2']],
      [5, ['3', '4']],
    ]);
  });

  it('unquotes RFC 4180 cells: delimiters, doubled quotes and newlines inside quotes', () => {
    // Act
    const rows = records('x,y\n"a,b","say ""hi"""\n"two\nlines",z\n"",after\n');

    // Assess: the record after the two-line cell starts on line 5.
    expect(rows).toEqual([
      [1, ['x', 'y']],
      [2, ['a,b', 'say "hi"']],
      [3, ['two\nlines', 'z']],
      [5, ['', 'after']],
    ]);
  });

  it('keeps a quote inside an unquoted cell as an ordinary character', () => {
    // Act
    const rows = records('size,name\n5",ab"c\n');

    // Assess
    expect(rows[1]).toEqual([2, ['5"', 'ab"c']]);
  });

  it('completes a quoted cell that runs across read chunks', () => {
    // Prepare: 64-byte chunks and a quoted cell of 200 characters with newlines in it.
    const long = Array.from({ length: 20 }, (_, i) => `part ${i}`).join('\n');

    // Act
    const rows = records(`id,text\n1,"${long}"\n2,short\n`, CSV_DIALECT, 64);

    // Assess
    expect(rows).toEqual([
      [1, ['id', 'text']],
      [2, ['1', long]],
      [22, ['2', 'short']],
    ]);
  });

  it('reads many short lines through small chunks exactly as through one', () => {
    // Prepare
    const text = Array.from({ length: 500 }, (_, i) => `${i},v${i % 7},"q${i}"`).join('\n');

    // Act
    const small = records(text, CSV_DIALECT, 37);
    const whole = records(text);

    // Assess
    expect(small).toEqual(whole);
    expect(small).toHaveLength(500);
    expect(small[499]).toEqual([500, ['499', 'v2', 'q499']]);
  });

  it('treats quotes as ordinary characters in the tab-separated dialect', () => {
    // Act
    const rows = records('1\t"a\tb"\n', TSV_DIALECT);

    // Assess
    expect(rows).toEqual([[1, ['1', '"a', 'b"']]]);
  });

  it('drops a UTF-8 byte order mark and decodes non-ASCII text', () => {
    // Act
    const rows = records('\uFEFFclick,ville\n1,Zürich\n');

    // Assess
    expect(rows).toEqual([
      [1, ['click', 'ville']],
      [2, ['1', 'Zürich']],
    ]);
  });

  it('fails on an unterminated quote with the line where the quote opened', () => {
    // Act
    const error = failure(() => records('a,b\n1,2\n3,"open\nstill open\n'));

    // Assess
    expect(error.message).toBe('data.csv:3: unterminated quote in cell 2');
    expect(error.line).toBe(3);
  });

  it('fails on text after a closing quote', () => {
    // Act
    const error = failure(() => records('a,b\n"x"y,2\n'));

    // Assess
    expect(error.message).toMatch(/^data\.csv:2: unexpected "y" after the closing quote of cell 1/);
  });

  it('counts cells beyond its capacity without keeping them', () => {
    // Prepare
    const path = files.write('wide.csv', 'a,b,c,d,e\n');
    const reader = new RecordReader(path, 'wide.csv', CSV_DIALECT, 2);

    // Act
    reader.next();
    reader.close();

    // Assess
    expect(reader.count).toBe(5);
    expect([reader.cell(0), reader.cell(1)]).toEqual(['a', 'b']);
  });
});
