/** Response descriptions shared by the route tables (OpenAPI documents them; problem+json carries them). */
export const problem = (description: string) => ({ description });
export const BAD = { 400: problem('Invalid input (problem+json names each field).') };
export const ADMIN = { 401: problem('Missing or wrong bearer token.') };
export const AD_SERVER = { 401: problem('Missing or unknown API key.') };
