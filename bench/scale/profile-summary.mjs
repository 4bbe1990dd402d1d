// Summarizes a V8 .cpuprofile (node --cpu-prof, or bench/scale/server.ts with SCALE_CPU_PROF=<dir>): self time
// by function and by module, as % of the profile's wall time (idle included, so the busy share is 100 - idle).
//
// usage: node bench/scale/profile-summary.mjs <file.cpuprofile> [--top 25]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/scale/profile-summary.mjs <file.cpuprofile> [--top N]');
const ti = process.argv.indexOf('--top');
const TOP = ti > 0 ? Number(process.argv[ti + 1]) : 25;
const p = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
for (let i = 0; i < p.samples.length; i++) {
  const dt = p.timeDeltas[i + 1] ?? 0;
  self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
}
const total = p.endTime - p.startTime;
const module = (url) => {
  if (!url) return '(native / runtime)';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  const s = url.match(/\/(src|examples|bench|testkit)\/(.*)$/);
  if (s) return `${s[1]}/${s[2]}`;
  if (url.startsWith('node:')) return 'node: (core)';
  return url;
};
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n);
// A native function (no script URL: an addon or V8 builtin) is charged to its nearest JS caller, marked "native in".
const jsCaller = (n) => {
  let q = parent.get(n.id);
  while (q && !q.callFrame.url) q = parent.get(q.id);
  return q;
};
const byFn = new Map();
const byMod = new Map();
for (const [id, t] of self) {
  const n = byId.get(id);
  let cf = n.callFrame;
  let name = cf.functionName || '(anonymous)';
  let mod = cf.url ? module(cf.url) : name.startsWith('(') ? name : '(native / runtime)';
  const caller =
    !cf.url && !['(idle)', '(program)', '(garbage collector)', '(root)'].includes(name)
      ? jsCaller(n)
      : undefined;
  if (caller) {
    cf = caller.callFrame;
    mod = `native in ${module(cf.url)}`;
    name = `native ${name} in ${cf.functionName || '(anonymous)'}`;
  }
  const key = `${name}  [${mod}${cf.url ? `:${cf.lineNumber + 1}` : ''}]`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  byMod.set(mod, (byMod.get(mod) ?? 0) + t);
}
const pct = (t) => ((100 * t) / total).toFixed(1).padStart(5);
console.log(`${file}: ${(total / 1e6).toFixed(1)} s, ${p.samples.length} samples`);
console.log('\nself time by module (% of wall time):');
for (const [k, t] of [...byMod].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(t)} %  ${k}`);
console.log('\nself time by function (% of wall time):');
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`${pct(t)} %  ${k}`);
