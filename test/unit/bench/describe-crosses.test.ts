import { describe, expect, it } from 'vitest';
import { describeCrosses } from '../../../bench/model.js';

describe('the model benchmark line on cross selection', () => {
  it('names the pairs chosen and what the held-out rows decided', () => {
    // Prepare
    const crosses = {
      screened: [{ cross: 'user_segment&ad_category' }, { cross: 'device_type&site_id' }],
      decision: { held_out: { rows: 20_000, gain: 0.00068, se: 0.00027 }, kept: true },
    };

    // Act
    const line = describeCrosses(crosses);

    // Assess
    expect(line).toBe(
      'chose user_segment × ad_category, device_type × site_id; kept on 20,000 held-out rows (gain +0.00068 ± 0.00027)',
    );
  });

  it('says when the held-out rows refused them, and when nothing was chosen', () => {
    // Act
    const refused = describeCrosses({
      screened: [{ cross: 'I5&C18' }],
      decision: { held_out: { rows: 800, gain: -0.00027, se: 0.0003 }, kept: false },
    });

    // Assess
    expect(refused).toBe('chose I5 × C18; refused on 800 held-out rows (gain −0.00027 ± 0.00030)');
    expect(describeCrosses({ screened: [], decision: null })).toBe('none chosen');
    expect(describeCrosses(undefined)).toBe('none chosen');
  });
});
