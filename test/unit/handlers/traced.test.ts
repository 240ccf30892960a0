import { Tracer } from '@aws-lambda-powertools/tracer';
import { describe, expect, it, vi } from 'vitest';
import { traced } from '../../../lambdas/handlers/observability.js';

describe('traced', () => {
  it('runs the work in a subsegment named for the handler and closes it, restoring the parent', async () => {
    // Prepare
    const tracer = new Tracer({ serviceName: 'adclick-test', enabled: true });
    const subsegment = { close: vi.fn() };
    const parent = { addNewSubsegment: vi.fn(() => subsegment) };
    vi.spyOn(tracer, 'isTracingEnabled').mockReturnValue(true);
    vi.spyOn(tracer, 'getSegment').mockReturnValue(parent as never);
    const setSegment = vi.spyOn(tracer, 'setSegment').mockImplementation(() => {});
    vi.spyOn(tracer, 'annotateColdStart').mockImplementation(() => {});
    vi.spyOn(tracer, 'addServiceNameAnnotation').mockImplementation(() => {});

    // Act
    const result = await traced(tracer, 'api', async () => 42);

    // Assess
    expect(result).toBe(42);
    expect(parent.addNewSubsegment).toHaveBeenCalledWith('## api');
    expect(subsegment.close).toHaveBeenCalledOnce();
    expect(setSegment.mock.calls.map(([s]) => s)).toEqual([subsegment, parent]);
  });

  it('records a failure as metadata and rethrows it, still closing the subsegment', async () => {
    // Prepare
    const tracer = new Tracer({ serviceName: 'adclick-test' });
    const subsegment = { close: vi.fn() };
    vi.spyOn(tracer, 'isTracingEnabled').mockReturnValue(true);
    vi.spyOn(tracer, 'getSegment').mockReturnValue({ addNewSubsegment: () => subsegment } as never);
    vi.spyOn(tracer, 'setSegment').mockImplementation(() => {});
    vi.spyOn(tracer, 'annotateColdStart').mockImplementation(() => {});
    vi.spyOn(tracer, 'addServiceNameAnnotation').mockImplementation(() => {});
    const addError = vi.spyOn(tracer, 'addErrorAsMetadata').mockImplementation(() => {});

    // Act
    const run = traced(tracer, 'api', async () => {
      throw new Error('boom');
    });

    // Assess
    await expect(run).rejects.toThrow('boom');
    expect(addError).toHaveBeenCalledOnce();
    expect(subsegment.close).toHaveBeenCalledOnce();
  });

  it('only runs the work when tracing is disabled (outside Lambda)', async () => {
    const tracer = new Tracer({ serviceName: 'adclick-test' });
    const getSegment = vi.spyOn(tracer, 'getSegment');

    expect(await traced(tracer, 'api', async () => 'done')).toBe('done');
    expect(getSegment).not.toHaveBeenCalled();
  });
});
