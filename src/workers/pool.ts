import { wrap, type Remote } from 'comlink';

export class WorkerCrashedError extends Error {
  override name = 'WorkerCrashedError';
}

interface Slot<Api> {
  worker: Worker;
  remote: Remote<Api>;
  /** Rejects the task in flight when the worker dies, since comlink's promise would never settle. */
  fail: ((error: Error) => void) | null;
}

/**
 * A fixed set of module workers sharing one typed API. Cancelling terminates every worker at once
 * (a task inside a decode cannot be interrupted any other way); fresh workers start on the next task.
 */
export class WorkerPool<Api> {
  private idle: Slot<Api>[] = [];
  private waiting: ((slot: Slot<Api>) => void)[] = [];
  private all = new Set<Slot<Api>>();

  constructor(
    private readonly createWorker: () => Worker,
    readonly size: number,
  ) {}

  static defaultSize(): number {
    const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
    return Math.max(1, Math.min(cores, 8));
  }

  async run<T>(task: (api: Remote<Api>) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const slot = await this.acquire(signal);
    try {
      return await new Promise<T>((resolve, reject) => {
        slot.fail = reject;
        const onAbort = () => reject(signal!.reason ?? new DOMException('Aborted', 'AbortError'));
        signal?.addEventListener('abort', onAbort, { once: true });
        task(slot.remote).then(resolve, reject).finally(() => signal?.removeEventListener('abort', onAbort));
      });
    } catch (error) {
      // After an abort or a crash the worker's state is unknown: never reuse it.
      this.discard(slot);
      throw error;
    } finally {
      slot.fail = null;
      if (this.all.has(slot)) this.release(slot);
    }
  }

  /** Stops every worker now; tasks in flight reject, queued callers get fresh workers. */
  terminateAll(): void {
    for (const slot of [...this.all]) {
      slot.fail?.(new DOMException('Cancelled', 'AbortError'));
      this.discard(slot);
    }
  }

  private acquire(signal?: AbortSignal): Promise<Slot<Api>> {
    const slot = this.idle.pop();
    if (slot) return Promise.resolve(slot);
    if (this.all.size < this.size) return Promise.resolve(this.spawn());
    return new Promise((resolve, reject) => {
      const take = (s: Slot<Api>) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(s);
      };
      const onAbort = () => {
        this.waiting = this.waiting.filter((w) => w !== take);
        reject(signal!.reason ?? new DOMException('Aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(take);
    });
  }

  private release(slot: Slot<Api>): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.idle.push(slot);
  }

  private spawn(): Slot<Api> {
    const worker = this.createWorker();
    const slot: Slot<Api> = { worker, remote: wrap<Api>(worker), fail: null };
    const crashed = (event: Event) => {
      // Duck-typed: not every host that runs this has an ErrorEvent class (Node has none).
      const message = (event as { message?: unknown }).message;
      const detail = typeof message === 'string' && message ? message : 'the worker stopped';
      slot.fail?.(new WorkerCrashedError(detail));
    };
    worker.addEventListener('error', crashed);
    worker.addEventListener('messageerror', crashed);
    this.all.add(slot);
    return slot;
  }

  private discard(slot: Slot<Api>): void {
    if (!this.all.delete(slot)) return;
    this.idle = this.idle.filter((s) => s !== slot);
    slot.worker.terminate();
    // A caller waiting for a slot should not wait on a worker that no longer exists.
    const next = this.waiting.shift();
    if (next) next(this.spawn());
  }
}
