// Compiled only into the static (prebuild) variant of the addon; see binding.gyp.
//
// Debian's libopus.a and libspeexdsp.a are built without -fPIC, so their objects refer to libc's `stderr`
// through R_X86_64_PC32 relocations, which the linker cannot bind to a symbol of a shared library when
// building a .so. Defining a hidden `stderr` in this module satisfies those relocations locally; the
// constructor below copies libc's stream pointer into it before any codec code can run, so the libraries'
// diagnostics still reach the process's real stderr.
#include <dlfcn.h>

struct _IO_FILE;

extern "C" {
// Deliberately not <stdio.h>: it declares libc's `stderr`, which this definition stands in for.
__attribute__((visibility("hidden"))) _IO_FILE* stderr = nullptr;
}

namespace {

__attribute__((constructor)) void BindStderr() {
  // RTLD_DEFAULT cannot see our hidden definition, so this finds the process-wide (libc's) `stderr`.
  void* sym = dlsym(RTLD_DEFAULT, "stderr");
  if (sym != nullptr) stderr = *static_cast<_IO_FILE**>(sym);
}

}  // namespace
