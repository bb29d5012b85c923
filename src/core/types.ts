/** Shared data shapes. Pure types only: every layer may import this file. */

export const HASH_KINDS = ['phash', 'dhash', 'ahash', 'whash'] as const;
export type HashKind = (typeof HASH_KINDS)[number];

/** A 64-bit perceptual hash as 16 lowercase hex digits, first bit most significant (imagehash order). */
export type Hash64 = string;

export type HashSet = Record<HashKind, Hash64>;

/** What the hash worker computes for one file's bytes; stored in the feature store by sha256. */
export interface ImageFeatures {
  sha256: string;
  /** Size of the image as displayed (after EXIF orientation). */
  width: number;
  height: number;
  /** Hashes of the image as displayed. */
  hashes: HashSet;
  /** Hashes of its horizontal mirror, so a mirrored copy is found too. */
  mirrored: HashSet;
}

/** Why a file was not analysed. Stable strings: they are written to the manifest. */
export type SkipReason =
  | 'empty-file'
  | 'not-an-image'
  | 'unsupported-format'
  | 'corrupt-image'
  | 'too-large'
  | 'read-error'
  /** Something in our own pipeline failed on this file (a worker crash, a bug); the run goes on. */
  | 'analysis-failed'
  /** The run was cancelled before this file was analysed. */
  | 'not-analysed';

/** One input file as the intake sees it, before analysis. */
export interface InputFile {
  /** Index in the run, stable for the run. */
  id: number;
  /** Path relative to the dropped root, '/'-separated, root folder name excluded. */
  path: string;
  /** Class label: first folder level below the root, or '' for a flat folder. */
  label: string;
  size: number;
  lastModified: number;
}

/** Per-file result of analysis: either features or a reason it was skipped. */
export type AnalysisResult =
  | { ok: true; features: ImageFeatures; format: string }
  | { ok: false; sha256: string | null; reason: SkipReason; detail: string };

export type KeeperRule = 'resolution' | 'filesize' | 'shortest-path';
