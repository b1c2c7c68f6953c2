// Follows the fault proxy's request log (GET /__faults/log keeps only the most recent 500 calls) by polling it
// often enough that no call falls out between polls, and keeps every call seen with its time. `gaps` counts polls
// where the snapshot did not overlap the previous one (calls may have been missed; the report says so).

import { newSince, type ProxyCall } from './measure.ts';

export class ProxyLogFollower {
  readonly calls: ProxyCall[] = [];
  gaps = 0;
  polls = 0;
  #previous: ProxyCall[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  readonly #controlUrl: string;

  constructor(controlUrl: string) {
    this.#controlUrl = controlUrl;
  }

  /** Takes the current log as the baseline (calls already there are not counted) and polls every `everyMs`. */
  async start(everyMs = 1000): Promise<void> {
    this.#previous = await this.#fetch();
    this.#timer = setInterval(() => {
      this.#inFlight ??= this.poll().finally(() => {
        this.#inFlight = undefined;
      });
    }, everyMs);
  }

  async poll(): Promise<void> {
    const snapshot = await this.#fetch();
    const { fresh, gap } = newSince(this.#previous, snapshot);
    this.polls++;
    if (gap) this.gaps++;
    this.calls.push(...fresh);
    this.#previous = snapshot;
  }

  /** Stops polling after one last poll. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
    await this.poll();
  }

  /** Calls whose proxy time is in [fromMs, toMs). */
  between(fromMs: number, toMs: number): ProxyCall[] {
    return this.calls.filter((c) => {
      const t = Date.parse(c.at);
      return t >= fromMs && t < toMs;
    });
  }

  async #fetch(): Promise<ProxyCall[]> {
    const res = await fetch(`${this.#controlUrl}/log`);
    if (!res.ok) throw new Error(`reading the fault proxy log failed: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as ProxyCall[];
  }
}
