import { describe, expect, it } from 'vitest';
import { heartbeatExpiryMillis, liveWorkers, observeWorkers } from './worker-heartbeat.js';

describe('heartbeatExpiryMillis', () => {
  it.each([
    // failover, heartbeat period (= taker round), expiry: three rounds, never under the failover time
    { failover: 10_000, round: 20_050, expiry: 60_150, why: "the KCL's round: about 6 × failover, as before" },
    { failover: 10_000, round: 2_500, expiry: 10_000, why: 'our failover / 4 round: the failover time' },
    { failover: 10_000, round: 5_000, expiry: 15_000, why: 'a round of failover / 2: three rounds' },
    { failover: 1_500, round: 100, expiry: 1_500, why: 'short rounds never go below a lease’s own expiry' },
  ])('$why', ({ failover, round, expiry }) => {
    expect(heartbeatExpiryMillis(failover, round)).toBe(expiry);
  });
});

describe('liveWorkers', () => {
  it('counts a worker until its heartbeat has stood still for longer than the expiry', () => {
    const first = observeWorkers(new Map(), [{ workerIdentifier: 'crashed', heartbeatCounter: 7 }], 0);
    const later = observeWorkers(first, [{ workerIdentifier: 'crashed', heartbeatCounter: 7 }], 10_000);
    expect(liveWorkers(later, 10_000, 10_000)).toEqual(['crashed']);
    expect(liveWorkers(later, 10_001, 10_000)).toEqual([]);
  });
});
