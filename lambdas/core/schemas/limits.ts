/** The API's bounds (DESIGN.md), shared by the zod schemas and the predict path's validator. */
export const MAX_ID_LENGTH = 128;
export const MAX_FEATURES = 64;
export const MAX_FEATURE_KEY_LENGTH = 64;
export const MAX_FEATURE_STRING_LENGTH = 256;
export const MAX_BATCH = 500;
/** Largest JSON body any route accepts; the artifact upload has its own limit. */
export const MAX_BODY_BYTES = 256 * 1024;

/** 1-128 printable ASCII characters, no space at either end (an id's pattern; its length is bounded apart). */
export const PRINTABLE_ID = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** A feature's name: letters, digits, _ . : - and a letter or _ first. */
export const FEATURE_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;
