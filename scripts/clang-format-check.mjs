// Runs clang-format --dry-run --Werror over every C/C++ source under native/ (used by `npm run lint`).
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(cc|cpp|h|hpp)$/.test(name)) out.push(p);
  }
  return out;
}
const files = walk('native', []);
if (files.length > 0) execFileSync('clang-format', ['--dry-run', '--Werror', ...files], { stdio: 'inherit' });
