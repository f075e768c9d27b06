import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('admits at most the limit and hands slots over in order', async () => {
    const semaphore = new Semaphore(2);
    const order: number[] = [];
    const releaseA = await semaphore.acquire();
    const releaseB = await semaphore.acquire();
    const third = semaphore.acquire().then((release) => {
      order.push(3);
      return release;
    });
    const fourth = semaphore.acquire().then((release) => {
      order.push(4);
      return release;
    });
    expect(semaphore.waiting).toBe(2);
    releaseA();
    releaseB();
    (await third)();
    (await fourth)();
    expect(order).toEqual([3, 4]);
  });

  it('drops an aborted waiter', async () => {
    const semaphore = new Semaphore(1);
    const release = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(semaphore.waiting).toBe(0);
    release();
    (await semaphore.acquire())();
  });
});
