#!/usr/bin/env node
// Bundles the demo page's client (src/server/static/demo.ts + @pipecat-ai/client-js +
// @pipecat-ai/small-webrtc-transport and their dependencies) into src/server/static/demo.bundle.js with
// esbuild: one self-contained file, no CDN, works offline. Run by `npm run build:demo` (part of `npm run
// build`). When dist/ exists (after build:ts), the page and bundle are also copied to dist/server/static/
// so the published package can serve them.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const staticDir = join(root, 'src', 'server', 'static');
const outfile = join(staticDir, 'demo.bundle.js');

const result = await build({
  entryPoints: [join(staticDir, 'demo.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome109', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: false,
  // Third-party license headers kept at the end of the bundle.
  legalComments: 'eof',
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  logLevel: 'warning',
  metafile: true,
  write: false,
});

// Write to a temporary file and rename: tests that build concurrently (or a server serving the file while
// it is rebuilt) never see a half-written bundle.
const out = result.outputFiles.find((f) => f.path === outfile);
if (!out) throw new Error(`build-demo-client: esbuild produced no ${outfile}`);
const tmp = `${outfile}.${process.pid}.tmp`;
writeFileSync(tmp, out.contents);
renameSync(tmp, outfile);

const bytes = statSync(outfile).size;
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`build-demo-client: ${relative(root, outfile)} ${(bytes / 1024).toFixed(0)} KiB from ${inputs} inputs`);

const distStatic = join(root, 'dist', 'server', 'static');
if (existsSync(join(root, 'dist'))) {
  mkdirSync(distStatic, { recursive: true });
  for (const f of ['index.html', 'demo.bundle.js']) copyFileSync(join(staticDir, f), join(distStatic, f));
  console.log(`build-demo-client: copied index.html + demo.bundle.js to ${relative(root, distStatic)}`);
}
