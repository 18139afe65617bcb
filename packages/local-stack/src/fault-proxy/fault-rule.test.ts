import { describe, expect, it } from 'vitest';
import { decideFaults, type FaultRule, validateFaultRule } from './fault-rule.js';

const always = (): number => 0;
const never = (): number => 0.999;

describe('decideFaults', () => {
  it('lets the first firing fault take the call and adds up the latency before it', () => {
    const rules: FaultRule[] = [
      { fault: 'latency', rate: 1, latencyMs: 20 },
      { fault: 'latency', rate: 1, latencyMs: 5 },
      { fault: 'ThrottlingException', rate: 1 },
      { fault: 'InternalFailure', rate: 1 },
    ];
    expect(decideFaults(rules, 'kinesis', 'PutRecords', always, new Map())).toEqual({
      latencyMs: 25,
      fault: 'ThrottlingException',
    });
  });

  it('matches on service and operation', () => {
    const rules: FaultRule[] = [{ fault: 'InternalFailure', rate: 1, service: 'dynamodb', operations: ['GetItem'] }];
    expect(decideFaults(rules, 'dynamodb', 'GetItem', always, new Map()).fault).toBe('InternalFailure');
    expect(decideFaults(rules, 'dynamodb', 'PutItem', always, new Map()).fault).toBeUndefined();
    expect(decideFaults(rules, 'kinesis', 'GetItem', always, new Map()).fault).toBeUndefined();
  });

  it('fires only when the draw is below the rate', () => {
    const rules: FaultRule[] = [{ fault: 'timeout', rate: 0.5 }];
    expect(decideFaults(rules, 'kinesis', 'GetRecords', never, new Map()).fault).toBeUndefined();
    expect(decideFaults(rules, 'kinesis', 'GetRecords', () => 0.49, new Map()).fault).toBe('timeout');
  });

  it('stops a rule after maxCount firings', () => {
    const rule: FaultRule = { fault: 'drop-request', rate: 1, maxCount: 2 };
    const fired = new Map<FaultRule, number>();
    const faults = [1, 2, 3].map(() => decideFaults([rule], 'kinesis', 'PutRecords', always, fired).fault);
    expect(faults).toEqual(['drop-request', 'drop-request', undefined]);
  });
});

describe('validateFaultRule', () => {
  it.each([
    [{ fault: 'Nope', rate: 0.1 }, /rules\[0\]\.fault must be one of/],
    [{ fault: 'timeout', rate: 1.5 }, /rules\[0\]\.rate must be between 0 and 1, got 1\.5/],
    [{ fault: 'latency', rate: 1, latencyMs: -1 }, /latencyMs must be ≥ 0, got -1/],
    [{ fault: 'latency', rate: 1, maxCount: 0.5 }, /maxCount must be an integer ≥ 0, got 0\.5/],
  ])('refuses %o', (rule, message) => {
    expect(() => validateFaultRule(rule as FaultRule, 0)).toThrow(message);
  });
});
