#!/usr/bin/env node
// The benchmarks' peers are Debian packages: findimagedupes (intake) and python3-scipy (the
// clustering, run by /usr/bin/python3). As root with apt-get, what is missing is installed;
// otherwise this says what to install and the bench goes on, recording `peer: null` for those rows.
// Never fails the bench: a missing peer only means a row without a ratio. Plain Node ESM.
import { existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { canApt } from '../../tests/support/ensure-chromium.mjs';

const PEERS = [
  { pkg: 'findimagedupes', present: () => existsSync('/usr/bin/findimagedupes') },
  { pkg: 'python3-scipy', present: () => spawnSync('/usr/bin/python3', ['-c', 'import scipy.cluster.hierarchy'], { stdio: 'ignore' }).status === 0 },
];

let missing = PEERS.filter((p) => !p.present()).map((p) => p.pkg);
if (missing.length > 0 && canApt()) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    console.log(`ensure-peers: missing ${missing.join(', ')}; running: apt-get update && apt-get install -y ${missing.join(' ')}`);
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit', env });
  } catch (error) {
    console.warn(`ensure-peers: the install failed (${error instanceof Error ? error.message : error})`);
  }
  missing = PEERS.filter((p) => !p.present()).map((p) => p.pkg);
}
if (missing.length > 0) {
  console.warn(
    `ensure-peers: without ${missing.join(' and ')} the rows that compare with them get peer: null. ` +
      `Install with (as root): apt-get update && apt-get install -y ${missing.join(' ')}`,
  );
} else {
  console.log(`ensure-peers: ${PEERS.map((p) => p.pkg).join(', ')} present`);
}
