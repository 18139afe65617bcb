/**
 * One user record as a {@link RecordProcessor} receives it: a plain Kinesis record, or one user record out of
 * a KPL aggregate (then `aggregated` is true and `subSequenceNumber` is its index in the aggregate).
 */
export interface KinesisClientRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  /** The Kinesis sequence number; every user record of one aggregate shares it. */
  readonly sequenceNumber: string;
  /** The index inside the aggregate; 0 for a plain record. */
  readonly subSequenceNumber: number;
  /** The explicit hash key the producer set, if any (decimal string). */
  readonly explicitHashKey?: string;
  readonly approximateArrivalTimestamp: Date;
  /** Whether the record came out of a KPL aggregate. */
  readonly aggregated: boolean;
  /** `NONE` or `KMS`, as Kinesis reported it. */
  readonly encryptionType?: string;
}
