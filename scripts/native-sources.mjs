#!/usr/bin/env node
// Prints the addon's C++ sources (every .cc under native/core and native/binding), one per line, as paths
// relative to the package root. binding.gyp expands it with `<!@(node scripts/native-sources.mjs)` and
// native/CMakeLists.txt reads it with execute_process, so both builds compile the same list and a new .cc
// file is picked up without editing either. Sorted so the order (and thus the link) is deterministic.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir, out) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out; // a missing directory (e.g. no core sources yet) contributes nothing
  }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.cc')) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

const files = [];
for (const dir of ['native/core', 'native/binding']) walk(join(root, dir), files);
files.sort();
// `--core` lists only the napi-free core (what the C++ unit tests and fuzzers link against).
const list = process.argv.includes('--core') ? files.filter((f) => f.startsWith('native/core/')) : files;
process.stdout.write(list.join('\n') + '\n');
