import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Type } from 'protobufjs';
import type {
  AggregatedRecordEntry,
  AggregatedRecordMessage,
  AggregatedRecordMessageCodec,
  AggregatedRecordTag,
} from './aggregated-record-message.js';
import { MalformedAggregatedRecordError } from './malformed-aggregated-record-error.js';

// Resolved against this module, so the same relative path works from src/aggregation and dist/aggregation.
const PROTO_PATH = fileURLToPath(new URL('../../proto/aggregated-record.proto', import.meta.url));

/** The plain-object shape protobufjs produces for our schema with the conversion options below. */
interface PlainTag {
  key: string;
  value?: string;
}
interface PlainRecord {
  partitionKeyIndex: number;
  explicitHashKeyIndex?: number;
  data: Uint8Array;
  tags: PlainTag[];
}
interface PlainAggregatedRecord {
  partitionKeyTable: string[];
  explicitHashKeyTable: string[];
  records: PlainRecord[];
}

let aggregatedRecordType: Type | undefined;

// protobufjs takes ~60 ms to load and only the reference codec needs it, so load it on first use.
function loadType(): Type {
  if (aggregatedRecordType === undefined) {
    const require = createRequire(import.meta.url);
    const protobuf = require('protobufjs') as typeof import('protobufjs');
    aggregatedRecordType = protobuf.loadSync(PROTO_PATH).lookupType('kinesis_kit.aggregation.AggregatedRecord');
  }
  return aggregatedRecordType;
}

function fromPlainTag(tag: PlainTag): AggregatedRecordTag {
  return tag.value === undefined ? { key: tag.key } : { key: tag.key, value: tag.value };
}

function fromPlainRecord(record: PlainRecord): AggregatedRecordEntry {
  const entry: AggregatedRecordEntry = { partitionKeyIndex: record.partitionKeyIndex, data: record.data };
  if (record.explicitHashKeyIndex !== undefined) entry.explicitHashKeyIndex = record.explicitHashKeyIndex;
  if (record.tags.length > 0) entry.tags = record.tags.map(fromPlainTag);
  return entry;
}

/**
 * The reference implementation of the message codec: protobufjs driven by
 * `proto/aggregated-record.proto`. Slower than the hand-written codec and used to check it; handy
 * to inspect aggregates when debugging. protobufjs is loaded on first use.
 */
export const protobufjsMessageCodec: AggregatedRecordMessageCodec = {
  encode(message: AggregatedRecordMessage): Uint8Array {
    return loadType().encode(message).finish();
  },

  decode(bytes: Uint8Array): AggregatedRecordMessage {
    const type = loadType();
    let plain: PlainAggregatedRecord;
    try {
      plain = type.toObject(type.decode(bytes), { longs: Number, arrays: true }) as PlainAggregatedRecord;
    } catch (error) {
      throw new MalformedAggregatedRecordError(
        `Invalid aggregated record message: ${error instanceof Error ? error.message : String(error)}`,
        undefined,
        { cause: error },
      );
    }
    return {
      partitionKeyTable: plain.partitionKeyTable,
      explicitHashKeyTable: plain.explicitHashKeyTable,
      records: plain.records.map(fromPlainRecord),
    };
  },
};
