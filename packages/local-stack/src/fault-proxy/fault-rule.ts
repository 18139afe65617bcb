import { type AwsService, INJECTED_ERROR_CODES, type InjectedErrorCode } from './aws-error-response.js';
import type { RandomSource } from './seeded-random.js';

/**
 * What a rule does to a call it fires on:
 * - an {@link InjectedErrorCode}: answer with that error, without forwarding;
 * - `latency`: wait {@link FaultRule.latencyMs} before forwarding (adds up with other latency rules);
 * - `drop-request`: read the request, then close the connection without forwarding or answering;
 * - `drop-response`: forward the request (the emulator carries it out), then close the connection instead of
 *   answering, so the caller cannot know it succeeded;
 * - `timeout`: never answer, never forward; the connection stays open until the caller gives up.
 */
export type FaultKind = InjectedErrorCode | 'latency' | 'drop-request' | 'drop-response' | 'timeout';

/** One rule: which calls, what fault, how often. */
export interface FaultRule {
  readonly fault: FaultKind;
  /** Fraction of matching calls the rule fires on, 0 to 1. */
  readonly rate: number;
  /** Only calls to this service. @defaultValue both */
  readonly service?: AwsService;
  /** Only these operations (`PutRecords`, `GetRecords`, `UpdateItem`…). @defaultValue all */
  readonly operations?: readonly string[];
  /** For `latency`: milliseconds added. @defaultValue 100 */
  readonly latencyMs?: number;
  /** Fire at most this many times over the proxy's life (counted per rule object). @defaultValue unlimited */
  readonly maxCount?: number;
}

/** Every fault kind, for validation and docs. */
export const FAULT_KINDS: readonly FaultKind[] = [
  ...INJECTED_ERROR_CODES,
  'latency',
  'drop-request',
  'drop-response',
  'timeout',
];

/** The default added latency of a `latency` rule. */
export const DEFAULT_LATENCY_MS = 100;

/** Throws a `RangeError` naming the bad field and the rule it breaks. */
export function validateFaultRule(rule: FaultRule, index: number): void {
  if (!FAULT_KINDS.includes(rule.fault)) {
    throw new RangeError(`rules[${index}].fault must be one of ${FAULT_KINDS.join(', ')}, got ${String(rule.fault)}`);
  }
  if (!(typeof rule.rate === 'number' && rule.rate >= 0 && rule.rate <= 1)) {
    throw new RangeError(`rules[${index}].rate must be between 0 and 1, got ${String(rule.rate)}`);
  }
  if (rule.latencyMs !== undefined && !(Number.isFinite(rule.latencyMs) && rule.latencyMs >= 0)) {
    throw new RangeError(`rules[${index}].latencyMs must be ≥ 0, got ${rule.latencyMs}`);
  }
  if (rule.maxCount !== undefined && !(Number.isInteger(rule.maxCount) && rule.maxCount >= 0)) {
    throw new RangeError(`rules[${index}].maxCount must be an integer ≥ 0, got ${rule.maxCount}`);
  }
  if (rule.service !== undefined && rule.service !== 'kinesis' && rule.service !== 'dynamodb') {
    throw new RangeError(`rules[${index}].service must be 'kinesis' or 'dynamodb', got ${String(rule.service)}`);
  }
}

/** What the rules decided for one call. */
export interface FaultDecision {
  /** Milliseconds to wait before anything else. */
  readonly latencyMs: number;
  /** The fault that takes the call, if any (never `latency`). */
  readonly fault: Exclude<FaultKind, 'latency'> | undefined;
}

function matches(rule: FaultRule, service: AwsService | undefined, operation: string): boolean {
  if (rule.service !== undefined && rule.service !== service) return false;
  return rule.operations === undefined || rule.operations.includes(operation);
}

/**
 * Applies the rules in order to one call. Every matching latency rule that fires adds its delay; the first
 * other rule that fires takes the call and later ones are not consulted (nor do they draw a number, so adding a
 * rule at the end never changes what the earlier ones do with the same seed).
 */
export function decideFaults(
  rules: readonly FaultRule[],
  service: AwsService | undefined,
  operation: string,
  random: RandomSource,
  fired: Map<FaultRule, number>,
): FaultDecision {
  let latencyMs = 0;
  for (const rule of rules) {
    if (!matches(rule, service, operation)) continue;
    const count = fired.get(rule) ?? 0;
    if (rule.maxCount !== undefined && count >= rule.maxCount) continue;
    if (random() >= rule.rate) continue;
    fired.set(rule, count + 1);
    if (rule.fault === 'latency') {
      latencyMs += rule.latencyMs ?? DEFAULT_LATENCY_MS;
      continue;
    }
    return { latencyMs, fault: rule.fault };
  }
  return { latencyMs, fault: undefined };
}
