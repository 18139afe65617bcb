import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ExtendedSequenceNumber } from '../extended-sequence-number.js';
import type { Lease } from './lease.js';

/**
 * Attribute names of a lease item, exactly as the Java KCL 2.x (`DynamoDBLeaseSerializer`) writes them.
 * `parentShardId` is singular although it holds a string set of up to two ids.
 */
export const LeaseAttribute = Object.freeze({
  leaseKey: 'leaseKey',
  leaseOwner: 'leaseOwner',
  leaseCounter: 'leaseCounter',
  ownerSwitchesSinceCheckpoint: 'ownerSwitchesSinceCheckpoint',
  checkpoint: 'checkpoint',
  checkpointSubSequenceNumber: 'checkpointSubSequenceNumber',
  pendingCheckpoint: 'pendingCheckpoint',
  pendingCheckpointSubSequenceNumber: 'pendingCheckpointSubSequenceNumber',
  pendingCheckpointState: 'pendingCheckpointState',
  parentShardId: 'parentShardId',
  childShardIds: 'childShardIds',
  startingHashKey: 'startingHashKey',
  endingHashKey: 'endingHashKey',
  checkpointOwner: 'checkpointOwner',
  entityType: 'entityType',
} as const);

/** A DynamoDB item as the SDK v3 low-level client sees it. */
export type LeaseItem = Record<string, AttributeValue>;

/**
 * The item a new lease is created as (the KCL's `toDynamoRecord`). Empty values are omitted, never written
 * as empty strings or sets, which DynamoDB rejects and the KCL never writes.
 */
export function leaseToItem(lease: Lease): LeaseItem {
  const item: LeaseItem = {
    [LeaseAttribute.leaseKey]: { S: lease.leaseKey },
    [LeaseAttribute.leaseCounter]: { N: String(lease.leaseCounter) },
    [LeaseAttribute.ownerSwitchesSinceCheckpoint]: { N: String(lease.ownerSwitchesSinceCheckpoint) },
    [LeaseAttribute.checkpoint]: { S: lease.checkpoint.sequenceNumber },
    [LeaseAttribute.checkpointSubSequenceNumber]: { N: String(lease.checkpoint.subSequenceNumber) },
  };
  if (lease.leaseOwner !== undefined) item[LeaseAttribute.leaseOwner] = { S: lease.leaseOwner };
  if (lease.parentShardIds.length > 0) item[LeaseAttribute.parentShardId] = { SS: [...lease.parentShardIds] };
  if (lease.childShardIds.length > 0) item[LeaseAttribute.childShardIds] = { SS: [...lease.childShardIds] };
  if (lease.pendingCheckpoint !== undefined) {
    item[LeaseAttribute.pendingCheckpoint] = { S: lease.pendingCheckpoint.sequenceNumber };
    item[LeaseAttribute.pendingCheckpointSubSequenceNumber] = { N: String(lease.pendingCheckpoint.subSequenceNumber) };
    if (lease.pendingCheckpointState !== undefined) {
      item[LeaseAttribute.pendingCheckpointState] = { B: lease.pendingCheckpointState };
    }
  }
  if (lease.hashKeyRange !== undefined) {
    item[LeaseAttribute.startingHashKey] = { S: lease.hashKeyRange.startingHashKey };
    item[LeaseAttribute.endingHashKey] = { S: lease.hashKeyRange.endingHashKey };
  }
  return item;
}

/** Why an item was not read as a lease. */
export type SkipReason = 'not-a-lease' | 'unreadable';

/**
 * Reads an item as a lease, tolerating what Java workers may leave behind: unknown attributes (KCL 3.x's
 * `throughputKBps`, …) are ignored, a `pendingCheckpointState` of the wrong type is ignored (a known KCL
 * serializer quirk), items of another `entityType` are not leases. Returns the reason instead of a lease
 * when the item cannot be used, so callers can skip and report it as the KCL does.
 */
export function itemToLease(item: LeaseItem): Lease | SkipReason {
  const entityType = item[LeaseAttribute.entityType]?.S;
  if (entityType !== undefined && entityType !== 'LEASE') return 'not-a-lease';
  const leaseKey = item[LeaseAttribute.leaseKey]?.S;
  if (leaseKey === undefined || leaseKey === '') return 'unreadable';
  try {
    const checkpoint = new ExtendedSequenceNumber(
      item[LeaseAttribute.checkpoint]?.S ?? 'TRIM_HORIZON',
      numberOf(item[LeaseAttribute.checkpointSubSequenceNumber]) ?? 0,
    );
    const pendingSequence = item[LeaseAttribute.pendingCheckpoint]?.S;
    const pendingCheckpoint =
      pendingSequence === undefined || pendingSequence === ''
        ? undefined
        : new ExtendedSequenceNumber(
            pendingSequence,
            numberOf(item[LeaseAttribute.pendingCheckpointSubSequenceNumber]) ?? 0,
          );
    const startingHashKey = item[LeaseAttribute.startingHashKey]?.S;
    const endingHashKey = item[LeaseAttribute.endingHashKey]?.S;
    return Object.freeze({
      leaseKey,
      leaseOwner: item[LeaseAttribute.leaseOwner]?.S,
      leaseCounter: numberOf(item[LeaseAttribute.leaseCounter]) ?? 0,
      checkpoint,
      pendingCheckpoint,
      pendingCheckpointState:
        pendingCheckpoint === undefined ? undefined : item[LeaseAttribute.pendingCheckpointState]?.B,
      ownerSwitchesSinceCheckpoint: numberOf(item[LeaseAttribute.ownerSwitchesSinceCheckpoint]) ?? 0,
      parentShardIds: Object.freeze([...(item[LeaseAttribute.parentShardId]?.SS ?? [])].sort()),
      childShardIds: Object.freeze([...(item[LeaseAttribute.childShardIds]?.SS ?? [])].sort()),
      hashKeyRange:
        startingHashKey !== undefined && endingHashKey !== undefined ? { startingHashKey, endingHashKey } : undefined,
      checkpointOwner: item[LeaseAttribute.checkpointOwner]?.S,
    });
  } catch {
    return 'unreadable';
  }
}

function numberOf(value: AttributeValue | undefined): number | undefined {
  const n = value?.N;
  if (n === undefined) return undefined;
  const parsed = Number(n);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`Not a whole number: ${n}`);
  return parsed;
}
