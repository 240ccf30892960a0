import { NotFoundError } from '../errors.js';
import type { Ad, AdUpsert } from '../schemas/ads.js';
import type { Deps } from './deps.js';

export class AdsUseCase {
  constructor(private readonly deps: Deps) {}

  put(adId: string, input: AdUpsert): Promise<Ad> {
    return this.deps.ads.put(adId, input, this.deps.clock.now());
  }

  async get(adId: string): Promise<Ad> {
    const ad = await this.deps.ads.get(adId);
    if (!ad) throw new NotFoundError(`Ad ${adId} is not in the catalogue.`);
    return ad;
  }
}
