import { describe, expect, it } from 'vitest';
import { ReadWriteLock } from '../../../lambdas/adapters/local/duckdb/read-write-lock.js';
import { gate } from '../../support/gate.js';

describe('ReadWriteLock', () => {
  it('lets readers run together', async () => {
    // Prepare
    const lock = new ReadWriteLock();
    const g = gate();
    let together = 0;
    let most = 0;
    const reader = () =>
      lock.read(async () => {
        most = Math.max(most, ++together);
        await g.promise;
        together--;
      });

    // Act
    const done = Promise.all([reader(), reader(), reader()]);
    await new Promise((r) => setImmediate(r));
    g.open();
    await done;

    // Assess
    expect(most).toBe(3);
  });

  it('runs a writer after the readers already running, and before readers that came after it', async () => {
    // Prepare
    const lock = new ReadWriteLock();
    const g = gate();
    const order: string[] = [];
    const first = lock.read(async () => {
      await g.promise;
      order.push('reader already running');
    });
    await new Promise((r) => setImmediate(r));

    // Act
    const writer = lock.write(async () => {
      order.push('writer');
    });
    const later = lock.read(async () => {
      order.push('reader that came later');
    });
    await new Promise((r) => setImmediate(r));
    g.open();
    await Promise.all([first, writer, later]);

    // Assess
    expect(order).toEqual(['reader already running', 'writer', 'reader that came later']);
  });

  it('releases the lock when the writer throws', async () => {
    // Prepare
    const lock = new ReadWriteLock();

    // Act
    const failed = await lock.write(async () => Promise.reject(new Error('disk full'))).catch((e: Error) => e.message);
    const after = await lock.read(async () => 'read');

    // Assess
    expect(failed).toBe('disk full');
    expect(after).toBe('read');
  });
});
