/**
 * SHA-256 as lower-case hex: the content key of the feature store and the check on model files.
 * Web Crypto is standard in pages, workers and Node ≥ 20, so this stays importable everywhere.
 */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  let out = '';
  for (let i = 0; i < digest.length; i++) out += digest[i].toString(16).padStart(2, '0');
  return out;
}
