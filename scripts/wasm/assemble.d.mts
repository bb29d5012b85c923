/** The WebAssembly binary of a .wat text (SIMD on), as the build and the drift test make it. */
export function assembleWat(text: string, name: string): Promise<Uint8Array>;
