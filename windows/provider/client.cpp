#include "client.h"

#include <winhttp.h>
#include <vsserror.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "lun.h"

namespace vssorch {

namespace {

std::wstring env(const wchar_t *name) {
    wchar_t buf[1024];
    DWORD n = GetEnvironmentVariableW(name, buf, 1024);
    return n > 0 && n < 1024 ? std::wstring(buf, n) : std::wstring();
}

std::wstring registry(const wchar_t *name) {
    wchar_t buf[1024];
    DWORD size = sizeof buf;
    if (RegGetValueW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\vssorch\\Provider", name, RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ,
                     nullptr, buf, &size) != ERROR_SUCCESS)
        return L"";
    return buf;
}

std::wstring setting(const wchar_t *envName, const wchar_t *regName) {
    std::wstring v = env(envName);
    return v.empty() ? registry(regName) : v;
}

bool loopback(const std::wstring &host) {
    return host == L"localhost" || host == L"::1" || host.rfind(L"127.", 0) == 0;
}

std::wstring widen(const std::string &s) {
    if (s.empty()) return L"";
    int n = MultiByteToWideChar(CP_UTF8, 0, s.c_str(), static_cast<int>(s.size()), nullptr, 0);
    std::wstring out(n, L'\0');
    MultiByteToWideChar(CP_UTF8, 0, s.c_str(), static_cast<int>(s.size()), &out[0], n);
    return out;
}

bool readToken(const std::wstring &path, std::string &token) {
    HANDLE f = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (f == INVALID_HANDLE_VALUE) return false;
    char buf[4096];
    DWORD got = 0;
    BOOL ok = ReadFile(f, buf, sizeof buf - 1, &got, nullptr);
    CloseHandle(f);
    if (!ok) return false;
    token.assign(buf, got);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
    return !token.empty();
}

struct HttpHandle {
    HINTERNET h = nullptr;
    explicit HttpHandle(HINTERNET handle) : h(handle) {}
    ~HttpHandle() { if (h) WinHttpCloseHandle(h); }
    HttpHandle(const HttpHandle &) = delete;
    HttpHandle &operator=(const HttpHandle &) = delete;
};

HRESULT veto(const char *call, const std::string &why) {
    reportEvent(EVENTLOG_ERROR_TYPE, std::string("vssorch provider: ") + call + " vetoed: " + why);
    return VSS_E_PROVIDER_VETO;
}

}  // namespace

Settings loadSettings() {
    Settings s;
    std::wstring url = setting(L"VSSORCH_SERVICE_URL", L"ServiceUrl");
    if (url.empty()) url = L"http://127.0.0.1:5990";
    const std::wstring scheme = L"http://";
    std::wstring rest = url.compare(0, scheme.size(), scheme) == 0 ? url.substr(scheme.size()) : L"";
    while (!rest.empty() && rest.back() == L'/') rest.pop_back();
    size_t colon = rest.rfind(L':');
    if (rest.empty() || colon == std::wstring::npos) {
        s.problem = "the service URL is not http://HOST:PORT: " + toUtf8(url.c_str());
    } else {
        s.host = rest.substr(0, colon);
        if (s.host.size() > 2 && s.host.front() == L'[' && s.host.back() == L']') s.host = s.host.substr(1, s.host.size() - 2);
        s.port = static_cast<unsigned short>(wcstoul(rest.c_str() + colon + 1, nullptr, 10));
        if (!loopback(s.host)) s.problem = "the service URL is not a loopback address: " + toUtf8(url.c_str());
    }
    s.tokenFile = setting(L"VSSORCH_TOKEN_FILE", L"TokenFile");
    if (s.tokenFile.empty()) {
        std::wstring pd = env(L"ProgramData");
        s.tokenFile = (pd.empty() ? L"C:\\ProgramData" : pd) + L"\\vssorch\\state\\service.token";
    }
    std::wstring t = setting(L"VSSORCH_TIMEOUT_MS", L"TimeoutMs");
    if (!t.empty()) s.timeoutMs = wcstoul(t.c_str(), nullptr, 10);
    t = setting(L"VSSORCH_COMMIT_TIMEOUT_MS", L"CommitTimeoutMs");
    if (!t.empty()) s.commitTimeoutMs = wcstoul(t.c_str(), nullptr, 10);
    if (s.commitTimeoutMs > s.timeoutMs) s.commitTimeoutMs = s.timeoutMs;
    s.logFile = setting(L"VSSORCH_PROVIDER_LOG", L"LogFile");
    return s;
}

void reportEvent(WORD type, const std::string &message) {
    std::wstring w = widen(message);
    OutputDebugStringW((w + L"\n").c_str());
    if (HANDLE src = RegisterEventSourceW(nullptr, L"vssorch")) {
        LPCWSTR strings[] = {w.c_str()};
        ReportEventW(src, type, 0, 1, nullptr, 1, 0, strings, nullptr);
        DeregisterEventSource(src);
    }
    std::wstring path = setting(L"VSSORCH_PROVIDER_LOG", L"LogFile");
    if (path.empty()) return;
    HANDLE f = CreateFileW(path.c_str(), FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, nullptr);
    if (f == INVALID_HANDLE_VALUE) return;
    SYSTEMTIME now;
    GetSystemTime(&now);
    char stamp[40];
    wsprintfA(stamp, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ ", now.wYear, now.wMonth, now.wDay, now.wHour, now.wMinute,
              now.wSecond, now.wMilliseconds);
    const char *level = type == EVENTLOG_ERROR_TYPE ? "error " : type == EVENTLOG_WARNING_TYPE ? "warning " : "info ";
    std::string line = std::string(stamp) + level + message + "\r\n";
    DWORD wrote;
    WriteFile(f, line.data(), static_cast<DWORD>(line.size()), &wrote, nullptr);
    CloseHandle(f);
}

