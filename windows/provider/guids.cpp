// The interface ids of vss.h, vsprov.h and vsadmin.h are declared with DEFINE_GUID and
// defined nowhere in mingw-w64's libraries: this file defines them once.
#include <windows.h>
#include <initguid.h>
#include <vss.h>
#include <vsprov.h>
#include <vsadmin.h>
