import type { FraudRulesConfig } from './config.js';
import type { ClickRecord } from './flags.js';
import { medianInPlace, sigmoid, upperCritical } from './stats.js';

/** What the peers say is normal, re-estimated every `siteRefreshEvents` events. */
interface PeerModel {
  /** Robust centre (median) and between-site variance of the peers' CTR log-odds. */
  readonly mu: number;
  readonly tau2: number;
  readonly zCritical: number;
  readonly peers: number;
}

export interface SiteVerdict {
  readonly impressions: number;
  readonly clicks: number;
  readonly ctr: number;
  /** The CTR of a typical peer (the median log-odds). */
  readonly peerCtr: number;
  readonly z: number;
  readonly zCritical: number;
  readonly outlier: boolean;
}

/**
 * Impressions and clicks per site over a sliding window of `siteBuckets` × `siteBucketMs` (event
 * time), and the test that says whether a site's CTR is far above its peers'.
 *
 * The test is a random-effects one, because honest sites differ: their CTRs vary with audience
 * and placement, and with enough impressions a plain test of "this site's CTR equals the pooled
 * CTR" rejects for every honest site a little above average. So the peers' log-odds
 * y = logit(CTR) give a robust centre μ (median) and a between-site variance τ² (MAD² × 1.4826²
 * minus the median sampling variance), and a site with sampling variance v is judged by
 *
 *     z = (y − μ) / √(τ² + v),
 *
 * flagged when z exceeds the Bonferroni-corrected critical value for the number of sites judged.
 * A site needs `siteMinImpressions` and `siteMinClicks`, and the test needs `siteMinPeers` other
 * sites with enough impressions, before anything is said.
 */
export class SiteCtr {
  private readonly index = new Map<string, number>();
  private readonly names: (string | null)[] = [];
  private readonly free: number[] = [];
  private readonly imps: Float64Array;
  private readonly clicks: Float64Array;
  private readonly totalImps: Float64Array;
  private readonly totalClicks: Float64Array;
  private readonly outlier: Uint8Array;
  /** A ring of the most recent counted clicks, all sites together. */
  private readonly recent: (ClickRecord | undefined)[];
  private recentNext = 0;
  private readonly scratchY: Float64Array;
  private readonly scratchV: Float64Array;
  private readonly b: number;
  private bucket = Number.NaN;
  private model: PeerModel | null = null;
  private untrackedCount = 0;

  constructor(private readonly config: FraudRulesConfig) {
    this.b = config.siteBuckets;
    this.imps = new Float64Array(config.maxSites * this.b);
    this.clicks = new Float64Array(config.maxSites * this.b);
    this.totalImps = new Float64Array(config.maxSites);
    this.totalClicks = new Float64Array(config.maxSites);
    this.outlier = new Uint8Array(config.maxSites);
    this.scratchY = new Float64Array(config.maxSites);
    this.scratchV = new Float64Array(config.maxSites);
    this.recent = new Array(config.recentClicks);
  }

  /** Sites with traffic in the window. */
  get tracked(): number {
    return this.index.size;
  }

  /** Impressions of sites that found no free place (more than `maxSites` at once). */
  get untracked(): number {
    return this.untrackedCount;
  }

  /** The peers' model, null until enough sites have enough impressions. */
  peerModel(): PeerModel | null {
    return this.model;
  }

