/**
 * Downloads from the app and checks of the zip it exports, with Info-ZIP's `unzip` (an independent
 * reader: a zip it accepts is one users' tools accept).
 *
 * Names: the app's zip writer (client-zip) sets the UTF-8 flag (general-purpose bit 11) on every entry,
 * and Debian's unzip 6.0 then reads names as UTF-8 whatever the locale, so no `-O` is needed (that is
 * for archives *without* the flag). We still run unzip under a UTF-8 locale so its messages print names
 * as UTF-8 rather than escapes. Entry names given on unzip's command line are wildcard patterns, so
 * readZipEntry escapes them.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';

const run = promisify(execFile);
const UNZIP = '/usr/bin/unzip';
const ENV = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
const BIG = 1 << 30;

/** Clicks `selector`, waits for the download it starts, saves it in destDir under its suggested name; returns the path. */
export async function downloadVia(page: Page, selector: string, destDir: string, timeoutMs = 120_000): Promise<string> {
  await mkdir(destDir, { recursive: true });
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: timeoutMs }),
    page.locator(selector).first().click(),
  ]);
  const failure = await download.failure();
  if (failure) throw new Error(`download from ${selector} failed: ${failure}`);
  const file = path.join(destDir, download.suggestedFilename());
  await download.saveAs(file);
  return file;
}

/** `unzip -t`: CRCs and structure. Never throws for a bad zip; ok is false and output says why. */
export async function unzipTest(zip: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(UNZIP, ['-t', zip], { env: ENV, maxBuffer: BIG });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

/** Entry names in archive order (`unzip -Z1`), directories with their trailing slash. */
export async function unzipList(zip: string): Promise<string[]> {
  const { stdout } = await run(UNZIP, ['-Z1', zip], { env: ENV, maxBuffer: BIG });
  return stdout.split('\n').filter((line) => line.length > 0);
}

/** Extracts everything into dir (created if needed), overwriting. */
export async function unzipExtract(zip: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run(UNZIP, ['-o', '-q', zip, '-d', dir], { env: ENV, maxBuffer: BIG });
}

/** Escapes unzip's wildcard characters (and a leading '-') so a name matches only itself. */
function literalPattern(name: string): string {
  return name.replace(/[\\[\]*?]/g, '\\$&').replace(/^-/, '\\-');
}

/** The bytes of one entry (`unzip -p`); throws if there is no such entry. */
export async function readZipEntry(zip: string, name: string): Promise<Buffer> {
  const { stdout } = await run(UNZIP, ['-p', zip, literalPattern(name)], { env: ENV, maxBuffer: BIG, encoding: 'buffer' });
  return stdout;
}
