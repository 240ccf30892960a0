import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from '../../../lambdas/adapters/shared/hmac-sha256.js';
import { HmacPseudonymiser } from '../../../lambdas/adapters/shared/pseudonymiser.js';

const reference = (key: Uint8Array, message: string) => createHmac('sha256', key).update(message, 'utf8').digest('hex');

function ours(mac: HmacSha256, message: string): string {
  const out = Buffer.alloc(32);
  mac.digestInto(message, out);
  return out.toString('hex');
}

describe('HmacSha256', () => {
  it('matches the RFC 4231 test case 2 (a short key, "what do ya want for nothing?")', () => {
    // Prepare
    const mac = new HmacSha256(Buffer.from('Jefe'));

    // Act
    const digest = ours(mac, 'what do ya want for nothing?');

    // Assess
    expect(digest).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('equals node:crypto for any key and message, across block boundaries and in any script', () => {
    // Prepare: messages from empty to several blocks, ASCII or not (lone surrogates included,
    // which both sides encode as U+FFFD); keys shorter and longer than a block.
    const message = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.integer({ min: 0, max: 130 }).map((n) => 'x'.repeat(n)),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 100 }),
        fc.array(message, { maxLength: 5 }),
        (key, messages) => {
          const mac = new HmacSha256(key);
          // Act / Assess: one instance over several messages, as the pseudonymiser uses it.
          for (const m of messages) expect(ours(mac, m)).toBe(reference(key, m));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('gives the 55- and 56-byte messages (where the padding spills into a second block) their correct MACs', () => {
    // Prepare
    const key = Buffer.alloc(32, 7);
    const mac = new HmacSha256(key);

    // Act / Assess
    for (let n = 50; n <= 70; n++) expect(ours(mac, 'a'.repeat(n))).toBe(reference(key, 'a'.repeat(n)));
  });
});

describe('HmacPseudonymiser pseudonyms', () => {
  it('are the kind prefix and the first 22 base64url characters of HMAC(kind NUL value)', () => {
    // Prepare
    const key = Buffer.alloc(32, 3);
    const p = new HmacPseudonymiser(key);
    const expected = (kind: string, value: string) =>
      createHmac('sha256', key).update(`${kind}\u0000${value}`).digest('base64url').slice(0, 22);

    // Act / Assess: users (cached) and IPs (not), twice each so a cache hit is checked too.
    for (const round of [1, 2]) {
      for (const v of ['alice', 'user_000042', '10.1.2.3', '2001:db8::1', 'ünïcødé-用户']) {
        expect(p.pseudonymise('user', v), `round ${round}`).toBe(`u_${expected('user', v)}`);
        expect(p.pseudonymise('ip', v), `round ${round}`).toBe(`ip_${expected('ip', v)}`);
      }
    }
  });
});
