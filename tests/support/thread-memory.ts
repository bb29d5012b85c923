/**
 * The JS memory of a page and of every worker it starts, over CDP: each thread's heap and its
 * ArrayBuffer backing stores (typed arrays, wasm memories), which Performance.getMetrics'
 * JSHeapUsedSize leaves out — and in Winnow the n × d embeddings are exactly such buffers.
 * Workers that workers start (the clustering's product helpers) are not reached.
 */
import type { CDPSession } from 'playwright-core';
import { workerChannel } from './cdp-workers.ts';

export interface ThreadMemory {
  /** JS heap used, bytes. */
  heap: number;
  /** ArrayBuffer backing stores, bytes. */
  buffers: number;
}

interface HeapUsage {
  usedSize: number;
  backingStorageSize?: number;
}

export interface ThreadWatch {
  /** Per thread: 'page', or a worker's name and a number in order of start. */
  sample(): Promise<Record<string, ThreadMemory>>;
  /** A full collection in the page and every live worker. */
  collectGarbage(): Promise<void>;
}

/** Attaches to every worker the page starts from now on (call before the page loads). */
export async function watchThreads(client: CDPSession): Promise<ThreadWatch> {
  const send = workerChannel(client);
  const live = new Map<string, string>();
  let count = 0;
  client.on('Target.attachedToTarget', (event: { sessionId: string; targetInfo: { type: string; title: string; url: string } }) => {
    if (event.targetInfo.type !== 'worker') return;
    const name = event.targetInfo.title || event.targetInfo.url.split('/').pop() || 'worker';
    live.set(event.sessionId, `${name}#${++count}`);
    void send(event.sessionId, 'Runtime.runIfWaitingForDebugger');
  });
  client.on('Target.detachedFromTarget', (event: { sessionId: string }) => live.delete(event.sessionId));
  await client.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  return {
    async sample() {
      const out: Record<string, ThreadMemory> = {};
      const record = (name: string, usage: HeapUsage | undefined) => {
        if (usage?.usedSize !== undefined) out[name] = { heap: usage.usedSize, buffers: usage.backingStorageSize ?? 0 };
      };
      record('page', (await client.send('Runtime.getHeapUsage').catch(() => undefined)) as HeapUsage | undefined);
      await Promise.all([...live].map(async ([session, name]) => record(name, (await send(session, 'Runtime.getHeapUsage')) as HeapUsage | undefined)));
      return out;
    },
    async collectGarbage() {
      await client.send('HeapProfiler.collectGarbage');
      await Promise.all([...live.keys()].map((session) => send(session, 'HeapProfiler.collectGarbage')));
    },
  };
}

/** Heap plus buffers of every thread sampled, bytes. */
export const totalOf = (threads: Record<string, ThreadMemory>): number =>
  Object.values(threads).reduce((sum, t) => sum + t.heap + t.buffers, 0);
