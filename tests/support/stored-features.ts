import type { Harness } from './browser.ts';

/** What the e2e tests read back of a stored feature record. */
export type StoredSummary = {
  hashes: Record<string, string>;
  width: number;
  height: number;
  decodedBy?: string;
  resizedBy?: string;
  decodedSize?: [number, number];
};

/** Every stored feature record, by SHA-256: what the hash workers wrote to IndexedDB. */
export async function storedFeatures(h: Harness): Promise<Map<string, StoredSummary>> {
  const rows = await h.page.evaluate(
    () =>
      new Promise<(StoredSummary & { sha256: string })[]>((resolve, reject) => {
        const open = indexedDB.open('winnow');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction('features').objectStore('features').getAll();
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            resolve(request.result.map(({ sha256, hashes, width, height, decodedBy, resizedBy, decodedSize }) => ({ sha256, hashes, width, height, decodedBy, resizedBy, decodedSize })));
            open.result.close();
          };
        };
      }),
  );
  return new Map(rows.map((r) => [r.sha256, r]));
}
