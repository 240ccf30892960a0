import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  call,
  impressionLoad,
  lakeIdCounts,
  lakeTablesWithFiles,
  type ServerProcess,
  spawnServer,
  stopHard,
  type TempDir,
  tempDir,
  timestampIn,
  waitFor,
} from '../support/e2e-server.js';
import { reportCounts } from '../support/reliability-report.js';

/** Predictions from `workers` loops until stopped; records each prediction_id served with a 200. */
function predictionLoad(base: string, workers: number): { acked: Set<string>; stop(): Promise<void> } {
  const acked = new Set<string>();
  let stopped = false;
  let n = 0;
  const loop = async () => {
    while (!stopped) {
      try {
        const k = n++;
        const res = await call(base, 'POST', '/predict', {
          body: { user_id: `crash-user-${k % 50}`, ad_id: `ad-${k % 7}`, request_id: `crash-req-${k}` },
        });
        if (res.status === 200) acked.add(res.json.prediction_id);
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  const running = Promise.all(Array.from({ length: workers }, loop));
  return {
    acked,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

/** Acknowledged impressions before the kill: enough that the group commit is busy when it lands. */
const ACKED_BEFORE_KILL = 3_000;

describe('the server killed with SIGKILL under load', () => {
  let dir: TempDir;
  let first: ServerProcess | undefined;
  let second: ServerProcess | undefined;

  beforeAll(async () => {
    dir = await tempDir('crash');
  });

  afterAll(async () => {
    await stopHard(first);
    await stopHard(second);
    await dir?.cleanup();
  });

  it('keeps every acknowledged impression and prediction, exactly once in the lake, after a restart', async () => {
    // Prepare: a server under concurrent single and batch impressions, and predictions
    first = await spawnServer(dir.path, { ADCLICK_LOG_LEVEL: 'warn' });
    const load = impressionLoad(first.url, { prefix: 'crash-imp', workers: 8, batchSize: 25 });
    const predictions = predictionLoad(first.url, 2);
    // ... long enough that a first segment was sealed and compacted (it seals at 10 s)
    let compacted = false;
    const poll = setInterval(() => {
      void lakeTablesWithFiles(dir.path).then((tables) => {
        compacted ||= tables.includes('ad_impressions');
      });
    }, 200);
    try {
      await waitFor(
        () => load.acked.size >= ACKED_BEFORE_KILL && compacted,
        `${ACKED_BEFORE_KILL} acknowledged impressions and a first compaction`,
      );
    } finally {
      clearInterval(poll);
    }

    // Act: kill it mid-load, restart it on the same data dir, replay some acknowledged ids, stop it
    first.killHard();
    const killed = await first.exited;
    await load.stop();
    await predictions.stop();
    const acked = [...load.acked];
    second = await spawnServer(dir.path, { ADCLICK_LOG_LEVEL: 'warn' });
    const replayIds = acked.filter((_, i) => i % 97 === 0);
    const replays = await Promise.all(
      replayIds.map((impression_id) =>
        call(second!.url, 'POST', '/event/impression', {
          body: { impression_id, user_id: 'load-user-0', ad_id: 'ad-0', timestamp: timestampIn(0) },
        }),
      ),
    );
    second.terminate();
    const stopped = await second.exited;

    const counts = await lakeIdCounts(dir.path, 'ad_impressions', 'impression_id');
    const missing = acked.filter((id) => !counts.has(id));
    const doubled = [...counts].filter(([, n]) => n !== 1).map(([id, n]) => `${id}×${n}`);
    const predicted = await lakeIdCounts(dir.path, 'model_predictions', 'prediction_id');
    const lostPredictions = [...predictions.acked].filter((id) => predicted.get(id) !== 1);
    reportCounts('kill -9', {
      faults_injected: 1,
      events_acknowledged: acked.length,
      events_stored: acked.filter((id) => counts.has(id)).length,
      events_lost: missing.length,
      events_doubled: doubled.length,
      replays_after_restart: replays.length,
      predictions_acknowledged: predictions.acked.size,
      predictions_stored: [...predictions.acked].filter((id) => predicted.has(id)).length,
      predictions_lost: [...predictions.acked].filter((id) => !predicted.has(id)).length,
      predictions_doubled: [...predicted.values()].filter((n) => n > 1).length,
    });

    // Assess
    expect(killed.signal).toBe('SIGKILL');
    expect(load.unexpected).toEqual([]);
    expect(stopped.code).toBe(0);
    expect(replays.map((r) => r.status)).toEqual(replayIds.map(() => 202));
    expect(replays.filter((r) => r.json.status !== 'duplicate').map((r) => r.json.id)).toEqual([]);
    expect(missing, `${missing.length} of ${acked.length} acknowledged impressions are missing`).toEqual([]);
    expect(doubled).toEqual([]);
    expect(predictions.acked.size).toBeGreaterThan(0);
    expect(lostPredictions, `of ${predictions.acked.size} predictions served`).toEqual([]);
  });
});
