import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { protobufjsMessageCodec } from '../../test/support/protobufjs-codec.js';
import { MalformedAggregatedRecordError } from './malformed-aggregated-record-error.js';

const protobuf = createRequire(import.meta.url)('protobufjs') as typeof import('protobufjs');
const protoPath = fileURLToPath(new URL('../../proto/aggregated-record.proto', import.meta.url));

describe('proto/aggregated-record.proto', () => {
  const root = protobuf.loadSync(protoPath);

  it.each([
    ['AggregatedRecord', 'partitionKeyTable', 1, 'string', 'repeated'],
    ['AggregatedRecord', 'explicitHashKeyTable', 2, 'string', 'repeated'],
    ['AggregatedRecord', 'records', 3, 'Record', 'repeated'],
    ['Record', 'partitionKeyIndex', 1, 'uint64', 'required'],
    ['Record', 'explicitHashKeyIndex', 2, 'uint64', 'optional'],
    ['Record', 'data', 3, 'bytes', 'required'],
    ['Record', 'tags', 4, 'Tag', 'repeated'],
    ['Tag', 'key', 1, 'string', 'required'],
    ['Tag', 'value', 2, 'string', 'optional'],
  ])('declares %s.%s as field %d, %s, %s — the numbers the KPL and KCL use', (message, field, id, type, rule) => {
    const declared = root.lookupType(`kinesis_kit.aggregation.${message}`).fields[field];
    expect(declared?.id).toBe(id);
    expect(declared?.type).toBe(type);
    expect(declared?.repeated ? 'repeated' : declared?.required ? 'required' : 'optional').toBe(rule);
  });
});

describe('protobufjsMessageCodec', () => {
  it('round-trips a message', () => {
    const message = {
      partitionKeyTable: ['a', 'b'],
      explicitHashKeyTable: ['5'],
      records: [
        { partitionKeyIndex: 1, data: new Uint8Array([1]) },
        { partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: new Uint8Array(), tags: [{ key: 'k' }] },
      ],
    };
    const decoded = protobufjsMessageCodec.decode(protobufjsMessageCodec.encode(message));
    expect(decoded.partitionKeyTable).toEqual(['a', 'b']);
    expect(decoded.explicitHashKeyTable).toEqual(['5']);
    expect(decoded.records.map((r) => ({ ...r, data: [...r.data] }))).toEqual([
      { partitionKeyIndex: 1, data: [1] },
      { partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: [], tags: [{ key: 'k' }] },
    ]);
  });

  it('wraps protobufjs errors in MalformedAggregatedRecordError, keeping the cause', () => {
    let caught: unknown;
    try {
      protobufjsMessageCodec.decode(new Uint8Array([0x1a, 0x02, 0x1a, 0x00]));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MalformedAggregatedRecordError);
    expect((caught as MalformedAggregatedRecordError).code).toBe('MALFORMED_AGGREGATED_RECORD');
    expect((caught as MalformedAggregatedRecordError).retriable).toBe(false);
    expect((caught as MalformedAggregatedRecordError).cause).toBeInstanceOf(Error);
    expect((caught as Error).message).toContain('partitionKeyIndex');
  });
});
