# The addon build used by `npm install` (node-gyp-build falls back to it when no prebuild matches) and by
# `npm run prebuild` (prebuildify). The source list comes from scripts/native-sources.mjs, shared with
# native/CMakeLists.txt (the developer build with unit tests, fuzzers and sanitizers).
#
# SMALL_WEBRTC_STATIC=1 links libopus, speexdsp, libvpx, libyuv (and libjpeg, which libyuv pulls in),
# libstdc++ and libgcc statically, so a prebuilt binary needs only glibc at run time. Debian's libopus.a and
# libspeexdsp.a are not position-independent: they reach libc's `stderr` with R_X86_64_PC32 relocations,
# which cannot bind to a shared library's symbol. native/static/stderr_shim.cc defines a hidden
# module-local `stderr` (so those relocations resolve inside our .so) and points it at libc's at load time.
{
  'variables': {
    'small_webrtc_static%': '<!(node -p "process.env.SMALL_WEBRTC_STATIC === \'1\' ? 1 : 0")',
  },
  'targets': [
    {
      'target_name': 'small_webrtc',
      'sources': ['<!@(node scripts/native-sources.mjs)'],
      'include_dirs': [
        'native',
        '<!(node -p "require(\'node-addon-api\').include_dir")',
        '<!@(pkg-config --cflags-only-I opus | sed s/-I//g)',
      ],
      'defines': ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags!': ['-fno-exceptions', '-fno-rtti'],
      'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-std=gnu++20'],
      'cflags': ['-fvisibility=hidden', '-Wall', '-Wextra', '-Wno-unused-parameter'],
      'cflags_cc': ['-std=c++17', '-fexceptions', '-frtti', '-fvisibility=hidden'],
      'conditions': [
        ['small_webrtc_static==1', {
          'sources': ['native/static/stderr_shim.cc'],
          'defines': ['SMALL_WEBRTC_STATIC'],
          'libraries': [
            '-Wl,-Bstatic',
            '-lopus', '-lspeexdsp', '-lvpx', '-lyuv', '-ljpeg',
            '-Wl,-Bdynamic',
            '-lm', '-lpthread', '-ldl',
          ],
          'ldflags': [
            '-static-libstdc++', '-static-libgcc', '-Wl,--exclude-libs,ALL', '-Wl,--as-needed',
            '-Wl,--version-script=<(module_root_dir)/native/static/exports.map',
          ],
        }, {
          'libraries': ['<!@(pkg-config --libs opus speexdsp vpx)', '-lyuv'],
        }],
      ],
    },
  ],
}
