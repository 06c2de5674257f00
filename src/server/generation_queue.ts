// One generation at a time on the one engine, first come first served. Waiting requests are
// bounded: past `maxWaiting` a new request is refused (429) instead of piling up behind a long
// generation. A waiter whose client disconnects leaves the queue without ever running.
import { HttpError } from "./http_error.js";

interface Waiter {
  grant: () => void;
  drop: () => void;
}

export class GenerationQueue {
  private busy = false;
  private closed = false;
  private readonly waiters: Waiter[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(readonly maxWaiting: number) {}

  get running(): boolean {
    return this.busy;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a release function once this request may generate; rejects with a 429 when the
   * queue is full. Resolves with `null` if `signal` aborts while waiting (the client left).
   */
  async acquire(signal: AbortSignal): Promise<(() => void) | null> {
    if (signal.aborted || this.closed) return null;
    if (!this.busy) {
      this.busy = true;
      return this.releaser();
    }
    this.checkCapacity();
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(null);
        if (!this.busy && this.waiters.length === 0) this.wakeIdle();
      };
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener("abort", onAbort);
          resolve(this.releaser());
        },
        drop: () => {
          signal.removeEventListener("abort", onAbort);
          resolve(null);
        },
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Throws the 429 that acquire() would, so a caller can refuse before committing to a response. */
  checkCapacity(): void {
    if (this.busy && this.waiters.length >= this.maxWaiting) {
      throw new HttpError(429, `server busy: one generation running and ${this.waiters.length} waiting (limit ${this.maxWaiting}); retry later`, "rate_limit_error", null, {
        "retry-after": "1",
      });
    }
  }

  /** Server shutdown: every waiter gets null now, later requests too; the running one finishes. */
  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.drop();
    if (!this.busy) this.wakeIdle();
  }

  /** Resolves once no generation runs and none waits (after cancelling them, before disposing the engine). */
  async idle(): Promise<void> {
    while (this.busy || this.waiters.length > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next !== undefined) next.grant();
      else {
        this.busy = false;
        this.wakeIdle();
      }
    };
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
