import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Type } from 'protobufjs';
import type {
  AggregatedRecordEntry,
  AggregatedRecordMessage,
  AggregatedRecordTag,
} from '../../src/aggregation/aggregated-record-message.js';
import { MalformedAggregatedRecordError } from '../../src/aggregation/malformed-aggregated-record-error.js';

// The .proto is the format's source of truth; this codec is generated from it at run time.
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

/** Encodes and decodes the protobuf message alone (no magic, no digest). */
export interface AggregatedRecordMessageCodec {
  /** Serializes the message. */
  encode(message: AggregatedRecordMessage): Uint8Array;
  /**
   * Parses the message; throws a {@link MalformedAggregatedRecordError} when the bytes are not a
   * valid `AggregatedRecord` (truncated, bad wire format, a required field missing).
   */
  decode(bytes: Uint8Array): AggregatedRecordMessage;
}

/**
 * The conformance oracle for core's hand-written codec: protobufjs driven by `proto/aggregated-record.proto`,
 * an independent implementation of the same schema. Test support only (protobufjs is a devDependency of core,
 * not a runtime one); the unit tests and the codec benchmark import it from here. Loaded on first use.
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
