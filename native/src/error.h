// error.h — internal error type: thrown inside the library, turned into a status + thread-local
// message at the C boundary (api.cpp). Never crosses the ABI.
#ifndef PANOPT_ERROR_H
#define PANOPT_ERROR_H

#include <stdexcept>
#include <string>

#include "../include/panopt.h"

namespace panopt {

struct Error : std::runtime_error {
    panopt_status status;
    Error(panopt_status s, const std::string& msg) : std::runtime_error(msg), status(s) {}
};

[[noreturn]] inline void fail(panopt_status s, const std::string& msg) { throw Error(s, msg); }

} // namespace panopt

#endif
