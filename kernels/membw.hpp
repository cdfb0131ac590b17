// Memory-read bandwidth baseline: the roofline that decode kernels are measured against.
#pragma once

#include <cstddef>

namespace qtr::kernels {

// Streams a `bytes`-sized buffer (2 MiB-aligned, huge pages where allowed) with n_threads threads, `repeats`
// times; returns the best observed read bandwidth in bytes per second.
double measure_read_bandwidth(size_t bytes, int n_threads, int repeats);

}  // namespace qtr::kernels
