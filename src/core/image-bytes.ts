/**
 * Byte readers for the format sniffers and header parsers. Callers check lengths first; an
 * out-of-range index reads as undefined, which the bit operations turn into 0, so a missed check
 * gives a wrong number, never an exception.
 */

export function ascii(b: Uint8Array, at: number, length: number): string {
  let s = '';
  for (let i = at; i < at + length && i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

export function bytesAt(b: Uint8Array, at: number, expected: readonly number[]): boolean {
  if (at + expected.length > b.length) return false;
  for (let i = 0; i < expected.length; i++) if (b[at + i] !== expected[i]) return false;
  return true;
}

export const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
export const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
export const u24le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
export const u32be = (b: Uint8Array, i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
export const u32le = (b: Uint8Array, i: number) => ((b[i + 3] << 24) | (b[i + 2] << 16) | (b[i + 1] << 8) | b[i]) >>> 0;
export const i32le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

export function hexBytes(b: Uint8Array, count: number): string {
  return Array.from(b.subarray(0, count), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

export function matches(head: Uint8Array, at: number, bytes: readonly number[] | string): boolean {
  if (typeof bytes !== 'string') return bytesAt(head, at, bytes);
  return at + bytes.length <= head.length && ascii(head, at, bytes.length) === bytes;
}

/** 1234567 → "1,234,567". */
export const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
