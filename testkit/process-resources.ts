/**
 * What a process holds, for the leak and fault tests: RSS, open file descriptors (UDP sockets of
 * node-datachannel/libjuice are native descriptors that Node's own handle list does not show) and Node's
 * active resources by type. Linux (/proc) only.
 */
import { readdirSync } from 'node:fs';

/** A snapshot of {@link processResources}. */
export interface ProcessResources {
  /** Resident set size, MiB. */
  rssMiB: number;
  /** Open file descriptors (/proc/self/fd). */
  fds: number;
  /** process.getActiveResourcesInfo(), counted by type (e.g. `{ Timeout: 3, TCPServerWrap: 1 }`). */
  resources: Record<string, number>;
}

/** The current process's RSS, descriptors and active resources. */
export function processResources(): ProcessResources {
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  return {
    rssMiB: process.memoryUsage.rss() / 1048576,
    fds: readdirSync('/proc/self/fd').length,
    resources,
  };
}

/** Resource types whose count in `now` exceeds `base` by more than `slack`, as `type: base -> now`. */
export function grownResources(base: ProcessResources, now: ProcessResources, slack = 0): string[] {
  const out: string[] = [];
  for (const [type, n] of Object.entries(now.resources)) {
    const b = base.resources[type] ?? 0;
    if (n > b + slack) out.push(`${type}: ${b} -> ${n}`);
  }
  return out;
}
