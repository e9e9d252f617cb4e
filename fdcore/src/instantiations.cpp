// The two host handle types the platforms use, compiled once here: an int fd (Linux) and a HANDLE-sized
// value (Windows).
#include <cstdint>

#include "fdcore/files_state.hpp"
#include "fdcore/process_files.hpp"

namespace fdcore {

template class FilesState<int>;
template class FilesState<std::uintptr_t>;
template class ProcessFiles<int>;
template class ProcessFiles<std::uintptr_t>;

}  // namespace fdcore
