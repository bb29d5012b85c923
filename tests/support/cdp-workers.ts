/**
 * Dedicated workers over CDP from a page's session. Playwright's CDPSession cannot address child
 * sessions, so the older, non-flattened protocol is used (Target.sendMessageToTarget).
 */
import type { CDPSession } from 'playwright-core';

export type WorkerSend = (sessionId: string, method: string, params?: object) => Promise<unknown>;

export function workerChannel(client: CDPSession): WorkerSend {
  let nextId = 1;
  const waiting = new Map<number, { sessionId: string; resolve: (result: unknown) => void }>();
  client.on('Target.receivedMessageFromTarget', (event: { message: string }) => {
    const message = JSON.parse(event.message) as { id?: number; result?: unknown; error?: unknown };
    if (message.id === undefined) return;
    waiting.get(message.id)?.resolve(message.result ?? message.error);
    waiting.delete(message.id);
  });
  client.on('Target.detachedFromTarget', (event: { sessionId: string }) => {
    // A worker that ended answers nothing more: settle what waits on it rather than hang.
    for (const [id, call] of waiting) {
      if (call.sessionId !== event.sessionId) continue;
      call.resolve(undefined);
      waiting.delete(id);
    }
  });
  return (sessionId, method, params = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      waiting.set(id, { sessionId, resolve });
      client.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(() => {
        waiting.delete(id);
        resolve(undefined);
      });
    });
}
