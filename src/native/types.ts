// The typed shape of the native addon (native/binding/*.cc). Each wrap file's exports are declared here as
// one interface, and `NativeAddon` is their intersection; src/native/binding.ts is the only place that
// loads the addon and casts it to this type. Keep these in sync with the C++ Init functions.

/** Exports of native/binding/version_wrap.cc. */
export interface NativeVersionBinding {
  /** Versions of the addon's N-API level and of the codec libraries it was linked against. */
  version(): NativeVersionInfo;
}

/** What {@link NativeVersionBinding.version} returns. */
export interface NativeVersionInfo {
  /** The N-API version the addon was built for (8). */
  readonly napi: number;
  /** libopus version string, e.g. `libopus 1.3.1`. */
  readonly opus: string;
  /** libvpx version string, e.g. `v1.12.0`. */
  readonly vpx: string;
  /** True when the codecs are linked statically (a prebuilt binary). */
  readonly staticCodecs: boolean;
}

/** Everything the addon exports. Other native parts add their binding interface to this intersection. */
export type NativeAddon = NativeVersionBinding;
