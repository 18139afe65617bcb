import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EXIT, toCliError, UsageError } from './cli-error.js';
import { toLeaseRow } from './commands/leases.js';
import { parseStartPosition } from './commands/tail.js';
import { formatTable } from './format.js';
import { readLines } from './input-lines.js';
import { parseShardId } from './shard-id.js';

describe('parseShardId', () => {
  it.each([
    ['shardId-000000000003', 'shardId-000000000003'],
    ['3', 'shardId-000000000003'],
    ['000000000012', 'shardId-000000000012'],
  ])('accepts %s', (input, expected) => expect(parseShardId(input)).toBe(expected));

  it.each(['shard-3', 'shardId-3', '-1', '', '1234567890123'])('rejects %j as a usage error', (input) => {
    expect(() => parseShardId(input)).toThrow(UsageError);
  });
});

describe('parseStartPosition', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');
  it('knows the iterator types, times, durations ago and sequence numbers', () => {
    expect(parseStartPosition('trim-horizon')).toEqual({ type: 'TRIM_HORIZON' });
    expect(parseStartPosition('LATEST')).toEqual({ type: 'LATEST' });
    expect(parseStartPosition('10m', now)).toEqual({
      type: 'AT_TIMESTAMP',
      timestamp: new Date('2026-11-25T11:50:00Z'),
    });
    expect(parseStartPosition('2026-11-25T10:00:00Z')).toEqual({
      type: 'AT_TIMESTAMP',
      timestamp: new Date('2026-11-25T10:00:00Z'),
    });
    const sequenceNumber = '49680562944958316219475041647303087462945496811104632866';
    expect(parseStartPosition(sequenceNumber)).toEqual({ type: 'AT_SEQUENCE_NUMBER', sequenceNumber });
  });

  it.each(['yesterday', '12', '10x', ''])('rejects %j', (input) => {
    expect(() => parseStartPosition(input)).toThrow(UsageError);
  });
});

describe('toCliError', () => {
  const named = (name: string, message = 'm') => Object.assign(new Error(message), { name });
  it.each([
    ['ResourceNotFoundException', EXIT.notFound],
    ['UnrecognizedClientException', EXIT.credentials],
    ['CredentialsProviderError', EXIT.credentials],
    ['InvalidArgumentException', EXIT.usage],
    ['UnknownOperationException', EXIT.unsupported],
    ['ProvisionedThroughputExceededException', EXIT.failure],
  ])('maps %s to exit code %i', (name, code) => expect(toCliError(named(name), 'op').exitCode).toBe(code));

  it('recognises a missing region by its message', () => {
    expect(toCliError(new Error('Region is missing'), 'op').exitCode).toBe(EXIT.credentials);
  });
});

describe('formatTable', () => {
  it('pads columns to the widest cell and trims trailing spaces', () => {
    expect(
      formatTable(
        ['a', 'bb'],
        [
          ['ccc', ''],
          ['d', 'e'],
        ],
      ),
    ).toBe('a    bb\nccc\nd    e');
  });
});

describe('readLines', () => {
  it('splits across chunk boundaries, strips CRLF and ignores a final newline', async () => {
    const lines: string[] = [];
    for await (const line of readLines(Readable.from([Buffer.from('one\r\ntw'), Buffer.from('o\n\nthree\n')]))) {
      lines.push(line);
    }
    expect(lines).toEqual(['one', 'two', '', 'three']);
  });

  it('keeps a multi-byte character split between chunks', async () => {
    const bytes = Buffer.from('é\n');
    const lines: string[] = [];
    for await (const line of readLines(Readable.from([bytes.subarray(0, 1), bytes.subarray(1)]))) lines.push(line);
    expect(lines).toEqual(['é']);
  });
});

const leasesRowFor = (leaseKey: string, stream: string | undefined) =>
  toLeaseRow(
    {
      leaseKey: { S: leaseKey },
      leaseCounter: { N: '4' },
      checkpoint: { S: 'TRIM_HORIZON' },
      parentShardId: { SS: ['p'] },
    },
    stream,
  );

describe('toLeaseRow', () => {
  it('reads single- and multi-stream KCL lease keys', () => {
    expect(leasesRowFor('shardId-000000000001', 'orders')).toMatchObject({
      shardId: 'shardId-000000000001',
      streamName: 'orders',
      leaseCounter: 4,
      checkpoint: 'TRIM_HORIZON',
      parentShardIds: ['p'],
      leaseOwner: undefined,
    });
    expect(leasesRowFor('123456789012:orders:1700000000:shardId-000000000002', undefined)).toMatchObject({
      shardId: 'shardId-000000000002',
      streamName: 'orders',
    });
  });
});
