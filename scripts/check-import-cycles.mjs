#!/usr/bin/env node
// Fails (exit 1) when the TypeScript modules under src/ import each other in a cycle, printing one path per
// cycle. Run by `npm run lint`.
//
// Why type-only imports count too: a type-only cycle is harmless at run time today, but it is the same
// tangle of responsibilities, and a later value import along it turns into a load-order bug (a class used
// before its module finished evaluating). Every relative `import`, `import type`, `export ... from` and
// dynamic `import()` is an edge; package imports are not.
//
// Usage: node scripts/check-import-cycles.mjs [root-dir, default src]
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rootDir = resolve(repo, process.argv[2] ?? 'src');

/** Every .ts/.mts/.tsx file under `dir` (declaration files excluded). */
function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(m?ts|tsx)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The file a relative specifier names (ESM style `./x.js` is written for `./x.ts`), or null. */
function resolveSpecifier(from, specifier) {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(m?js|jsx)$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.mts`, `${stem}.tsx`, join(base, 'index.ts')]) {
    if (/\.(m?ts|tsx)$/.test(candidate) && existsSync(candidate)) return candidate;
  }
  return null;
}

const files = sourceFiles(rootDir);
/** @type {Map<string, string[]>} file -> files it imports (deduplicated, sorted for stable output). */
const graph = new Map();
for (const file of files) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const targets = new Set();
  for (const ref of info.importedFiles) {
    const target = resolveSpecifier(file, ref.fileName);
    if (target !== null && target.startsWith(rootDir)) targets.add(target);
  }
  graph.set(file, [...targets].sort());
}

// Tarjan's strongly connected components, iterative (no recursion limit on deep graphs).
let counter = 0;
const index = new Map();
const low = new Map();
const onStack = new Set();
const stack = [];
const components = [];
for (const start of [...graph.keys()].sort()) {
  if (index.has(start)) continue;
  const work = [{ node: start, next: 0 }];
  index.set(start, counter);
  low.set(start, counter++);
  stack.push(start);
  onStack.add(start);
  while (work.length > 0) {
    const frame = work[work.length - 1];
    const edges = graph.get(frame.node) ?? [];
    if (frame.next < edges.length) {
      const to = edges[frame.next++];
      if (!index.has(to)) {
        index.set(to, counter);
        low.set(to, counter++);
        stack.push(to);
        onStack.add(to);
        work.push({ node: to, next: 0 });
      } else if (onStack.has(to)) {
        low.set(frame.node, Math.min(low.get(frame.node), index.get(to)));
      }
      continue;
    }
    work.pop();
    if (work.length > 0) {
      const parent = work[work.length - 1].node;
      low.set(parent, Math.min(low.get(parent), low.get(frame.node)));
    }
    if (low.get(frame.node) === index.get(frame.node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.node);
      const selfLoop = component.length === 1 && (graph.get(member) ?? []).includes(member);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  }
}

/** One concrete cycle inside a component: breadth-first from its first file back to itself. */
function cyclePath(component) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const previous = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const to of graph.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

const rel = (f) => relative(repo, f);
if (components.length > 0) {
  console.error(`import cycles in ${rel(rootDir)}/ (${components.length}):`);
  for (const component of components) {
    console.error(`  ${cyclePath(component).map(rel).join(' -> ')}`);
    if (component.length > 2)
      console.error(`    (${component.length} files take part: ${component.map(rel).sort().join(', ')})`);
  }
  process.exit(1);
}
console.log(`import cycles: none in ${rel(rootDir)}/ (${files.length} files)`);
