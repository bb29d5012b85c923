/**
 * Backend choice. Importing this module registers the webgpu and wasm backends next to the webgl
 * and cpu ones that `@tensorflow/tfjs` brings, but picks none: the embedding worker calls
 * `chooseBackend()` once before loading a model, and tests force the one they want.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// The wasm binaries are emitted by Vite as assets of our own origin (TESTING.md): no CDN.
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** Fastest first on typical hardware. cpu always works, so the list never runs dry. */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

export interface ChooseBackendOptions {
  /**
   * Accept software GPU implementations (a WebGPU fallback adapter or a WebGL renderer such as
   * SwiftShader or llvmpipe). They are correct but 15–90× slower than wasm (measured in headless
   * Chromium: webgl 800, webgpu 4 900, wasm 53 ms/image), so by default they are skipped unless
   * named as `preferred`.
   */
  allowSoftware?: boolean;
  /**
   * Where the three tfjs wasm binaries are: a folder (ending in `/`) or a file map. Defaults to
   * the URLs Vite gives our bundled copies. Node tests pass the package's `dist/` folder.
   */
  wasmPaths?: string | Record<string, string>;
  /** Give up on a backend whose start-up takes longer than this (ms). Default 20 000. */
  timeoutMs?: number;
  /** Called with each backend that was tried and refused, and why (for logs and diagnostics). */
  onSkip?: (name: BackendName, reason: string) => void;
}

let wasmPathsSet = false;

function configureWasm(paths: ChooseBackendOptions['wasmPaths']): void {
  // Cross-origin isolated pages get SharedArrayBuffer, and tfjs would then pick the threaded
  // build, which hangs under COOP/COEP here (TESTING.md). Single-threaded SIMD is what we measured.
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  if (wasmPathsSet) return; // tfjs refuses new paths once the wasm backend has started.
  setWasmPaths(
    paths ?? {
      'tfjs-backend-wasm.wasm': wasmPlainUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
    },
  );
  wasmPathsSet = true;
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean; vendor?: string; architecture?: string; description?: string };
}

/** Why WebGPU should be skipped in automatic mode, or null when a hardware adapter is there. */
async function webgpuSoftwareReason(): Promise<string | null> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(o?: object): Promise<GpuAdapterLike | null> } } | undefined)?.gpu;
  if (!gpu) return 'navigator.gpu is not available';
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return 'no WebGPU adapter';
  const info = adapter.info ?? {};
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`;
  if (adapter.isFallbackAdapter || info.isFallbackAdapter || SOFTWARE_RENDERER.test(text)) {
    return `software WebGPU adapter (${text.trim() || 'fallback'})`;
  }
  return null;
}

/**
 * Why WebGL should be skipped in automatic mode, or null for a hardware renderer. tfjs already
 * asks for a context that fails on a major performance caveat, but headless Chromium hands out
 * SwiftShader without one: measured 800 ms/image there against 53 for wasm.
 */
function webglSoftwareReason(): string | null {
  let canvas: OffscreenCanvas | HTMLCanvasElement;
  if (typeof OffscreenCanvas !== 'undefined') canvas = new OffscreenCanvas(1, 1);
  else if (typeof document !== 'undefined') canvas = document.createElement('canvas');
  else return 'no canvas to probe WebGL with';
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return 'no WebGL context';
  try {
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return SOFTWARE_RENDERER.test(renderer) ? `software WebGL renderer (${renderer})` : null;
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Runs one tiny op end to end (upload, kernel, download) on the current backend. */
async function smokeTest(): Promise<void> {
  const y = tf.tidy(() => tf.add(tf.tensor1d([1, 2, 3]), tf.scalar(1)));
  try {
    const v = await y.data();
    if (v[0] !== 2 || v[1] !== 3 || v[2] !== 4) throw new Error(`1+[1,2,3] gave [${Array.from(v)}]`);
  } finally {
    y.dispose();
  }
}

async function tryBackend(name: BackendName, explicit: boolean, opts: ChooseBackendOptions): Promise<string | null> {
  // webgpu registers itself only where navigator.gpu exists; webgl only in the browser build.
  if (tf.findBackendFactory(name) == null) return 'not available in this environment';
  const allowSoftware = explicit || opts.allowSoftware === true;
  if (name === 'webgpu' && !allowSoftware) {
    const reason = await webgpuSoftwareReason();
    if (reason) return reason;
  }
  if (name === 'webgl') {
    if (!allowSoftware) {
      const reason = webglSoftwareReason();
      if (reason) return reason;
    }
    // Without this flag tfjs asks for a context that fails on a major performance caveat.
    tf.env().set('SOFTWARE_WEBGL_ENABLED', allowSoftware);
  }
  if (name === 'wasm') configureWasm(opts.wasmPaths);
  // A start-up that times out cannot be cancelled; tfjs may still finish it later, which is why
  // the budget is generous and the backend that wins is checked again by the smoke test.
  const ok = await withTimeout(tf.setBackend(name), opts.timeoutMs ?? 20_000, `tfjs backend '${name}'`);
  if (!ok) return 'failed to initialise';
  await tf.ready();
  await smokeTest();
  return null;
}

/**
 * Picks and activates a tfjs backend: `preferred` first when given, then webgpu → webgl → wasm →
 * cpu. Each is started with `tf.setBackend` and checked with a tiny op; the first that works stays
 * active. Returns the name of the backend in use.
 */
export async function chooseBackend(preferred?: BackendName, opts: ChooseBackendOptions = {}): Promise<BackendName> {
  if (preferred !== undefined && !BACKEND_ORDER.includes(preferred)) {
    throw new Error(`unknown tfjs backend '${preferred}' (expected one of ${BACKEND_ORDER.join(', ')})`);
  }
  const order = preferred ? [preferred, ...BACKEND_ORDER.filter((b) => b !== preferred)] : [...BACKEND_ORDER];
  const reasons: string[] = [];
  for (const name of order) {
    let reason: string | null;
    try {
      reason = await tryBackend(name, name === preferred, opts);
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
    }
    if (reason === null) return name;
    reasons.push(`${name}: ${reason}`);
    opts.onSkip?.(name, reason);
  }
  throw new Error(`no tfjs backend could start (${reasons.join('; ')})`);
}

/** The active backend's name, for status displays and logs. */
export function currentBackend(): string {
  return tf.getBackend();
}
