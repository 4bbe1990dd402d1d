// Types of scripts/smoke/lib.mjs for the TypeScript tests that import it (test/native/prebuilt.test.ts).
export declare const root: string;
export declare function run(
  cmd: string,
  args: string[],
  opts?: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<string>;
export declare function newest(dir: string, re: RegExp): number;
export declare function ensurePrebuild(arch?: string): Promise<string>;
export declare function ensureDist(): Promise<void>;
export declare function packTarball(dir: string): Promise<string>;
export declare function compilerFreeBin(
  dir: string,
  opts?: { node?: string; qemu?: string; arch?: string },
): Promise<NodeJS.ProcessEnv>;
export declare function installTarball(
  dir: string,
  tgz: string,
  env: NodeJS.ProcessEnv,
): Promise<{ pkg: string; out: string }>;
/** What scripts/smoke/app.mjs prints (ok: false with `failed` when a check failed). */
export interface SmokeResult {
  ok: boolean;
  failed?: string;
  node: string;
  arch: string;
  platform: string;
  addon: { path: string; napi: number; opus: string; vpx: string; staticCodecs: boolean };
  opus: { accepted: number; packets: number; consecutive: boolean; frames: number; rms: number; ms: number };
  vp8: { width: number; height: number; encodedBytes: number; mae: number; ms: number };
  server: { port: number; ms: number };
  offer: { pcId: string; peerState: string; channelOpen: boolean; serverConnected: boolean; ms: number };
  ms: number;
}
export declare function runSmokeApp(
  dir: string,
  env: NodeJS.ProcessEnv,
  opts?: { timeoutMs?: number },
): Promise<SmokeResult>;
export declare function nodeFromRegistry(
  spec: string,
  dir: string,
): Promise<{ node: string; version: string }>;
