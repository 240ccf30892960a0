import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, where the Dockerfiles' build context and the scripts are. */
export const REPOSITORY_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
