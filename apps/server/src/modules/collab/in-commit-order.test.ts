import { describe, expect, it } from 'vitest';
import { InCommitOrder } from './in-commit-order.ts';

/** A promise and the functions that settle it. */
function deferred() {
  let resolve = () => {};
  let reject = (_err: Error) => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('InCommitOrder (R16)', () => {
  it('runs follow-ups in the order they were queued, whatever order their commits become durable in', async () => {
    const failures: unknown[] = [];
    const order = new InCommitOrder((err) => failures.push(err));
    const [first, second] = [deferred(), deferred()];
    const ran: string[] = [];
    expect(order.pending).toBeUndefined();
    order.after(first.promise, () => ran.push('first'));
    order.after(second.promise, () => ran.push('second'));
    second.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(ran).toEqual([]);
    first.resolve();
    await order.pending;
    expect(ran).toEqual(['first', 'second']);
    expect(order.pending).toBeUndefined();
    expect(failures).toEqual([]);
  });

  it('reports the first failure once and skips that follow-up and every later one', async () => {
    const failures: unknown[] = [];
    const order = new InCommitOrder((err) => failures.push(err));
    const ran: string[] = [];
    const eio = new Error('EIO');
    order.after(Promise.resolve(), () => ran.push('durable'));
    order.after(Promise.reject(eio), () => ran.push('lost'));
    order.after(Promise.resolve(), () => ran.push('after'));
    order.after(Promise.reject(new Error('again')), () => ran.push('again'));
    await order.pending;
    expect(ran).toEqual(['durable']);
    expect(failures).toEqual([eio]);
  });

  it('reports a follow-up that throws as a failure, without an unhandled rejection', async () => {
    const failures: unknown[] = [];
    const order = new InCommitOrder((err) => failures.push(err));
    const bug = new Error('a bug in a follow-up');
    order.after(Promise.resolve(), () => {
      throw bug;
    });
    order.after(Promise.resolve(), () => failures.push('ran'));
    await order.pending;
    expect(failures).toEqual([bug]);
  });
});
