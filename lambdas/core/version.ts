/** The product's version, served in /openapi.json and printed by the CLI. */
export const VERSION = '0.1.0';
