import { GenerationalMap } from '../collections/generational-map.js';
import type { FraudDetector, FraudEvent, FraudFlag, FraudRule } from '../ports.js';
import { type FraudRulesConfig, resolveFraudRules } from './config.js';
import { type ClickRecord, FlagCollector, round4 } from './flags.js';
import { IdHasher } from './hash.js';
import { RateWindows } from './rate-windows.js';
import { NO_KEY, RecentImpressions } from './recent-impressions.js';
import { SiteCtr } from './site-ctr.js';

export interface FraudDetectorStats {
  readonly impressions: number;
  readonly impressionsRemembered: number;
  readonly impressionsForgotten: number;
  readonly clicks: number;
  /** Clicks that repeated the id of the click already seen on their impression (not fraud). */
  readonly clickReplays: number;
  /** Clicks waiting for their impression, and those that gave up waiting (never matched). */
  readonly clicksWaiting: number;
  readonly clicksUnmatched: number;
  readonly trackedUsers: number;
  readonly trackedIps: number;
  readonly trackedSites: number;
  readonly untrackedSiteImpressions: number;
  readonly flags: Readonly<Record<FraudRule, number>>;
}

/**
 * The click-fraud rules over the event stream, in memory and in event time (see docs/fraud.md):
 *
 * - `user_click_rate`, `ip_click_rate`: more than the limit of clicks by one user / one IP in a
 *   sliding window; every click in the window is flagged, the earlier ones late.
 * - `click_before_impression`, `click_too_fast`: a click timed before its impression, or sooner
 *   after it than `minClickDelayMs`.
 * - `duplicate_click`: a second click id on an impression already clicked. A replay of the same
 *   click id is not fraud (the event log normally drops those before they get here).
 * - `site_ctr_outlier`: a click on a site whose CTR is far above its peers' (SiteCtr); when the
 *   site crosses the threshold its recent clicks are flagged too.
 *
 * Clicks are matched to the last `recentImpressions` impressions. A click whose impression is not
 * among them waits (bounded, `pendingClickTtlMs`) in case the impression arrives later, which
 * happens when the two travel separately; meanwhile only the rate rules, which need no
 * impression, judge it. If the impression never arrives (it was forgotten, or never sent) the
 * click is counted as unmatched and not flagged for timing or duplication: without its
 * impression there is no evidence.
 *
 * One instance serves one process; it is not safe to share across threads.
 */
export class RuleFraudDetector implements FraudDetector {
  readonly config: FraudRulesConfig;
  private readonly hasher: IdHasher;
  private readonly impressions: RecentImpressions;
  private readonly users: RateWindows;
  private readonly ips: RateWindows;
  private readonly sites: SiteCtr;
  private readonly waiting: GenerationalMap<string, ClickRecord[]>;
  private readonly flags = new FlagCollector();
  private watermark = Number.NEGATIVE_INFINITY;
  private sinceRefresh = 0;
  private impressionCount = 0;
  private clickCount = 0;
  private replayCount = 0;
  private waitingCount = 0;
  private unmatchedCount = 0;

  constructor(config: Partial<FraudRulesConfig> = {}) {
    this.config = resolveFraudRules(config);
    const c = this.config;
    this.hasher = new IdHasher(c.hashSeed);
    this.impressions = new RecentImpressions(c.recentImpressions);
    this.users = new RateWindows(c.rateWindowMs, c.maxUserClicksPerWindow, c.maxTrackedKeys);
    this.ips = new RateWindows(c.rateWindowMs, c.maxIpClicksPerWindow, c.maxTrackedKeys);
    this.sites = new SiteCtr(c);
    this.waiting = new GenerationalMap(c.pendingClickTtlMs, c.maxPendingImpressions, (clicks) => {
      this.waitingCount -= clicks.length;
      this.unmatchedCount += clicks.length;
    });
  }

  async inspect(events: readonly FraudEvent[]): Promise<FraudFlag[]> {
    return this.inspectNow(events);
  }

