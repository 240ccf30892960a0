export type CircuitState = 'closed' | 'open' | 'half-open';

/** Thrown instead of calling the dependency while the circuit is open: it costs no I/O. */
export class CircuitOpenError extends Error {
  constructor(readonly dependency: string) {
    super(`${dependency} circuit is open: not called`);
    this.name = 'CircuitOpenError';
  }
}

export interface CircuitBreakerOptions {
  /** Named in errors and logs. */
  readonly name: string;
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before one probe call is let through. */
  readonly coolDownMs?: number;
  /** Milliseconds since some epoch; injectable so tests do not wait. */
  readonly now?: () => number;
}

/**
 * Closed → open after `failureThreshold` consecutive failures → after `coolDownMs` one call is
 * let through as a probe (half-open): its success closes the circuit, its failure re-opens it for
 * another cool-down. While open, and while a probe is in flight, calls fail at once without
 * touching the dependency, so a dead dependency costs nothing per request.
 */
export class CircuitBreaker {
  readonly name: string;
  private readonly failureThreshold: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;
  private failures = 0;
  private openedAt: number | null = null;
  private probing = false;

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.failureThreshold = Math.max(1, options.failureThreshold ?? 5);
    this.coolDownMs = Math.max(0, options.coolDownMs ?? 1_000);
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.openedAt === null) return 'closed';
    if (this.probing || this.now() - this.openedAt >= this.coolDownMs) return 'half-open';
    return 'open';
  }

  /** Runs `call` unless the circuit is open; rejects with CircuitOpenError when it is. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const probe = this.openedAt !== null;
    if (probe && (this.probing || this.now() - this.openedAt! < this.coolDownMs)) {
      throw new CircuitOpenError(this.name);
    }
    if (probe) this.probing = true;
    try {
      const result = await call();
      this.failures = 0;
      this.openedAt = null;
      return result;
    } catch (err) {
      this.failures++;
      if (probe || this.failures >= this.failureThreshold) this.openedAt = this.now();
      throw err;
    } finally {
      if (probe) this.probing = false;
    }
  }
}
