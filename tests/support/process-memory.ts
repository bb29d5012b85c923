/**
 * Resident memory of a test's Chromium, from `ps`: the browser process launched on a profile folder
 * and every process under it (renderers, where pages and their workers live; GPU; utilities). A
 * page's own heap figures leave out its workers, and a file read whole into a worker shows up here.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Row {
  pid: number;
  ppid: number;
  rssKiB: number;
  args: string;
}

async function processes(): Promise<Row[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,ppid=,rss=,args='], { maxBuffer: 1 << 24 });
  return stdout.split('\n').flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), rssKiB: Number(m[3]), args: m[4] }] : [];
  });
}

/** RSS in bytes of the largest single process, and of all of them together, of the browser on this profile. */
export async function chromiumMemory(userDataDir: string): Promise<{ largest: number; total: number; processes: number }> {
  const rows = await processes();
  const roots = rows.filter((r) => r.args.includes(`--user-data-dir=${userDataDir}`) && !r.args.includes('--type='));
  const members = new Set(roots.map((r) => r.pid));
  // Children may be listed before their parents: repeat until nothing is added.
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) {
      if (!members.has(r.pid) && members.has(r.ppid)) {
        members.add(r.pid);
        grew = true;
      }
    }
  }
  const mine = rows.filter((r) => members.has(r.pid));
  return {
    largest: Math.max(0, ...mine.map((r) => r.rssKiB * 1024)),
    total: mine.reduce((n, r) => n + r.rssKiB * 1024, 0),
    processes: mine.length,
  };
}

/** Samples chromiumMemory every intervalMs until stop() is called; stop() returns the peaks seen. */
export function watchChromiumMemory(userDataDir: string, intervalMs = 200): { stop(): Promise<{ largest: number; total: number; samples: number }> } {
  let largest = 0;
  let total = 0;
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const m = await chromiumMemory(userDataDir);
      if (m.processes > 0) {
        largest = Math.max(largest, m.largest);
        total = Math.max(total, m.total);
        samples++;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { largest, total, samples };
    },
  };
}
