import type { GateReport } from './api-types.js';

/** An RFC 9457 problem document as the API writes it; `gate` comes with a refused activation. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly errors?: readonly { path: string; message: string }[];
  readonly gate?: GateReport;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? problem?.title ?? `The API answered ${status}.`);
  }
}

export type Query = Readonly<Record<string, string | undefined>>;

/**
 * Same-origin calls to the API with the page's credentials: the admin token as a bearer token,
 * or nothing when `adclick dashboard` signs them. The marker header tells that proxy the call
 * comes from its own page (a cross-site form cannot set it without a CORS preflight it refuses).
 */
export class ApiClient {
  constructor(private readonly token: () => string | null) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, v);
    const qs = params.toString();
    return this.send<T>('GET', qs ? `${path}?${qs}` : path);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('PUT', path, body);
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', 'x-adclick-dashboard': '1' };
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    if (!res.ok) throw new ApiError(res.status, json as Problem | null);
    return json as T;
  }
}
