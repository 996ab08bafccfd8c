#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

// Expose the system zlib (zlib1g-dev) to Swift; the modulemap links libz.
#include <zlib.h>

#endif
