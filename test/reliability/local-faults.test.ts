/**
 * The local server under load while its event log's disk fails: first full (every write ENOSPC),
 * then failing fsyncs (EIO, every other one). The faults are injected in the filesystem write path of this
 * process (node's FileHandle write and datasync, which the durable event log uses), so no root,
 * tmpfs or hook in the runtime is needed; SQLite (the prediction log) writes through its own
 * native I/O and is not disturbed. ADCLICK_FAULT_LOAD_MS sets how long each phase of load lasts.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../lambdas/server/local-runtime.js';
import { call, lakeIdCounts, startInProcess, type TempDir, tempDir, timestampIn } from '../support/e2e-server.js';
import { envCount, reportCounts } from '../support/reliability-report.js';

const PHASE_MS = envCount('ADCLICK_FAULT_LOAD_MS', 1_500);
const WORKERS = 6;

type Fault = 'none' | 'disk-full' | 'fsync-fails';

/** Makes this process's FileHandle writes fail while a fault is on; counts the failures it caused. */
async function diskFaults(scratch: string) {
  const fh = await open(join(scratch, 'probe'), 'w');
  const proto = Object.getPrototypeOf(fh) as {
    write: (...args: unknown[]) => Promise<unknown>;
    datasync: () => Promise<void>;
  };
  await fh.close();
  const { write, datasync } = proto;
  const state = { fault: 'none' as Fault, injected: 0 };
  const fail = (code: string, syscall: string) => {
    state.injected++;
    return Promise.reject(
      Object.assign(new Error(`${code}: injected, ${syscall}`), { code, syscall, errno: code === 'ENOSPC' ? -28 : -5 }),
    );
  };
  proto.write = function (this: unknown, ...args: unknown[]) {
    return state.fault === 'disk-full' ? fail('ENOSPC', 'write') : write.apply(this, args);
  };
  // Every other fdatasync fails: the write's own, not the one that makes its undo durable (were
  // that one to fail too, the log would refuse appends until a restart: see docs/decisions.md).
  let syncs = 0;
  proto.datasync = function (this: unknown) {
    return state.fault === 'fsync-fails' && syncs++ % 2 === 0 ? fail('EIO', 'fdatasync') : datasync.apply(this);
  };
  return {
    state,
    restore: () => {
      proto.write = write;
      proto.datasync = datasync;
    },
  };
}

