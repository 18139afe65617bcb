/** One entry of a PutRecords request as the SDK sends it (JSON, data in base64). */
export interface PutRecordsRequestEntryJson {
  readonly Data: string;
  readonly PartitionKey: string;
  readonly ExplicitHashKey?: string;
}

/** One entry of a PutRecords response. */
export interface PutRecordsResultEntryJson {
  readonly SequenceNumber?: string;
  readonly ShardId?: string;
  readonly ErrorCode?: string;
  readonly ErrorMessage?: string;
}

/** A PutRecords response body. */
export interface PutRecordsResponseJson {
  readonly FailedRecordCount?: number;
  readonly Records: readonly PutRecordsResultEntryJson[];
  readonly EncryptionType?: string;
}

/** An entry the proxy fails instead of forwarding. */
export interface InjectedEntryFailure {
  readonly errorCode: string;
  readonly errorMessage: string;
}

/** The size the service charges an entry: its data plus its partition key. */
export function entryBytes(entry: PutRecordsRequestEntryJson): number {
  return base64Length(entry.Data) + Buffer.byteLength(entry.PartitionKey);
}

/** Decoded length of a base64 string without decoding it. */
export function base64Length(data: string): number {
  let padding = 0;
  if (data.endsWith('==')) padding = 2;
  else if (data.endsWith('=')) padding = 1;
  return Math.floor((data.length * 3) / 4) - padding;
}

/**
 * Puts the proxy's failures back among the emulator's results, in the caller's order: `failures[i]` is set for
 * each entry that was held back, and `upstream.Records` answers the others in order. `FailedRecordCount` counts
 * both kinds. Throws if the emulator answered a different number of entries than it was sent.
 */
export function spliceFailures(
  failures: readonly (InjectedEntryFailure | undefined)[],
  upstream: PutRecordsResponseJson | undefined,
): PutRecordsResponseJson {
  const forwarded = upstream?.Records ?? [];
  const records: PutRecordsResultEntryJson[] = [];
  let next = 0;
  let failed = upstream?.FailedRecordCount ?? 0;
  for (const failure of failures) {
    if (failure !== undefined) {
      records.push({ ErrorCode: failure.errorCode, ErrorMessage: failure.errorMessage });
      failed += 1;
      continue;
    }
    const result = forwarded[next];
    if (result === undefined) throw new Error(`the emulator answered ${forwarded.length} entries, fewer than sent`);
    records.push(result);
    next += 1;
  }
  if (next !== forwarded.length) {
    throw new Error(`the emulator answered ${forwarded.length} entries, ${next} were sent`);
  }
  const response: PutRecordsResponseJson = { FailedRecordCount: failed, Records: records };
  return upstream?.EncryptionType === undefined ? response : { ...response, EncryptionType: upstream.EncryptionType };
}
