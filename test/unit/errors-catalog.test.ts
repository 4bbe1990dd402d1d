// The error-code catalog is one list: src/errors.ts (ERROR_CODES), the native addon's constants
// (native/binding/errors.h), the codes that appear anywhere in src/ and native/binding/, and docs/errors.md
// must agree, and every error thrown in src/ carries a code.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, isSmallWebRTCErrorCode } from '../../src/errors.js';
import { buildRtcpBye, parseRtcp, parseRtp } from '../../src/media/rtp.js';
import { OpusDecoder } from '../../src/media/opus.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const catalog = Object.keys(ERROR_CODES).sort();

function filesUnder(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(rel, exts));
    else if (exts.some((e) => entry.name.endsWith(e))) out.push(rel);
  }
  return out;
}

/** Every quoted `ERR_*` string literal in `files` (comments excluded by requiring quotes). */
function quotedCodes(files: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const f of files) {
    for (const m of readFileSync(join(root, f), 'utf8').matchAll(/['"`](ERR_[A-Z0-9_]+)['"`]/g)) {
      found.set(m[1]!, f);
    }
  }
  return found;
}

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): { code?: unknown } {
  try {
    fn();
  } catch (err) {
    return err as { code?: unknown };
  }
  throw new Error('expected a throw');
}

describe('error-code catalog', () => {
  it('holds every code the native addon declares, and the addon declares each code once', () => {
    const header = readFileSync(join(root, 'native/binding/errors.h'), 'utf8');
    const native = [...header.matchAll(/constexpr const char\*\s+kErr\w+\s*=\s*"([A-Z0-9_]+)"/g)].map(
      (m) => m[1]!,
    );
    expect(native.length).toBeGreaterThanOrEqual(6);
    expect(new Set(native).size).toBe(native.length);
    expect(native.filter((c) => !isSmallWebRTCErrorCode(c))).toEqual([]);
    // The native-only codes are declared natively (so the TS list is not ahead of a missing constant).
    for (const c of ['ERR_RTP_MALFORMED', 'ERR_RTCP_MALFORMED', 'ERR_CODEC', 'ERR_BUFFER_TOO_SMALL'])
      expect(native).toContain(c);
  });

  it('holds every code used in src/ and native/binding/', () => {
    const used = quotedCodes([...filesUnder('src', ['.ts']), ...filesUnder('native/binding', ['.cc', '.h'])]);
    const unknown = [...used].filter(([c]) => !isSmallWebRTCErrorCode(c)).map(([c, f]) => `${c} (${f})`);
    expect(unknown).toEqual([]);
  });

  it('is documented code by code in docs/errors.md', () => {
    const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!).sort();
    expect(rows).toEqual(catalog);
  });

  it('describes each code', () => {
    for (const code of catalog)
      expect(ERROR_CODES[code as keyof typeof ERROR_CODES].length).toBeGreaterThan(10);
  });

  it('matches the codes the addon really throws', () => {
    expect(thrown(() => parseRtp(new Uint8Array(3))).code).toBe('ERR_RTP_MALFORMED');
    expect(thrown(() => parseRtcp(new Uint8Array(0))).code).toBe('ERR_RTCP_MALFORMED');
    expect(thrown(() => buildRtcpBye({ ssrcs: new Array<number>(32).fill(1) })).code).toBe('ERR_INVALID_ARG');
    const dec = new OpusDecoder({ sampleRate: 48000, channels: 1 });
    try {
      expect(isSmallWebRTCErrorCode(thrown(() => dec.decode(new Uint8Array(0))).code)).toBe(true);
      expect(isSmallWebRTCErrorCode(thrown(() => dec.decode(Uint8Array.of(0x03, 0x00))).code)).toBe(true);
    } finally {
      dec.close();
    }
  });
});

describe('every error thrown in src/ carries a code', () => {
  // Browser code for the demo page is not part of the library.
  const files = filesUnder('src', ['.ts']).filter((f) => !f.startsWith(join('src', 'server', 'static')));

  it('has no uncoded `new Error/TypeError/RangeError(`', () => {
    const offenders: string[] = [];
    for (const f of files) {
      readFileSync(join(root, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (/\bnew (Type|Range)?Error\(/.test(line) && !/^\s*(\/\/|\*)/.test(line))
            offenders.push(`${relative(root, join(root, f))}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});
