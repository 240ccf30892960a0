import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';

/**
 * The admin token: ADCLICK_ADMIN_TOKEN if set, else the one in `<data>/admin-token`, created at
 * first start with mode 0600. `created` tells the caller to print it, once.
 */
export function resolveAdminToken(fromEnv: string | undefined, file: string): { token: string; created: boolean } {
  if (fromEnv) return { token: fromEnv, created: false };
  try {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      const token = randomBytes(24).toString('base64url');
      writeSync(fd, `${token}\n`);
      return { token, created: true };
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { token: readFileSync(file, 'utf8').trim(), created: false };
}
