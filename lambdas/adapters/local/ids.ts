import { createHash, randomBytes } from 'node:crypto';
import type { Clock, IdGenerator } from '../../core/ports.js';

export const systemClock: Clock = { now: () => new Date() };

/**
 * UUIDv7-style ids (48-bit millisecond time, then randomness): unique, and ordered by time so
 * they index and partition well. Derived ids hash the key instead, for idempotency.
 */
export class TimeOrderedIds implements IdGenerator {
  private pool = Buffer.alloc(0);
  private offset = 0;

  constructor(private readonly clock: Clock) {}

  private random10(): Buffer {
    if (this.offset + 10 > this.pool.length) {
      this.pool = randomBytes(10 * 1024);
      this.offset = 0;
    }
    const out = this.pool.subarray(this.offset, this.offset + 10);
    this.offset += 10;
    return out;
  }

  next(prefix: string): string {
    const bytes = Buffer.alloc(16);
    bytes.writeUIntBE(this.clock.now().getTime(), 0, 6);
    this.random10().copy(bytes, 6);
    bytes[6] = (bytes[6]! & 0x0f) | 0x70;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    return `${prefix}_${format(bytes)}`;
  }

  derive(prefix: string, key: string): string {
    const bytes = createHash('sha256').update(prefix).update('\u0000').update(key).digest().subarray(0, 16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x80;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    return `${prefix}_${format(bytes)}`;
  }
}

function format(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
