import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { PSEUDONYMISATION_KEY_BYTES as KEY_BYTES } from '../shared/pseudonymiser.js';

/**
 * Reads the HMAC key from `file`, creating it with mode 0600 on first use. Creation is
 * exclusive (O_EXCL), so two processes starting at once agree on one key.
 */
export function loadOrCreateKey(file: string): Buffer {
  try {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      const key = randomBytes(KEY_BYTES);
      writeSync(fd, key.toString('hex'));
      return key;
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (key.length !== KEY_BYTES) throw new Error(`The pseudonymisation key in ${file} is not ${KEY_BYTES} hex bytes.`);
  return key;
}
