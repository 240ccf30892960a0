/**
 * The predict handler's own cost per warm request: the same POST /predict through `createPredictHandler`
 * (event → request, route, body checks, zod validation, the use case, problem mapping, proxy
 * result) and straight into `app.predict.predict` over the same in-memory App, in the same
 * process, taking turns. The difference is what the handler adds to the use case.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { powertoolsMetrics } from '../../lambdas/handlers/observability.js';
import { createPredictHandler } from '../../lambdas/handlers/predict.js';
import { makeApp } from '../../test/support/memory-ports.js';
import { apiEvent, lambdaContext, withBody } from '../../test/unit/handlers/api-gateway-events.js';
import { percentile } from '../support.js';

export interface OverheadOptions {
  /** Measured rounds; each times a block of calls of every variant. */
  readonly rounds: number;
  readonly callsPerRound: number;
  /** Unmeasured calls of every variant first (JIT, caches). */
  readonly warmupCalls: number;
}

export interface OverheadResult {
  /** Median over rounds of the mean µs a call. */
  readonly directUs: number;
  readonly handlerUs: number;
  readonly handlerEmfUs: number;
  /** Median over rounds of (handler − direct) in the same round, µs a call. */
  readonly overheadUs: number;
  readonly overheadEmfUs: number;
  readonly overheadEmfP90Us: number;
  /** Bytes of EMF (metrics) output a request, written to a counter instead of stdout. */
  readonly emfBytesPerCall: number;
  readonly calls: number;
}

const USER = 'u_42';
const AD = 'ad_7';

type Variant = 'direct' | 'handler' | 'handlerEmf';

export async function measureOverhead(options: OverheadOptions): Promise<OverheadResult> {
  const { app } = makeApp();
  // One logger for both handlers at Powertools' default level: a served request logs nothing.
  const logger = new PowertoolsLogger({ serviceName: 'adclick-predict' });
  const handler = createPredictHandler({ logger, compose: () => app });
  const handlerEmf = createPredictHandler({
    logger,
    metrics: powertoolsMetrics(new Metrics({ serviceName: 'adclick-predict', namespace: 'adclick-bench' })),
    compose: () => app,
  });
  const context = lambdaContext();
  const base = apiEvent('post-predict.json');

  // Every request is new (its own request_id), as an ad server's are: the idempotent replay path
  // would skip the scoring and the write.
  let serial = 0;
  const nextId = (v: Variant) => `r_${v}_${++serial}`;
  const events = (v: Variant, n: number): APIGatewayProxyEvent[] =>
    Array.from({ length: n }, () =>
      withBody(base, JSON.stringify({ user_id: USER, ad_id: AD, request_id: nextId(v) })),
    );
  const inputs = (n: number) =>
    Array.from({ length: n }, () => ({ user_id: USER, ad_id: AD, request_id: nextId('direct') }));

  const run = async (v: Variant, n: number): Promise<number> => {
    if (v === 'direct') {
      const batch = inputs(n);
      const t0 = performance.now();
      for (const input of batch) await app.predict.predict(input);
      return performance.now() - t0;
    }
    const h = v === 'handler' ? handler : handlerEmf;
    const batch = events(v, n);
    let failed: number | undefined;
    const t0 = performance.now();
    for (const event of batch) {
      const result = await h(event, context);
      if (result.statusCode !== 200) failed = result.statusCode;
    }
    const elapsed = performance.now() - t0;
    if (failed !== undefined) throw new Error(`the ${v} answered POST /predict with ${failed}, not 200`);
    return elapsed;
  };

  // Powertools Metrics writes its EMF line to process.stdout; count it rather than print it.
  const stdoutWrite = process.stdout.write;
  let emfBytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    emfBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return true;
  }) as typeof process.stdout.write;
  const perRound: Record<Variant, number[]> = { direct: [], handler: [], handlerEmf: [] };
  let emfDuringMeasure = 0;
  try {
    for (const v of ['direct', 'handler', 'handlerEmf'] as const) await run(v, options.warmupCalls);
    const order: Variant[][] = [
      ['direct', 'handler', 'handlerEmf'],
      ['handlerEmf', 'handler', 'direct'],
    ];
    for (let round = 0; round < options.rounds; round++) {
      for (const v of order[round % 2]!) {
        const before = emfBytes;
        const ms = await run(v, options.callsPerRound);
        if (v === 'handlerEmf') emfDuringMeasure += emfBytes - before;
        perRound[v].push((ms * 1000) / options.callsPerRound);
      }
    }
  } finally {
    process.stdout.write = stdoutWrite;
  }

  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  const diffs = (v: Variant) => perRound[v].map((us, i) => us - perRound.direct[i]!).sort((a, b) => a - b);
  const emfDiffs = diffs('handlerEmf');
  return {
    directUs: median(perRound.direct),
    handlerUs: median(perRound.handler),
    handlerEmfUs: median(perRound.handlerEmf),
    overheadUs: percentile(diffs('handler'), 50),
    overheadEmfUs: percentile(emfDiffs, 50),
    overheadEmfP90Us: percentile(emfDiffs, 90),
    emfBytesPerCall: emfDuringMeasure / (options.rounds * options.callsPerRound),
    calls: options.rounds * options.callsPerRound * 3,
  };
}
