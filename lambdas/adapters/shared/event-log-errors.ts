/**
 * A row the event log refuses because it does not fit its table (or cannot be stored at all);
 * nothing of the append was written. Both event logs (the local durable log and Kinesis) throw
 * it, so callers see one error whichever runs. A TypeError naming the row's index: the use cases
 * validate input first, so such a row is a programming error, not a client's.
 */
export class EventLogRowError extends TypeError {
  constructor(
    readonly index: number,
    detail: string,
  ) {
    super(`row ${index}: ${detail}`);
    this.name = 'EventLogRowError';
  }
}
