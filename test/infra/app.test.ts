/**
 * The whole app, every stage: it builds offline, every stack is there with its stage's name, and
 * cdk-nag (AWS Solutions + Serverless) reports no unacknowledged finding.
 */
import { describe, expect, it } from 'vitest';
import { STAGES, type StageName, stageConfig } from '../../lib/config.js';
import { nagFindings, synthStage } from './support/synth.js';

const stages = Object.keys(STAGES) as StageName[];

describe.each(stages)('the %s stage', (stage) => {
  it('has the five stacks, stateful ones first', () => {
    // Act
    const { stacks } = synthStage(stage);

    // Assess
    expect(Object.values(stacks).map((s) => s.stackName)).toEqual(
      ['data', 'state', 'ml', 'serving', 'monitoring'].map((p) => `adclick-${stage}-${p}`),
    );
  });

  it('has no unacknowledged cdk-nag finding', () => {
    // Act
    const findings = nagFindings(synthStage(stage));

    // Assess: listed in full, so a failure says what to fix or acknowledge where
    expect(findings.map((f) => `${f.rule} at ${f.resource}: ${f.description}`)).toEqual([]);
  });
});

describe('stage selection', () => {
  it('defaults to dev and refuses an unknown stage by name', () => {
    expect(stageConfig(undefined).stage).toBe('dev');
    expect(() => stageConfig('staging')).toThrow(/Unknown stage "staging".*stage=prod/);
  });
});
