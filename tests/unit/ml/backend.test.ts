import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { chooseBackend, type BackendName } from '../../../src/ml/backend.ts';
import { WASM_DIR } from './helpers.ts';

describe('chooseBackend', () => {
  it('uses the preferred backend when it works', async () => {
    expect(await chooseBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('starts wasm from the package binaries in Node', async () => {
    expect(await chooseBackend('wasm', { wasmPaths: WASM_DIR })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('walks webgpu → webgl → wasm → cpu, skipping what is not there', async () => {
    const skipped: BackendName[] = [];
    const got = await chooseBackend(undefined, { wasmPaths: WASM_DIR, onSkip: (name) => skipped.push(name) });
    // Node has neither navigator.gpu nor WebGL, so wasm is the first that can start.
    expect(skipped).toEqual(['webgpu', 'webgl']);
    expect(got).toBe('wasm');
  });

  it('falls back when the preferred backend cannot start', async () => {
    const skipped: string[] = [];
    const got = await chooseBackend('webgpu', { wasmPaths: WASM_DIR, onSkip: (n, why) => skipped.push(`${n}: ${why}`) });
    expect(skipped[0]).toMatch(/^webgpu: not available/);
    expect(got).toBe('wasm');
  });

  it('rejects unknown names', async () => {
    await expect(chooseBackend('tpu' as BackendName)).rejects.toThrow(/unknown tfjs backend 'tpu'/);
  });
});
