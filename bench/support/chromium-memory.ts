/** Memory of a Chromium that a benchmark started, read from /proc through `ps` (Linux). */
import { execFileSync } from 'node:child_process';

export interface Sample {
  rendererMB: number;
  gpuMB: number;
  totalMB: number;
}

/** Resident set of the Chromium started with this profile, by process type (from ps). */
export function chromiumMemory(userDataDir: string): Sample {
  const lines = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { maxBuffer: 1 << 24 }).toString().trim().split('\n');
  const procs = lines.map((l) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l)!;
    return { pid: Number(m[1]), ppid: Number(m[2]), rssKB: Number(m[3]), args: m[4] };
  });
  const root = procs.find((p) => p.args.includes(`--user-data-dir=${userDataDir}`) && !p.args.includes('--type='));
  if (!root) return { rendererMB: 0, gpuMB: 0, totalMB: 0 };
  const mine = new Set([root.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) (mine.add(p.pid), (grew = true));
  }
  let renderer = 0;
  let gpu = 0;
  let total = 0;
  for (const p of procs) {
    if (!mine.has(p.pid)) continue;
    total += p.rssKB;
    if (p.args.includes('--type=renderer')) renderer += p.rssKB;
    if (p.args.includes('--type=gpu-process')) gpu += p.rssKB;
  }
  return { rendererMB: renderer / 1024, gpuMB: gpu / 1024, totalMB: total / 1024 };
}
