import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deaggregate, type KinesisKitError, ValidationError } from '@kinesis-kit/core';
import { LOCAL_CREDENTIALS, LOCAL_REGION, uniqueName } from '@kinesis-kit/local-stack';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { KinesisProducer, type ProducerOptions, UserRecordFailedError } from '../../src/index.js';

// The producer's rows of the bad-input catalogue: what a user tries, and the error they see. docs/bad-input.md
// mirrors this table; the last test checks that every row is there with its class, code and message.

interface BadInput {
  /** What the user did, as the docs page lists it. */
  readonly input: string;
  readonly errorClass: new (...args: never[]) => KinesisKitError;
  readonly code: string;
  /** The message, word for word (the stream name, which changes per run, as `<stream>`). */
  readonly message: string;
  readonly retriable: boolean;
  readonly attempt: (producer: KinesisProducer, stream: string) => Promise<unknown>;
}

const CATALOGUE: readonly BadInput[] = [
  {
    input: 'empty partition key',
    errorClass: ValidationError,
    code: 'VALIDATION',
    message: 'partitionKey must be a string of 1 to 256 characters, got ""',
    retriable: false,
    attempt: (p, s) => p.addUserRecord(s, '', 'x'),
  },
  {
    input: 'partition key of 257 characters',
    errorClass: ValidationError,
    code: 'VALIDATION',
    message: 'partitionKey must be a string of 1 to 256 characters, got a string of 257 characters',
    retriable: false,
    attempt: (p, s) => p.addUserRecord(s, 'k'.repeat(257), 'x'),
  },
  {
    input: 'partition key + data over 1 MiB',
    errorClass: ValidationError,
    code: 'VALIDATION',
    message: "A user record's partition key and data must be at most 1048576 bytes together, got 1048577",
    retriable: false,
    attempt: (p, s) => p.addUserRecord(s, 'k', new Uint8Array(1024 * 1024)),
  },
  {
    input: 'explicit hash key that is not a decimal',
    errorClass: ValidationError,
    code: 'VALIDATION',
    message: 'explicitHashKey must be a decimal integer from 0 to 2^128-1, got "abc"',
    retriable: false,
    attempt: (p, s) => p.addUserRecord(s, 'k', 'x', 'abc'),
  },
  {
    input: 'explicit hash key of 2^128',
    errorClass: ValidationError,
    code: 'VALIDATION',
    message: 'explicitHashKey must be from 0 to 2^128-1, got 340282366920938463463374607431768211456',
    retriable: false,
    attempt: (p, s) => p.addUserRecord(s, 'k', 'x', (1n << 128n).toString()),
  },
  {
    input: 'data that is a number',
    errorClass: ValidationError,
    code: 'VALIDATION',
    message: 'data must be a Uint8Array or a string, got number',
    retriable: false,
    attempt: (p, s) => p.addUserRecord(s, 'k', 42 as unknown as string),
  },
  {
    input: 'stream name with a space',
    errorClass: ValidationError,
    code: 'VALIDATION',
    message: `streamName must be 1 to 128 characters of a-z, A-Z, 0-9, '_', '-' and '.', got "bad stream!"`,
    retriable: false,
    attempt: (p) => p.addUserRecord('bad stream!', 'k', 'x'),
  },
  {
    input: 'unknown stream (or a stream in another region)',
    errorClass: UserRecordFailedError,
    code: 'ResourceNotFoundException',
    message:
      'The user record failed after 1 attempt: ResourceNotFoundException (Stream <stream> under account 000000000000 not found.)',
    retriable: false,
    attempt: (p, s) => p.addUserRecord(`${s}-missing`, 'k', 'x'),
  },
  {
    input: 'credentials provider that fails',
    errorClass: UserRecordFailedError,
    code: 'Error',
    message: 'The user record failed after 1 attempt: Error (no credentials here)',
    retriable: false,
    attempt: async (_p, s) => {
      const producer = new KinesisProducer({
        endpoint: inject('kinesaliteEndpoint'),
        region: LOCAL_REGION,
        credentials: async () => {
          throw new Error('no credentials here');
        },
        metricsLevel: 'none',
      });
      try {
        return await producer.addUserRecord(s, 'k', 'x');
      } finally {
        await producer.destroy();
      }
    },
  },
  ...(
    [
      ['recordTtl of 5', { recordTtl: 5 }, 'recordTtl must be a whole number from 100 to 2147483647, got 5'],
      ['maxConnections of 0', { maxConnections: 0 }, 'maxConnections must be a whole number from 1 to 256, got 0'],
      ['rateLimit of 0', { rateLimit: 0 }, 'rateLimit must be a whole number from 1 to 1000000, got 0'],
    ] as const
  ).map(
    ([input, options, message]): BadInput => ({
      input: `producer option ${input}`,
      errorClass: ValidationError,
      code: 'VALIDATION',
      message,
      retriable: false,
      attempt: async () => new KinesisProducer(options as ProducerOptions),
    }),
  ),
];

describe('bad input, catalogued: the producer', () => {
  const producer = new KinesisProducer({
    endpoint: inject('kinesaliteEndpoint'),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    metricsLevel: 'none',
  });
  const stream = uniqueName('bad-input');
  afterAll(() => producer.destroy());

  it.each(CATALOGUE)('$input → $errorClass.name $code', async (row) => {
    const error = await Promise.resolve()
      .then(() => row.attempt(producer, stream))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(row.errorClass);
    expect(error).toMatchObject({ code: row.code, retriable: row.retriable });
    expect((error as Error).message.replaceAll(`${stream}-missing`, '<stream>')).toBe(row.message);
  });

  it('is mirrored row by row in docs/bad-input.md', () => {
    const page = readFileSync(fileURLToPath(new URL('../../../../docs/bad-input.md', import.meta.url)), 'utf8');
    for (const row of CATALOGUE) {
      const line = page.split('\n').find((l) => l.startsWith(`| ${row.input} |`));
      expect(line, row.input).toBeDefined();
      expect(line).toContain(`\`${row.errorClass.name}\``);
      expect(line).toContain(`\`${row.code}\``);
      expect(line).toContain(row.message.replaceAll('|', '\\|'));
    }
  });
});

describe('bad input, catalogued: reading a malformed aggregated record', () => {
  it('is delivered as one plain record, with why it was not unpacked (the KCL does the same)', () => {
    const data = Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), Buffer.alloc(40, 7)]);
    const result = deaggregate({
      data,
      partitionKey: 'a',
      sequenceNumber: '1',
      approximateArrivalTimestamp: new Date(0),
    });
    expect(result).toMatchObject({
      status: 'delivered',
      aggregated: false,
      rejected: { reason: 'checksum-mismatch', detail: 'the MD5 trailer does not match the message' },
    });
    expect(result.status === 'delivered' ? result.records.map((r) => Buffer.from(r.data)) : []).toEqual([data]);
  });
});
