import { ShutdownError, ValidationError } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { Checkpointer, type CheckpointState } from './checkpointer.js';
import { ExtendedSequenceNumber } from './extended-sequence-number.js';

const esn = (s: string, sub = 0) => new ExtendedSequenceNumber(s, sub);

function setup(start = ExtendedSequenceNumber.TRIM_HORIZON) {
  const writes: CheckpointState[] = [];
  let lost = false;
  const checkpointer = new Checkpointer({
    shardId: 'shardId-000000000001',
    checkpoint: start,
    writer: {
      async write(state) {
        if (lost) throw new ShutdownError('lease lost');
        writes.push(state);
      },
    },
  });
  return { checkpointer, writes, loseLease: () => (lost = true) };
}

describe('Checkpointer', () => {
  it('checkpoint() commits the last record delivered, with its sub-sequence number', async () => {
    const { checkpointer, writes } = setup();
    checkpointer.advanceLargestPermitted(esn('100', 3));
    await checkpointer.checkpoint();
    expect(writes.map((w) => String(w.checkpoint))).toEqual(['100.3']);
    expect(checkpointer.lastCheckpointValue.equals(esn('100', 3))).toBe(true);
  });

  it('does nothing before any record was delivered, or when checkpointing the same position again', async () => {
    const { checkpointer, writes } = setup();
    await checkpointer.checkpoint();
    checkpointer.advanceLargestPermitted(esn('100'));
    await checkpointer.checkpoint('100');
    await checkpointer.checkpoint({ sequenceNumber: '100', subSequenceNumber: 0 });
    expect(writes).toHaveLength(1);
  });

  it('rejects positions beyond the last record delivered and before the last checkpoint', async () => {
    const { checkpointer, writes } = setup(esn('50'));
    checkpointer.advanceLargestPermitted(esn('100', 1));
    await expect(checkpointer.checkpoint('100', 2)).rejects.toThrow(ValidationError);
    await expect(checkpointer.checkpoint('101')).rejects.toThrow(/beyond the last record delivered/);
    await expect(checkpointer.checkpoint('49')).rejects.toThrow(/before the last checkpoint/);
    await checkpointer.checkpoint('80');
    await expect(checkpointer.checkpoint('79')).rejects.toThrow(ValidationError);
    await expect(checkpointer.checkpoint('not-a-number')).rejects.toThrow(ValidationError);
    expect(writes.map((w) => String(w.checkpoint))).toEqual(['80']);
  });

  it('rewrites the last record of an ended shard to SHARD_END', async () => {
    const { checkpointer, writes } = setup();
    checkpointer.advanceLargestPermitted(esn('100', 2));
    checkpointer.markShardEnd();
    await checkpointer.checkpoint('100', 2);
    expect(writes.map((w) => String(w.checkpoint))).toEqual(['SHARD_END']);
  });

  it('checkpoint() at shard end writes SHARD_END even when nothing was delivered', async () => {
    const { checkpointer, writes } = setup();
    checkpointer.markShardEnd();
    await checkpointer.checkpoint();
    expect(writes.map((w) => String(w.checkpoint))).toEqual(['SHARD_END']);
  });

  it('prepares a checkpoint with state and commits it later, clearing the pending one', async () => {
    const { checkpointer, writes } = setup(esn('10'));
    checkpointer.advanceLargestPermitted(esn('20', 1));
    const prepared = await checkpointer.prepareCheckpoint('20', 1, new Uint8Array([9]));
    expect(writes[0]).toMatchObject({ pendingCheckpointState: new Uint8Array([9]) });
    expect(String(writes[0]?.checkpoint)).toBe('10');
    expect(String(writes[0]?.pendingCheckpoint)).toBe('20.1');
    expect(String(checkpointer.pendingCheckpointValue)).toBe('20.1');
    await prepared.checkpoint();
    expect(String(writes[1]?.checkpoint)).toBe('20.1');
    expect(writes[1]?.pendingCheckpoint).toBeUndefined();
    expect(checkpointer.pendingCheckpointValue).toBeUndefined();
  });

  it('prepares at the last record delivered by default, and beyond it never', async () => {
    const { checkpointer, writes } = setup();
    checkpointer.advanceLargestPermitted(esn('30'));
    const prepared = await checkpointer.prepareCheckpoint();
    expect(String(prepared.pendingCheckpoint)).toBe('30');
    await expect(checkpointer.prepareCheckpoint('31')).rejects.toThrow(ValidationError);
    expect(writes).toHaveLength(1);
  });

  it('rejects with ShutdownError once the lease is lost', async () => {
    const { checkpointer, loseLease } = setup();
    checkpointer.advanceLargestPermitted(esn('30'));
    loseLease();
    await expect(checkpointer.checkpoint()).rejects.toThrow(ShutdownError);
    expect(checkpointer.lastCheckpointValue.equals(ExtendedSequenceNumber.TRIM_HORIZON)).toBe(true);
  });

  it('serializes concurrent calls', async () => {
    const { checkpointer, writes } = setup();
    checkpointer.advanceLargestPermitted(esn('30'));
    await Promise.all([checkpointer.checkpoint('10'), checkpointer.checkpoint('20'), checkpointer.checkpoint('30')]);
    expect(writes.map((w) => String(w.checkpoint))).toEqual(['10', '20', '30']);
  });
});