HRESULT callService(const char *call, const Json &args, Json &result, bool commit) {
    Settings s = loadSettings();
    if (!s.problem.empty()) return veto(call, s.problem);
    std::string token;
    if (!readToken(s.tokenFile, token))
        return veto(call, "cannot read the service token file " + toUtf8(s.tokenFile.c_str()) +
                              " (is vssorch serve running?)");
    DWORD timeout = commit ? s.commitTimeoutMs : s.timeoutMs;

    HttpHandle session(WinHttpOpen(L"vssorch-provider", WINHTTP_ACCESS_TYPE_NO_PROXY, WINHTTP_NO_PROXY_NAME,
                                   WINHTTP_NO_PROXY_BYPASS, 0));
    if (!session.h) return veto(call, "WinHttpOpen failed: " + std::to_string(GetLastError()));
    WinHttpSetTimeouts(session.h, static_cast<int>(timeout), static_cast<int>(timeout), static_cast<int>(timeout),
                       static_cast<int>(timeout));
    HttpHandle conn(WinHttpConnect(session.h, s.host.c_str(), s.port, 0));
    std::wstring path = L"/v1/" + widen(call);
    HttpHandle req(conn.h ? WinHttpOpenRequest(conn.h, L"POST", path.c_str(), nullptr, WINHTTP_NO_REFERER,
                                               WINHTTP_DEFAULT_ACCEPT_TYPES, 0)
                          : nullptr);
    if (!req.h) return veto(call, "cannot open a request: " + std::to_string(GetLastError()));
    // waiting for the reply's headers has its own timeout (90 s unless set)
    WinHttpSetOption(req.h, WINHTTP_OPTION_RECEIVE_RESPONSE_TIMEOUT, &timeout, sizeof timeout);
    std::string body = args.dump();
    std::wstring headers = L"Content-Type: application/json\r\nAuthorization: Bearer " + widen(token) + L"\r\n";
    std::string reply;
    BOOL ok = WinHttpSendRequest(req.h, headers.c_str(), static_cast<DWORD>(-1), const_cast<char *>(body.data()),
                                 static_cast<DWORD>(body.size()), static_cast<DWORD>(body.size()), 0) &&
              WinHttpReceiveResponse(req.h, nullptr);
    DWORD status = 0, size = sizeof status;
    if (ok)
        ok = WinHttpQueryHeaders(req.h, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER, WINHTTP_HEADER_NAME_BY_INDEX,
                                 &status, &size, WINHTTP_NO_HEADER_INDEX);
    for (DWORD avail = 0; ok && WinHttpQueryDataAvailable(req.h, &avail) && avail > 0;) {
        std::vector<char> buf(avail);
        DWORD got = 0;
        ok = WinHttpReadData(req.h, buf.data(), avail, &got);
        reply.append(buf.data(), got);
        if (reply.size() > (8u << 20)) return veto(call, "the service's reply is larger than 8 MiB");
    }
    if (!ok) {
        DWORD err = GetLastError();
        if (err == ERROR_WINHTTP_TIMEOUT || err == WSAETIMEDOUT)   // Wine's WinHTTP gives the socket's error
            return veto(call, "vssorch serve did not answer within " + std::to_string(timeout) + " ms");
        if (err == ERROR_WINHTTP_CANNOT_CONNECT)
            return veto(call, "vssorch serve is not listening at " + toUtf8(s.host.c_str()) + ":" + std::to_string(s.port));
        return veto(call, "the request to vssorch serve failed: WinHTTP error " + std::to_string(err));
    }

    Json parsed;
    std::string error;
    if (status == 401) return veto(call, "vssorch serve refused the token (a stale token file?)");
    if (!Json::parse(reply, parsed, error) || !parsed.isObject()) {
        reportEvent(EVENTLOG_ERROR_TYPE, std::string("vssorch provider: ") + call + ": unreadable reply (HTTP " +
                                             std::to_string(status) + "): " + error);
        return VSS_E_UNEXPECTED_PROVIDER_ERROR;
    }
    if (status != 200 && status != 500) {   // 500 still carries an HRESULT
        reportEvent(EVENTLOG_ERROR_TYPE, std::string("vssorch provider: ") + call + ": HTTP " + std::to_string(status) +
                                             ": " + parsed.str("error"));
        return VSS_E_UNEXPECTED_PROVIDER_ERROR;
    }
    std::string hr = parsed.str("hr");
    if (hr.size() != 10 || hr.compare(0, 2, "0x") != 0) {
        reportEvent(EVENTLOG_ERROR_TYPE, std::string("vssorch provider: ") + call + ": the reply has no hr");
        return VSS_E_UNEXPECTED_PROVIDER_ERROR;
    }
    HRESULT result_hr = static_cast<HRESULT>(std::strtoul(hr.c_str() + 2, nullptr, 16));
    if (const Json *r = parsed.get("result")) result = *r;
    if (FAILED(result_hr))
        reportEvent(EVENTLOG_ERROR_TYPE, std::string("vssorch provider: ") + call + ": " + parsed.str("error"));
    return result_hr;
}

}  // namespace vssorch
