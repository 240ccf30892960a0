/**
 * A reference for what pairwise terms can win on the synthetic data: the CSV with one extra
 * categorical column per pair of columns that interact in the true logit (INTERACTION_PAIRS),
 * for the peers' logistic regression to learn those interactions as plain weights. Ages are
 * binned by 5 years, so that the age × category cross has a few hundred values, not thousands.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { INTERACTION_PAIRS } from '../../sagemaker/synthetic/index.js';

function cell(column: string, value: string): string {
  if (value === '') return 'na';
  if (column === 'age') return `a${Math.floor(Number(value) / 5) * 5}`;
  return value;
}

/** Copies a synthetic CSV (never quoted) to `out` with the cross columns `x_<a>__<b>` appended. */
export async function writeWithCrosses(input: string, out: string): Promise<void> {
  const lines = createInterface({ input: createReadStream(input, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  const ws = createWriteStream(out);
  let pairs: [number, number, string, string][] | undefined;
  let buffer = '';
  for await (const line of lines) {
    if (line === '') continue;
    const cells = line.split(',');
    if (!pairs) {
      pairs = INTERACTION_PAIRS.map(([a, b]) => {
        const i = cells.indexOf(a);
        const j = cells.indexOf(b);
        if (i < 0 || j < 0) throw new Error(`${input}: no column ${i < 0 ? a : b} for the cross ${a} × ${b}`);
        return [i, j, a, b];
      });
      buffer += `${line},${pairs.map(([, , a, b]) => `x_${a}__${b}`).join(',')}\n`;
      continue;
    }
    let extra = '';
    for (const [i, j, a, b] of pairs) extra += `,${cell(a, cells[i] ?? '')}_${cell(b, cells[j] ?? '')}`;
    buffer += `${line}${extra}\n`;
    if (buffer.length >= 1 << 20) {
      if (!ws.write(buffer)) await once(ws, 'drain');
      buffer = '';
    }
  }
  ws.end(buffer);
  await once(ws, 'finish');
}
