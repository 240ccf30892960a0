import { createHash, timingSafeEqual } from 'node:crypto';
import type { Access } from '../core/api/route.js';
import { UnauthorizedError } from '../core/errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time membership: compares digests so neither length nor prefix leaks through timing. */
function anyEqual(candidate: string, secrets: readonly Buffer[]): boolean {
  const d = digest(candidate);
  let found = false;
  for (const s of secrets) found = timingSafeEqual(d, s) || found;
  return found;
}

export interface AccessPolicy {
  /** API keys for ad-server routes; empty means none are required (loopback only). */
  readonly apiKeys: readonly string[];
  readonly adminToken: string;
}

/**
 * DESIGN.md "Access" for the local server: ad-server routes take `x-api-key` when keys are
 * configured, admin routes a bearer token; open routes take nothing.
 */
export class AccessControl {
  private readonly keys: Buffer[];
  private readonly admin: Buffer[];

  constructor(policy: AccessPolicy) {
    this.keys = policy.apiKeys.map(digest);
    this.admin = [digest(policy.adminToken)];
  }

  check(access: Access, headers: Readonly<Record<string, string | string[] | undefined>>): void {
    if (access === 'open') return;
    if (access === 'ad-server') {
      if (this.keys.length === 0) return;
      const key = headers['x-api-key'];
      if (typeof key !== 'string' || !anyEqual(key, this.keys)) {
        throw new UnauthorizedError('This route needs a valid API key in the x-api-key header.');
      }
      return;
    }
    const auth = headers.authorization;
    const token = typeof auth === 'string' && /^Bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    if (token === undefined || !anyEqual(token, this.admin)) {
      throw new UnauthorizedError('Admin routes need the admin token: Authorization: Bearer <ADCLICK_ADMIN_TOKEN>.');
    }
  }
}
