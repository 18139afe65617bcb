/**
 * A record as the application sees it after deaggregation: one user record of a KPL aggregate, or
 * a plain Kinesis record passed through. This is what a record processor receives.
 */
export interface UserRecord {
  partitionKey: string;
  /**
   * Present only when the user record carried an explicit hash key in the aggregate (or, for a
   * record passed through, when the input had one).
   */
  explicitHashKey?: string;
  data: Uint8Array;
  /** The Kinesis record's sequence number; every user record of one aggregate shares it. */
  sequenceNumber: string;
  /**
   * Position in the aggregate, from 0. Together with {@link sequenceNumber} it orders user records
   * and is what a checkpoint records. Always 0 for a record that was not aggregated.
   */
  subSequenceNumber: number;
  /** When Kinesis received the (outer) record, if known. */
  approximateArrivalTimestamp?: Date;
  /** Whether this user record came out of a KPL aggregate. */
  aggregated: boolean;
}
