// scripts/check-import-cycles.mjs (run by `npm run lint`) on src/ and on small trees built here: it must
// pass the real tree and fail, naming the files, on a value cycle, a type-only cycle and a re-export cycle.
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/check-import-cycles.mjs', import.meta.url));
const dirs: string[] = [];

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Runs the script without blocking the test worker. */
function check(dir?: string): Promise<{ status: number | null; out: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      dir === undefined ? [script] : [script, dir],
      { encoding: 'utf8' },
      (err, stdout, stderr) => {
        done({
          status: err === null ? 0 : typeof err.code === 'number' ? err.code : null,
          out: stdout + stderr,
        });
      },
    );
  });
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('import cycle check', () => {
  it('passes on src/', async () => {
    const r = await check();
    expect(r.out).toContain('import cycles: none');
    expect(r.status).toBe(0);
  });

  it('passes on an acyclic tree that imports packages and a folder index', async () => {
    const dir = tree({
      'a.ts':
        "import { b } from './lib/index.js';\nimport x from 'node:fs';\nexport const a = b + String(x);\n",
      'lib/index.ts': "export { b } from './b.js';\n",
      'lib/b.ts': 'export const b = 1;\n',
    });
    expect((await check(dir)).status).toBe(0);
  });

  it('fails on a value cycle through three files and names them', async () => {
    const dir = tree({
      'a.ts': "import { b } from './b.js';\nexport const a = b;\n",
      'b.ts': "import { c } from './sub/c.js';\nexport const b = c;\n",
      'sub/c.ts': "import { a } from '../a.js';\nexport const c = () => a;\n",
    });
    const r = await check(dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/a\.ts -> .*b\.ts -> .*sub\/c\.ts -> .*a\.ts/);
  });

  it('fails on a type-only cycle and on an export-from cycle', async () => {
    const typeOnly = tree({
      'x.ts': "import type { Y } from './y.js';\nexport interface X { y?: Y }\n",
      'y.ts': "import type { X } from './x.js';\nexport interface Y { x?: X }\n",
    });
    expect((await check(typeOnly)).status).toBe(1);
    const reexport = tree({
      'index.ts': "export * from './m.js';\nexport const i = 1;\n",
      'm.ts': "export { i } from './index.js';\n",
    });
    expect((await check(reexport)).status).toBe(1);
  });
});