  /** The site's slot, taking a free one for a new site; -1 when every place is taken. */
  slotOf(siteId: string): number {
    const known = this.index.get(siteId);
    if (known !== undefined) return known;
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.names.length >= this.config.maxSites) {
        this.untrackedCount++;
        return -1;
      }
      slot = this.names.length;
      this.names.push(null);
    }
    this.names[slot] = siteId;
    this.index.set(siteId, slot);
    return slot;
  }

  nameOf(site: number): string | null {
    return this.names[site] ?? null;
  }

  /** Moves the window to `nowMs` (the newest event time); true when buckets were retired. */
  advance(nowMs: number): boolean {
    const current = Math.floor(nowMs / this.config.siteBucketMs);
    if (Number.isNaN(this.bucket)) {
      this.bucket = current;
      return false;
    }
    if (current <= this.bucket) return false;
    const steps = Math.min(current - this.bucket, this.b);
    for (let k = 1; k <= steps; k++) this.clearBucket((this.bucket + k) % this.b);
    this.bucket = current;
    this.releaseIdle();
    return true;
  }

  addImpression(site: number, atMs: number): void {
    const abs = Math.floor(atMs / this.config.siteBucketMs);
    if (!this.live(abs)) return;
    this.imps[site * this.b + (abs % this.b)]!++;
    this.totalImps[site]!++;
  }

  /** Counts a click on the site; false when its time is outside the window. */
  addClick(site: number, click: ClickRecord): boolean {
    const abs = Math.floor(click.atMs / this.config.siteBucketMs);
    if (!this.live(abs)) return false;
    this.clicks[site * this.b + (abs % this.b)]!++;
    this.totalClicks[site]!++;
    click.site = site;
    click.siteBucket = abs;
    const ring = this.recent;
    if (ring.length > 0) {
      ring[this.recentNext] = click;
      this.recentNext = this.recentNext + 1 === ring.length ? 0 : this.recentNext + 1;
    }
    return true;
  }

  /** Takes back a counted click (flagged by another rule: it is not the site's honest CTR). */
  removeClick(click: ClickRecord): void {
    if (click.siteBucket < 0) return;
    if (this.live(click.siteBucket)) {
      this.clicks[click.site * this.b + (click.siteBucket % this.b)]!--;
      this.totalClicks[click.site]!--;
    }
    click.siteBucket = -1;
  }

  /** Re-estimates the peers' centre and spread from every site with enough impressions. */
  refresh(): void {
    const { siteMinImpressions, siteMinPeers, siteFamilyAlpha } = this.config;
    const ys = this.scratchY;
    const vs = this.scratchV;
    let n = 0;
    for (let s = 0; s < this.names.length; s++) {
      const imps = this.totalImps[s]!;
      if (this.names[s] === null || imps < siteMinImpressions) continue;
      const clicks = this.totalClicks[s]!;
      ys[n] = Math.log((clicks + 0.5) / (imps - clicks + 0.5));
      vs[n] = 1 / (clicks + 0.5) + 1 / (imps - clicks + 0.5);
      n++;
    }
    if (n < siteMinPeers + 1) {
      this.model = null;
      return;
    }
    const medianV = medianInPlace(vs, n);
    const mu = medianInPlace(ys, n);
    for (let i = 0; i < n; i++) ys[i] = Math.abs(ys[i]! - mu);
    const spread = 1.4826 * medianInPlace(ys, n);
    this.model = {
      mu,
      tau2: Math.max(0, spread * spread - medianV),
      zCritical: upperCritical(siteFamilyAlpha / n),
      peers: n,
    };
  }

  /** The site's standing against its peers, or null while the evidence is short. */
  judge(site: number): SiteVerdict | null {
    const model = this.model;
    if (model === null) return null;
    const imps = this.totalImps[site]!;
    const clicks = this.totalClicks[site]!;
    if (imps < this.config.siteMinImpressions || clicks < this.config.siteMinClicks) return null;
    const y = Math.log((clicks + 0.5) / (imps - clicks + 0.5));
    const v = 1 / (clicks + 0.5) + 1 / (imps - clicks + 0.5);
    const z = (y - model.mu) / Math.sqrt(model.tau2 + v);
    return {
      impressions: imps,
      clicks,
      ctr: clicks / imps,
      peerCtr: sigmoid(model.mu),
      z,
      zCritical: model.zCritical,
      outlier: z >= model.zCritical,
    };
  }

  /**
   * Records whether the site is an outlier now; when it has just become one, returns its clicks
   * still counted in the window among the recent ones (to be flagged too), else null.
   */
  setOutlier(site: number, outlier: boolean): readonly ClickRecord[] | null {
    const was = this.outlier[site] === 1;
    this.outlier[site] = outlier ? 1 : 0;
    if (!outlier || was) return null;
    const clicks: ClickRecord[] = [];
    for (const click of this.recent) {
      if (click !== undefined && click.site === site && click.siteBucket >= 0 && this.live(click.siteBucket)) {
        clicks.push(click);
      }
    }
    return clicks;
  }

  private live(abs: number): boolean {
    return abs <= this.bucket && abs > this.bucket - this.b;
  }

  private clearBucket(bucket: number): void {
    const b = this.b;
    for (let s = 0; s < this.names.length; s++) {
      const i = s * b + bucket;
      this.totalImps[s]! -= this.imps[i]!;
      this.totalClicks[s]! -= this.clicks[i]!;
      this.imps[i] = 0;
      this.clicks[i] = 0;
    }
  }

  private releaseIdle(): void {
    for (let s = 0; s < this.names.length; s++) {
      const name = this.names[s];
      if (name === null || name === undefined || this.totalImps[s]! > 0 || this.totalClicks[s]! > 0) continue;
      this.index.delete(name);
      this.names[s] = null;
      this.outlier[s] = 0;
      this.free.push(s);
    }
  }
}
