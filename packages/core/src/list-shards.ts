import {
  ListShardsCommand,
  type ListShardsCommandOutput,
  type ListShardsInput,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { AbortError, KinesisKitError, ValidationError } from './errors.js';
import { MAX_LIST_SHARDS_RESULTS } from './limits.js';

/** Page size of ListShards calls unless told otherwise: the KPL's choice, a tenth of the service limit. */
export const DEFAULT_LIST_SHARDS_PAGE_SIZE = 1000;

/**
 * The one method Kinesis Kit needs to list shards. A `KinesisClient` satisfies it; a unit test can pass a
 * small fake.
 */
export interface ListShardsClient {
  send(command: ListShardsCommand, options?: { abortSignal?: AbortSignal }): Promise<ListShardsCommandOutput>;
}

/**
 * Which shards to list:
 * - `open`: shards that still accept records, what a producer routes to. Asks the server for
 *   `ShardFilter: AT_LATEST` and also drops every shard that has an `EndingSequenceNumber`, because some
 *   servers (kinesalite) ignore the filter.
 * - `all`: every shard the server still knows (open, and closed within retention), what a consumer needs
 *   to follow parents and children. No filter is sent.
 * - `{ atTimestamp }`: the shards that were open at that time (`ShardFilter: AT_TIMESTAMP`), where a consumer
 *   starting `AT_TIMESTAMP` on an empty lease table begins, as the KCL does. Some servers (kinesalite) ignore
 *   the filter and return every shard; nothing can be filtered here, since a listing carries no shard times.
 */
export type ShardScope = 'open' | 'all' | { readonly atTimestamp: Date };

/** Options of {@link listShards}. Give `streamName`, `streamARN`, or both (they must then name the same stream). */
export interface ListShardsOptions {
  readonly streamName?: string;
  readonly streamARN?: string;
  /** @defaultValue `'open'` */
  readonly include?: ShardScope;
  /** `MaxResults` of every call, 1 to 10 000. @defaultValue 1000 */
  readonly pageSize?: number;
  /** Cancels the listing, including the request in flight; the call then rejects with an {@link AbortError}. */
  readonly signal?: AbortSignal;
}

/**
 * Lists a stream's shards with ListShards, following every page.
 *
 * The first call names the stream (and asks for `AT_LATEST` in the `open` scope); later calls send only
 * `NextToken` and `MaxResults`, because the service rejects a stream name next to a token.
 *
 * Errors from the SDK are rethrown as they are, so {@link classifyError} can judge them, with one exception:
 * `ExpiredNextTokenException` (the listing took longer than the token lives) becomes a retriable
 * {@link KinesisKitError} with code `LIST_SHARDS_TOKEN_EXPIRED`, because starting the listing over, which is
 * what a retry of this function does, fixes it.
 */
export async function listShards(client: ListShardsClient, options: ListShardsOptions): Promise<Shard[]> {
  const { streamName, streamARN, signal } = options;
  const include = options.include ?? 'open';
  const pageSize = options.pageSize ?? DEFAULT_LIST_SHARDS_PAGE_SIZE;
  validateListShardsOptions(options, pageSize);

  let input: ListShardsInput = {
    ...(streamName === undefined ? {} : { StreamName: streamName }),
    ...(streamARN === undefined ? {} : { StreamARN: streamARN }),
    MaxResults: pageSize,
    ...(include === 'open' ? { ShardFilter: { Type: 'AT_LATEST' } } : {}),
    ...(typeof include === 'object' ? { ShardFilter: { Type: 'AT_TIMESTAMP', Timestamp: include.atTimestamp } } : {}),
  };
  const shards: Shard[] = [];
  for (;;) {
    if (signal?.aborted) throw new AbortError('Listing shards was aborted', { cause: signal.reason, streamName });
    let output: ListShardsCommandOutput;
    try {
      output = await client.send(
        new ListShardsCommand(input),
        signal === undefined ? undefined : { abortSignal: signal },
      );
    } catch (error) {
      if (signal?.aborted) throw new AbortError('Listing shards was aborted', { cause: error, streamName });
      if (error instanceof Error && error.name === 'ExpiredNextTokenException') {
        throw new KinesisKitError('LIST_SHARDS_TOKEN_EXPIRED', 'The ListShards page token expired; list again', {
          retriable: true,
          cause: error,
          streamName,
        });
      }
      throw error;
    }
    shards.push(...(output.Shards ?? []));
    const next = output.NextToken;
    if (next === undefined || next === '') break;
    if (next === input.NextToken) {
      // A server that hands back the token it was given would otherwise keep us here forever.
      throw new KinesisKitError('LIST_SHARDS_NO_PROGRESS', 'ListShards returned the same NextToken twice', {
        retriable: true,
        streamName,
      });
    }
    input = { NextToken: next, MaxResults: pageSize };
  }
  return include === 'open' ? shards.filter(isOpenShard) : shards;
}

/** Whether the shard still accepts records: a closed shard has an ending sequence number. */
export function isOpenShard(shard: Shard): boolean {
  return shard.SequenceNumberRange?.EndingSequenceNumber === undefined;
}

function validateListShardsOptions(options: ListShardsOptions, pageSize: number): void {
  if (options.streamName === undefined && options.streamARN === undefined) {
    throw new ValidationError('Listing shards needs a streamName or a streamARN, got neither', { field: 'streamName' });
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_LIST_SHARDS_RESULTS) {
    throw new ValidationError(`pageSize must be a whole number from 1 to ${MAX_LIST_SHARDS_RESULTS}, got ${pageSize}`, {
      field: 'pageSize',
      value: pageSize,
    });
  }
  const include: unknown = options.include;
  if (typeof include === 'object' && include !== null) {
    const at: unknown = (include as { atTimestamp?: unknown }).atTimestamp;
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
      throw new ValidationError(`include.atTimestamp must be a valid Date, got ${String(at)}`, {
        field: 'include.atTimestamp',
        value: at,
      });
    }
    return;
  }
  if (include !== undefined && include !== 'open' && include !== 'all') {
    throw new ValidationError(`include must be 'open', 'all' or { atTimestamp }, got ${JSON.stringify(include)}`, {
      field: 'include',
      value: include,
    });
  }
}
