// IVssAsync for ResyncLuns: the service call runs on its own thread; VSS waits on it and
// reads the outcome with QueryStatus.
#pragma once

#include <windows.h>
#include <vss.h>

#include "json.h"

namespace vssorch {

HRESULT startAsyncCall(const char *call, Json args, IVssAsync **ppAsync);

}  // namespace vssorch
