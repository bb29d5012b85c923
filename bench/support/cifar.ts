import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { extractCifar, tempDir } from '../../tests/support/fixtures.ts';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** A temporary folder of 10,000 CIFAR-10 training JPEGs, the first 1,000 of each class by name, one subfolder per class. */
export async function cifarTrain10k(): Promise<string> {
  const root = path.join(await tempDir(), 'cifar10k');
  await extractCifar(root, CLASSES.map((c) => `train/${c}`));
  for (const c of CLASSES) {
    const dir = path.join(root, 'train', c);
    const names = (await readdir(dir)).sort();
    await Promise.all(names.slice(1000).map((n) => rm(path.join(dir, n))));
  }
  return path.join(root, 'train');
}
