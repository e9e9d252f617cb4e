// Boost.JSON compiled into the mingw build (Debian ships no Windows library of it).
#include <boost/json/src.hpp>
