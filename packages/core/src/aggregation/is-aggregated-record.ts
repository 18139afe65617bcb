import { unpackAggregatedRecord } from './unpack-aggregated-record.js';

/**
 * Whether {@link deaggregate} would unpack `data` as a KPL aggregate: the magic is present, more
 * than 16 bytes follow it, the MD5 trailer matches, the message parses as a proto2
 * `AggregatedRecord`, and its indexes and explicit hash keys are valid.
 *
 * It parses the whole message, because the KCL does too before calling a record aggregated; a
 * check of the magic alone would call corrupt data an aggregate. The cost is that of the MD5 plus
 * a walk over the message, with no copy of the data.
 */
export function isAggregatedRecord(data: Uint8Array): boolean {
  const unpacked = unpackAggregatedRecord(data);
  return unpacked !== undefined && 'scan' in unpacked;
}