describe('the local server while the event log disk is full or failing', () => {
  let dir: TempDir;
  let runtime: LocalRuntime | undefined;
  let faults: Awaited<ReturnType<typeof diskFaults>> | undefined;

  beforeAll(async () => {
    dir = await tempDir('local-faults');
    runtime = await startInProcess(join(dir.path, 'data'));
  });

  afterAll(async () => {
    faults?.restore();
    await runtime?.close();
    await dir?.cleanup();
  });

  it('answers every request with a success or a 503 problem, and keeps every acknowledged event and prediction once', async () => {
    // Prepare: workers sending impressions, batches of clicks and predictions, each id recorded when acknowledged
    const base = runtime!.url;
    faults = await diskFaults(dir.path);
    const ackedEvents = new Set<string>();
    const refusedEvents = new Map<string, Record<string, unknown>>();
    const ackedPredictions = new Set<string>();
    const unexpected: string[] = [];
    const statuses = new Map<string, number>();
    let requests = 0;
    let next = 0;
    let stopped = false;
    const note = (status: number, text: string) => {
      requests++;
      const key = `${Math.floor(status / 100)}xx`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (status >= 300 && status !== 503) unexpected.push(`${status} ${text.slice(0, 200)}`);
    };
    const isProblem503 = (res: Awaited<ReturnType<typeof call>>) =>
      res.status === 503 &&
      res.headers.get('content-type')?.includes('application/problem+json') === true &&
      res.json?.status === 503;
    const impression = (n: number) => ({
      impression_id: `lf-imp-${n}`,
      user_id: `lf-user-${n % 40}`,
      ad_id: `ad-${n % 5}`,
      timestamp: timestampIn(0),
    });
    const worker = async (w: number) => {
      for (let round = 0; !stopped; round++) {
        const n = next++;
        const kind = (round + w) % 3;
        if (kind === 0) {
          const body = impression(n);
          const res = await call(base, 'POST', '/event/impression', { body });
          note(res.status, res.text);
          if (res.status === 202) ackedEvents.add(body.impression_id);
          else if (isProblem503(res)) refusedEvents.set(body.impression_id, body);
          else unexpected.push(`impression: ${res.status} ${res.text.slice(0, 200)}`);
        } else if (kind === 1) {
          const events = Array.from({ length: 10 }, (_, i) => ({
            type: 'impression',
            ...impression(n * 100 + i + 1e7),
          }));
          const res = await call(base, 'POST', '/event/batch', { body: { events } });
          note(res.status, res.text);
          if (res.status === 200) {
            for (const r of res.json.results as { index: number; status: string }[]) {
              if (r.status === 'accepted' || r.status === 'duplicate') ackedEvents.add(events[r.index]!.impression_id);
              else unexpected.push(`batch result ${JSON.stringify(r)}`);
            }
          } else if (isProblem503(res)) {
            for (const { type: _type, ...e } of events) refusedEvents.set(e.impression_id, e);
          } else unexpected.push(`batch: ${res.status} ${res.text.slice(0, 200)}`);
        } else {
          const res = await call(base, 'POST', '/predict', {
            body: { user_id: `lf-user-${n % 40}`, ad_id: `ad-${n % 5}`, request_id: `lf-req-${n}` },
          });
          note(res.status, res.text);
          if (res.status === 200) ackedPredictions.add(res.json.prediction_id);
          else if (!isProblem503(res)) unexpected.push(`predict: ${res.status} ${res.text.slice(0, 200)}`);
        }
      }
    };
    const phase = (fault: Fault) =>
      new Promise<void>((done) => {
        faults!.state.fault = fault;
        setTimeout(done, PHASE_MS);
      });

    // Act: healthy, disk full, healthy, fsync failing, healthy; then the refused events again
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    for (const fault of ['none', 'disk-full', 'none', 'fsync-fails', 'none'] as const) await phase(fault);
    faults.state.fault = 'none';
    stopped = true;
    await load;
    const refusedDuringFaults = refusedEvents.size;
    const retries = [...refusedEvents.values()];
    // As a client would retry: a few at a time (thousands of connections at once overflow the
    // listen backlog of a loaded machine and time out before the server is asked).
    let cursor = 0;
    const retriedStatuses: unknown[] = [];
    const retrier = async () => {
      for (let i = cursor++; i < retries.length; i = cursor++) {
        const res = await call(base, 'POST', '/event/impression', { body: retries[i] });
        retriedStatuses[i] = res.json?.status;
        if (res.status === 202) ackedEvents.add(retries[i]!.impression_id as string);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, retrier));
    await runtime!.close();
    const events = await lakeIdCounts(runtime!.dataDir, 'ad_impressions', 'impression_id');
    const predictions = await lakeIdCounts(runtime!.dataDir, 'model_predictions', 'prediction_id');

    // Assess
    const lostEvents = [...ackedEvents].filter((id) => !events.has(id));
    const doubledEvents = [...events].filter(([, n]) => n > 1);
    const lostPredictions = [...ackedPredictions].filter((id) => !predictions.has(id));
    const doubledPredictions = [...predictions].filter(([, n]) => n > 1);
    reportCounts('local faults', {
      requests,
      faults_injected: faults.state.injected,
      refused_503: statuses.get('5xx') ?? 0,
      events_acknowledged: ackedEvents.size,
      events_refused_then_retried: refusedDuringFaults,
      events_stored: [...ackedEvents].filter((id) => events.has(id)).length,
      events_lost: lostEvents.length,
      events_doubled: doubledEvents.length,
      predictions_acknowledged: ackedPredictions.size,
      predictions_stored: [...ackedPredictions].filter((id) => predictions.has(id)).length,
      predictions_lost: lostPredictions.length,
      predictions_doubled: doubledPredictions.length,
    });
    expect(unexpected).toEqual([]);
    expect(faults.state.injected).toBeGreaterThan(0);
    expect(refusedDuringFaults).toBeGreaterThan(0);
    expect(retriedStatuses).toEqual(retries.map(() => 'accepted'));
    expect(lostEvents).toEqual([]);
    expect(doubledEvents).toEqual([]);
    expect(ackedPredictions.size).toBeGreaterThan(0);
    expect(lostPredictions).toEqual([]);
    expect(doubledPredictions).toEqual([]);
  });
});
