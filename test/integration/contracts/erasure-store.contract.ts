import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../../lambdas/core/errors.js';
import type { ErasureStore, StoredErasure } from '../../../lambdas/core/ports.js';
import type { ErasureReceipt } from '../../../lambdas/core/schemas/erasures.js';

export const erasure = (
  id: string,
  patch: Partial<ErasureReceipt> = {},
  userKey: string | null = 'u_abc',
): StoredErasure => ({
  receipt: {
    erasure_id: id,
    status: 'pending',
    requested_at: '2026-12-04T10:00:00.000Z',
    started_at: null,
    completed_at: null,
    stores: [],
    data_span: null,
    models_flagged: [],
    error: null,
    ...patch,
  },
  userKey,
});

export function describeErasureStoreContract(adapter: string, open: () => Promise<ErasureStore>): void {
  describe(`ErasureStore contract: ${adapter}`, () => {
    let store: ErasureStore;
    beforeEach(async () => {
      store = await open();
    });

    it('stores a new erasure with its pseudonym and reads it back', async () => {
      // Act
      await store.create(erasure('er_1'));

      // Assess
      expect(await store.get('er_1')).toEqual(erasure('er_1'));
      expect(await store.get('er_unknown')).toBeUndefined();
    });

    it('refuses an erasure id that exists with a ConflictError', async () => {
      // Prepare
      await store.create(erasure('er_1'));

      // Act / Assess
      await expect(store.create(erasure('er_1', {}, 'u_other'))).rejects.toBeInstanceOf(ConflictError);
      expect((await store.get('er_1'))?.userKey).toBe('u_abc');
    });

    it('saves progress, and forgets the pseudonym when told to', async () => {
      // Prepare
      await store.create(erasure('er_1'));
      const entry = {
        store: 'lake',
        status: 'completed' as const,
        removed: { clicks: 3 },
        detail: null,
        completed_at: '2026-12-04T10:00:01.000Z',
      };

      // Act
      await store.save(erasure('er_1', { status: 'running', stores: [entry] }));
      const running = await store.get('er_1');
      await store.save(erasure('er_1', { status: 'completed', stores: [entry] }, null));

      // Assess
      expect(running).toEqual(erasure('er_1', { status: 'running', stores: [entry] }));
      expect(await store.get('er_1')).toEqual(erasure('er_1', { status: 'completed', stores: [entry] }, null));
    });

    it('lists the pending and running erasures, oldest first', async () => {
      // Prepare
      await store.create(erasure('er_b', { requested_at: '2026-12-04T10:00:02.000Z' }));
      await store.create(erasure('er_a', { requested_at: '2026-12-04T10:00:01.000Z', status: 'running' }));
      await store.create(erasure('er_c', { requested_at: '2026-12-04T10:00:00.000Z', status: 'completed' }, null));
      await store.create(erasure('er_d', { requested_at: '2026-12-04T09:00:00.000Z', status: 'failed' }, null));

      // Act
      const unfinished = await store.unfinished();

      // Assess
      expect(unfinished.map((e) => [e.receipt.erasure_id, e.userKey])).toEqual([
        ['er_a', 'u_abc'],
        ['er_b', 'u_abc'],
      ]);
    });
  });
}