  /** inspect(), synchronously. */
  inspectNow(events: readonly FraudEvent[]): FraudFlag[] {
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      this.advance(e.atMs);
      if (e.kind === 'impression') this.onImpression(e.id, e.userId, e.ip, e.siteId, e.atMs);
      else if (e.clicked) this.onClick(e.id, e.impressionId, e.userId, e.ip, e.atMs);
      if (++this.sinceRefresh >= this.config.siteRefreshEvents) {
        this.sinceRefresh = 0;
        this.sites.refresh();
      }
    }
    return this.flags.drain();
  }

  stats(): FraudDetectorStats {
    return {
      impressions: this.impressionCount,
      impressionsRemembered: this.impressions.size,
      impressionsForgotten: this.impressions.evicted,
      clicks: this.clickCount,
      clickReplays: this.replayCount,
      clicksWaiting: this.waitingCount,
      clicksUnmatched: this.unmatchedCount,
      trackedUsers: this.users.keys,
      trackedIps: this.ips.keys,
      trackedSites: this.sites.tracked,
      untrackedSiteImpressions: this.sites.untracked,
      flags: { ...this.flags.counts },
    };
  }

  /** Event time only moves forward: windows are judged against the newest event seen. */
  private advance(atMs: number): void {
    if (atMs <= this.watermark) return;
    this.watermark = atMs;
    this.users.tick(atMs);
    this.ips.tick(atMs);
    this.waiting.tick(atMs);
    if (this.sites.advance(atMs)) {
      this.sinceRefresh = 0;
      this.sites.refresh();
    }
  }

  private onImpression(id: string, userId: string, ip: string | null, siteId: string | null, atMs: number): void {
    this.impressionCount++;
    const h = this.hasher;
    h.hash(id);
    const hi = h.hi;
    const lo = h.lo;
    // A replay beyond the event log's de-duplication window: the first one stands.
    if (this.impressions.find(hi, lo) >= 0) return;
    const userKey = h.key(userId);
    const ipKey = ip === null ? NO_KEY : h.key(ip);
    const site = siteId === null ? -1 : this.sites.slotOf(siteId);
    const slot = this.impressions.add(hi, lo, atMs, userKey, ipKey, site);
    if (site >= 0) this.sites.addImpression(site, atMs);
    if (this.waitingCount === 0) return;
    const clicks = this.waiting.get(id);
    if (clicks === undefined) return;
    this.waiting.delete(id);
    this.waitingCount -= clicks.length;
    for (const click of clicks) this.matchClick(click, slot, siteId);
  }

  private onClick(id: string, impressionId: string, userId: string | null, ip: string | null, atMs: number): void {
    this.clickCount++;
    const h = this.hasher;
    h.hash(id);
    const idHash = h.lo === 0 ? 1 : h.lo;
    const click: ClickRecord = {
      id,
      userId,
      ip,
      atMs,
      idHash,
      userKey: userId === null ? NO_KEY : h.key(userId),
      ipKey: ip === null ? NO_KEY : h.key(ip),
      rateCounted: false,
      siteId: null,
      site: -1,
      siteBucket: -1,
      flagged: false,
    };
    h.hash(impressionId);
    const slot = this.impressions.find(h.hi, h.lo);
    if (slot >= 0) {
      const site = this.impressions.site(slot);
      this.matchClick(click, slot, site >= 0 ? this.sites.nameOf(site) : null);
      return;
    }
    this.countRate(click);
    let clicks = this.waiting.get(impressionId);
    if (clicks === undefined) {
      clicks = [];
      this.waiting.set(impressionId, clicks);
    }
    if (clicks.length >= this.config.maxPendingClicksPerImpression) {
      this.unmatchedCount++;
      return;
    }
    clicks.push(click);
    this.waitingCount++;
  }

  /** Judges a click against its impression (in `slot`), then counts it for rates and its site. */
  private matchClick(click: ClickRecord, slot: number, siteId: string | null): void {
    const imps = this.impressions;
    const valid = imps.validClick(slot);
    if (click.idHash === valid || click.idHash === imps.firstClick(slot)) {
      this.replayCount++;
      return;
    }
    click.siteId = siteId;
    const delay = click.atMs - imps.at(slot);
    const min = this.config.minClickDelayMs;
    if (delay < 0) {
      this.flags.add(click, 'click_before_impression', 1 - 0.25 * Math.exp(delay / Math.max(min, 1)), {
        delay_ms: delay,
      });
    } else if (delay < min) {
      this.flags.add(click, 'click_too_fast', 1 - (0.5 * delay) / min, { delay_ms: delay, min_delay_ms: min });
    }
    // A duplicate repeats a valid click: a click already flagged as mistimed does not use up the
    // impression, so the person's own click that follows an injected one is not a duplicate.
    const k = imps.recordClick(slot, click.idHash, !click.flagged);
    if (valid !== 0) this.flags.add(click, 'duplicate_click', 1 - 0.5 / (k - 1), { clicks_on_impression: k });
    if (click.userKey === NO_KEY) click.userKey = imps.user(slot);
    if (click.ipKey === NO_KEY) click.ipKey = imps.ip(slot);
    this.countRate(click);
    const site = imps.site(slot);
    if (site >= 0 && !click.flagged) this.countSite(site, click);
  }

  private countRate(click: ClickRecord): void {
    if (click.rateCounted || (click.userKey === NO_KEY && click.ipKey === NO_KEY)) return;
    click.rateCounted = true;
    if (click.userKey !== NO_KEY) {
      const excess = this.users.add(click.userKey, click);
      if (excess)
        this.flagRate('user_click_rate', excess.clicks, excess.ratePerWindow, this.config.maxUserClicksPerWindow);
    }
    if (click.ipKey !== NO_KEY) {
      const excess = this.ips.add(click.ipKey, click);
      if (excess) this.flagRate('ip_click_rate', excess.clicks, excess.ratePerWindow, this.config.maxIpClicksPerWindow);
    }
  }

  private flagRate(rule: FraudRule, clicks: readonly ClickRecord[], rate: number, limit: number): void {
    const prefix = rule === 'user_click_rate' ? 'user' : 'ip';
    const detail = {
      [`${prefix}_clicks_per_minute`]: round4((rate * 60_000) / this.config.rateWindowMs),
      [`${prefix}_limit`]: limit,
      window_ms: this.config.rateWindowMs,
    };
    const s = 1 - (0.5 * limit) / Math.max(rate, limit);
    for (const click of clicks) {
      // A click counted in its site's CTR is taken back: the site should not pay for a bot.
      if (this.flags.add(click, rule, s, detail)) this.sites.removeClick(click);
    }
  }

  private countSite(site: number, click: ClickRecord): void {
    if (!this.sites.addClick(site, click)) return;
    const verdict = this.sites.judge(site);
    if (verdict === null) return;
    const recent = this.sites.setOutlier(site, verdict.outlier);
    if (!verdict.outlier) return;
    const detail = {
      site_impressions: verdict.impressions,
      site_clicks: verdict.clicks,
      site_ctr: round4(verdict.ctr),
      peer_ctr: round4(verdict.peerCtr),
      site_z: round4(verdict.z),
      site_z_critical: round4(verdict.zCritical),
    };
    // The score is the share of the site's clicks beyond what a typical peer would get.
    const s = 1 - verdict.peerCtr / verdict.ctr;
    if (recent !== null) for (const earlier of recent) this.flags.add(earlier, 'site_ctr_outlier', s, detail);
    this.flags.add(click, 'site_ctr_outlier', s, detail);
  }
}
