// CPU seconds of one process's threads, grouped by what each thread's name says runs on it (Linux,
// /proc/<pid>/task/*/stat): `main` the JS thread (tid = pid), `workers` the addon's native worker pools
// (sw-worker-* for audio, sw-video-* for video), `network` libdatachannel's threads ("RTC worker",
// "RTC poll", "juice poll", "SCTP timer": receive, SRTP, ICE, SCTP), `other` the rest (Silero's
// worker_threads thread, V8's platform and GC threads, libuv's pool). Used by the scale and video benches.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export type ThreadGroup = 'main' | 'workers' | 'network' | 'other';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function threadGroup(pid: number, tid: number, name: string): ThreadGroup {
  if (tid === pid) return 'main';
  if (name.startsWith('sw-')) return 'workers';
  if (/^(RTC |juice|SCTP|usrsctp)/.test(name)) return 'network';
  return 'other';
}

/** CPU seconds (user + system) so far of `pid`'s live threads, by group; all zero if the process is gone. */
export function threadCpuByGroup(pid: number): Record<ThreadGroup, number> {
  const out: Record<ThreadGroup, number> = { main: 0, workers: 0, network: 0, other: 0 };
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 (f[0] is field 3, the state).
      out[threadGroup(pid, Number(tid), name)] += (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
      // The thread ended between the listing and the read: its CPU is gone with it.
    }
  }
  return out;
}
