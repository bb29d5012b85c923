#!/usr/bin/env node
// Makes sure the two system tools the browser tests need are present: a Chromium for Playwright to
// drive (we never let Playwright download its own browser; that fails on these machines) and Info-ZIP
// `unzip` to check the exported zips. As root with apt-get it installs what is missing; otherwise it
// says exactly what to install and exits 1. Plain Node ESM, no dependencies.
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
const UNZIP = '/usr/bin/unzip';

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium to use: $CHROMIUM_PATH if set (it must exist), else the Debian paths. */
export function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return isExecutable(fromEnv) ? fromEnv : null;
  return CHROMIUM_CANDIDATES.find(isExecutable) ?? null;
}

export function findUnzip() {
  return isExecutable(UNZIP) ? UNZIP : null;
}

export function canApt() {
  return typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/usr/bin/apt-get');
}

function version(bin, args = ['--version']) {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}`.split('\n').find((l) => l.trim())?.trim() ?? '(no version output)';
}

function main() {
  const missing = [];
  if (!findChromium()) missing.push('chromium');
  if (!findUnzip()) missing.push('unzip');

  if (missing.length > 0 && process.env.CHROMIUM_PATH && missing.includes('chromium')) {
    console.error(`ensure-chromium: CHROMIUM_PATH=${process.env.CHROMIUM_PATH} is not an executable file.`);
    process.exit(1);
  }

  if (missing.length > 0) {
    if (canApt()) {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      console.log(`ensure-chromium: missing ${missing.join(', ')}; running: apt-get update`);
      execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
      console.log(`ensure-chromium: running: apt-get install -y ${missing.join(' ')}`);
      execFileSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit', env });
    } else {
      console.error(
        [
          `ensure-chromium: missing ${missing.join(' and ')}. Install with (as root, Debian/Ubuntu):`,
          `    apt-get update && apt-get install -y ${missing.join(' ')}`,
          'or point CHROMIUM_PATH at an existing Chromium/Chrome binary.',
          'Do not let Playwright download a browser: the tests drive the system Chromium.',
        ].join('\n'),
      );
      process.exit(1);
    }
  }

  const chromium = findChromium();
  const unzip = findUnzip();
  if (!chromium || !unzip) {
    console.error(`ensure-chromium: still missing after install: chromium=${chromium} unzip=${unzip}`);
    process.exit(1);
  }
  console.log(`ensure-chromium: ${chromium}: ${version(chromium)}`);
  console.log(`ensure-chromium: ${unzip}: ${version(unzip, ['-v'])}`);
}

// Run only as a script, so that the finders can be imported without side effects.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) main();
