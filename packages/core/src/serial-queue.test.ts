import { describe, expect, it } from 'vitest';
import { KeyedSerialQueue, SerialQueue } from './serial-queue.js';

/** A task that finishes when the test says so, and logs its start and end. */
function gate(log: string[], name: string) {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const task = async () => {
    log.push(`start ${name}`);
    await opened;
    log.push(`end ${name}`);
    return name;
  };
  return { task, open };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('SerialQueue', () => {
  it('starts each task only after the one before it has settled, in order', async () => {
    const log: string[] = [];
    const queue = new SerialQueue();
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const first = queue.run(a.task);
    const second = queue.run(b.task);
    await turn();
    expect(log).toEqual(['start a']);
    expect(queue.pending).toBe(2);
    b.open(); // b is ready early, but must not start before a ends
    await turn();
    expect(log).toEqual(['start a']);
    a.open();
    await expect(first).resolves.toBe('a');
    await expect(second).resolves.toBe('b');
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
    expect(queue.pending).toBe(0);
  });

  it('fails only the task that failed, sync throw or rejection, and goes on', async () => {
    const queue = new SerialQueue();
    const thrown = queue.run(() => {
      throw new Error('sync');
    });
    const rejected = queue.run(async () => {
      throw new Error('async');
    });
    const fine = queue.run(() => 42);
    await expect(thrown).rejects.toThrow('sync');
    await expect(rejected).rejects.toThrow('async');
    await expect(fine).resolves.toBe(42);
  });

  it('onIdle resolves once everything queued so far has settled, even if some failed', async () => {
    const log: string[] = [];
    const queue = new SerialQueue();
    const a = gate(log, 'a');
    const running = queue.run(a.task);
    queue.run(() => Promise.reject(new Error('x'))).catch(() => {});
    let idle = false;
    const waiting = queue.onIdle().then(() => {
      idle = true;
    });
    await turn();
    expect(idle).toBe(false);
    a.open();
    await running;
    await waiting;
    expect(idle).toBe(true);
  });
});

describe('KeyedSerialQueue', () => {
  it('serialises tasks of one key, runs different keys side by side, and forgets drained keys', async () => {
    const log: string[] = [];
    const queue = new KeyedSerialQueue<string>();
    const a1 = gate(log, 'a1');
    const a2 = gate(log, 'a2');
    const b1 = gate(log, 'b1');
    const runs = [queue.run('a', a1.task), queue.run('a', a2.task), queue.run('b', b1.task)];
    await turn();
    expect(log).toEqual(['start a1', 'start b1']);
    expect(queue.size).toBe(2);
    b1.open();
    a1.open();
    a2.open();
    await Promise.all(runs);
    await turn();
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(queue.size).toBe(0);
  });
});
