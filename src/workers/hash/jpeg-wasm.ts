/**
 * JPEG decoding in WebAssembly (mozjpeg's decoder, which is libjpeg-turbo's: the library Chromium
 * and Pillow decode with, measured pixel-identical to createImageBitmap on 3,503 CIFAR-10 and
 * near-duplicate benchmark JPEGs). createImageBitmap costs about a millisecond per image in round
 * trips to the browser process whatever the image's size, twenty times the decode itself for a
 * 32×32 image, so small datasets spend most of their intake there.
 */
import decode, { init } from '@jsquash/jpeg/decode.js';
// Emitted by Vite as an asset of our own origin, like tfjs's wasm.
import wasmUrl from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm?url';

let started = false;
/** Set once a decode failed for want of the module (not of a bad file): every later call says no. */
let unavailable = false;

/**
 * The decoded pixels, or null when this decoder cannot or should not answer and the browser's
 * must (the module did not load, or the file is one libjpeg refuses, such as CMYK to RGB).
 */
export async function decodeJpegWasm(bytes: ArrayBuffer): Promise<ImageData | null> {
  if (unavailable) return null;
  if (!started) {
    started = true;
    // The package's own lookup resolves the wasm beside its script, which a bundle moves. libjpeg's
    // warnings and errors would go to the console: the browser's decoder, which the caller falls
    // back to, says what is wrong with a file.
    const quiet = () => {};
    void init({ locateFile: () => wasmUrl, print: quiet, printErr: quiet } as Parameters<typeof init>[0]);
  }
  try {
    return await decode(bytes);
  } catch (error) {
    // libjpeg refusing a file ends its run with an ExitStatus (the module stays usable) or gives no
    // image; anything else means the module itself did not load or broke.
    const refused = (error as { name?: unknown } | null)?.name === 'ExitStatus' || (error instanceof Error && error.message === 'Decoding error');
    if (!refused) unavailable = true;
    return null;
  }
}
