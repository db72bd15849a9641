#include "async.h"

#include <vsserror.h>

#include <new>
#include <utility>

#include "client.h"
#include "provider.h"

namespace vssorch {

namespace {

class AsyncCall final : public IVssAsync {
public:
    AsyncCall(const char *call, Json args) : call_(call), args_(std::move(args)) {
        InterlockedIncrement(&g_objects);
        done_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    }
    AsyncCall(const AsyncCall &) = delete;
    AsyncCall &operator=(const AsyncCall &) = delete;

    HRESULT start() {
        if (!done_) return E_OUTOFMEMORY;
        // the thread holds a reference on this object and on the DLL until it has returned
        HMODULE self = nullptr;
        if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, reinterpret_cast<LPCWSTR>(&run), &self))
            return HRESULT_FROM_WIN32(GetLastError());
        AddRef();
        HANDLE t = CreateThread(nullptr, 0, run, this, 0, nullptr);
        if (!t) {
            HRESULT hr = HRESULT_FROM_WIN32(GetLastError());
            Release();
            FreeLibrary(self);
            return hr;
        }
        CloseHandle(t);
        return S_OK;
    }

    STDMETHODIMP QueryInterface(REFIID riid, void **ppv) override {
        if (!ppv) return E_POINTER;
        if (riid != IID_IUnknown && riid != IID_IVssAsync) {
            *ppv = nullptr;
            return E_NOINTERFACE;
        }
        *ppv = static_cast<IVssAsync *>(this);
        AddRef();
        return S_OK;
    }
    STDMETHODIMP_(ULONG) AddRef() override { return static_cast<ULONG>(InterlockedIncrement(&refs_)); }
    STDMETHODIMP_(ULONG) Release() override {
        LONG n = InterlockedDecrement(&refs_);
        if (n == 0) delete this;
        return static_cast<ULONG>(n);
    }

    // The service finishes a resync it has started; it cannot be cancelled half way.
    STDMETHODIMP Cancel() override { return finished() ? VSS_S_ASYNC_FINISHED : E_NOTIMPL; }

    STDMETHODIMP Wait(DWORD dwMilliseconds) override {
        DWORD r = WaitForSingleObject(done_, dwMilliseconds);
        return r == WAIT_OBJECT_0 ? S_OK : r == WAIT_TIMEOUT ? VSS_S_ASYNC_PENDING : HRESULT_FROM_WIN32(GetLastError());
    }

    STDMETHODIMP QueryStatus(HRESULT *pHrResult, INT *) override {
        if (!pHrResult) return E_INVALIDARG;
        *pHrResult = !finished() ? VSS_S_ASYNC_PENDING : SUCCEEDED(hr_) ? VSS_S_ASYNC_FINISHED : hr_;
        return S_OK;
    }

private:
    ~AsyncCall() {
        if (done_) CloseHandle(done_);
        InterlockedDecrement(&g_objects);
    }
    bool finished() const { return WaitForSingleObject(done_, 0) == WAIT_OBJECT_0; }

    static DWORD WINAPI run(void *p) {
        auto *self = static_cast<AsyncCall *>(p);
        Json result;
        self->hr_ = callService(self->call_, self->args_, result);
        SetEvent(self->done_);
        self->Release();
        HMODULE module = nullptr;
        GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                           reinterpret_cast<LPCWSTR>(&run), &module);
        FreeLibraryAndExitThread(module, 0);
    }

    volatile LONG refs_ = 1;
    const char *call_;
    Json args_;
    HANDLE done_ = nullptr;
    volatile HRESULT hr_ = S_OK;
};

}  // namespace

HRESULT startAsyncCall(const char *call, Json args, IVssAsync **ppAsync) {
    auto *a = new (std::nothrow) AsyncCall(call, std::move(args));
    if (!a) return E_OUTOFMEMORY;
    HRESULT hr = a->start();
    if (FAILED(hr)) {
        a->Release();
        return hr;
    }
    *ppAsync = a;
    return S_OK;
}

}  // namespace vssorch
