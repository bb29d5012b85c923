import wabtInit from 'wabt';

/** The WebAssembly binary of a .wat text (SIMD on), as the build and the drift test make it. */
export async function assembleWat(text, name) {
  const wabt = await wabtInit();
  const module = wabt.parseWat(name, text, { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}
