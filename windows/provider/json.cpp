#include "json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace vssorch {

const Json *Json::get(const std::string &key) const {
    if (type_ != Type::Object) return nullptr;
    for (const auto &kv : obj_)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

std::string Json::str(const std::string &key, const std::string &fallback) const {
    const Json *v = get(key);
    return v && v->isString() ? v->str_ : fallback;
}

Json &Json::set(const std::string &key, Json value) {
    type_ = Type::Object;
    obj_.emplace_back(key, std::move(value));
    return *this;
}

Json &Json::push(Json value) {
    type_ = Type::Array;
    arr_.push_back(std::move(value));
    return *this;
}

static void quote(const std::string &s, std::string &out) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);   // UTF-8 passes through
            }
        }
    }
    out += '"';
}

void Json::dumpTo(std::string &out) const {
    switch (type_) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += bool_ ? "true" : "false"; break;
    case Type::Number: {
        char buf[32];
        if (std::floor(num_) == num_ && std::fabs(num_) < 9007199254740992.0)
            std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(num_));
        else
            std::snprintf(buf, sizeof buf, "%.15g", num_);
        out += buf;
        break;
    }
    case Type::String: quote(str_, out); break;
    case Type::Array:
        out += '[';
        for (size_t i = 0; i < arr_.size(); ++i) {
            if (i) out += ',';
            arr_[i].dumpTo(out);
        }
        out += ']';
        break;
    case Type::Object:
        out += '{';
        for (size_t i = 0; i < obj_.size(); ++i) {
            if (i) out += ',';
            quote(obj_[i].first, out);
            out += ':';
            obj_[i].second.dumpTo(out);
        }
        out += '}';
        break;
    }
}

std::string Json::dump() const {
    std::string out;
    dumpTo(out);
    return out;
}

namespace {

void utf8(unsigned cp, std::string &out) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

struct Parser {
    const std::string &s;
    size_t i = 0;
    std::string error;
    int depth = 0;

    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
    }
    bool fail(const char *why) {
        if (error.empty()) error = std::string(why) + " at offset " + std::to_string(i);
        return false;
    }
    bool literal(const char *word) {
        size_t n = std::char_traits<char>::length(word);
        if (s.compare(i, n, word) != 0) return fail("unexpected token");
        i += n;
        return true;
    }
    bool hex4(unsigned &cp) {
        if (i + 4 > s.size()) return fail("short \\u escape");
        cp = 0;
        for (int k = 0; k < 4; ++k) {
            char c = s[i++];
            cp <<= 4;
            if (c >= '0' && c <= '9') cp |= c - '0';
            else if (c >= 'a' && c <= 'f') cp |= c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') cp |= c - 'A' + 10;
            else return fail("bad \\u escape");
        }
        return true;
    }
    bool string(std::string &out) {
        ++i;   // the opening quote
        while (i < s.size()) {
            char c = s[i++];
            if (c == '"') return true;
            if (c != '\\') { out += c; continue; }
            if (i >= s.size()) break;
            char e = s[i++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                unsigned cp = 0;
                if (!hex4(cp)) return false;
                if (cp >= 0xD800 && cp < 0xDC00 && s.compare(i, 2, "\\u") == 0) {
                    unsigned lo = 0;
                    i += 2;
                    if (!hex4(lo)) return false;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                utf8(cp, out);
                break;
            }
            default: return fail("bad escape");
            }
        }
        return fail("unterminated string");
    }
    bool value(Json &out) {
        if (++depth > 64) return fail("nested too deep");
        ws();
        if (i >= s.size()) return fail("unexpected end");
        bool ok = true;
        char c = s[i];
        if (c == '{') {
            out = Json::object();
            ++i;
            ws();
            if (i < s.size() && s[i] == '}') { ++i; }
            else for (;;) {
                ws();
                if (i >= s.size() || s[i] != '"') { ok = fail("expected a key"); break; }
                std::string key;
                if (!string(key)) { ok = false; break; }
                ws();
                if (i >= s.size() || s[i] != ':') { ok = fail("expected ':'"); break; }
                ++i;
                Json v;
                if (!value(v)) { ok = false; break; }
                out.set(key, std::move(v));
                ws();
                if (i < s.size() && s[i] == ',') { ++i; continue; }
                if (i < s.size() && s[i] == '}') { ++i; break; }
                ok = fail("expected ',' or '}'");
                break;
            }
        } else if (c == '[') {
            out = Json::array();
            ++i;
            ws();
            if (i < s.size() && s[i] == ']') { ++i; }
            else for (;;) {
                Json v;
                if (!value(v)) { ok = false; break; }
                out.push(std::move(v));
                ws();
                if (i < s.size() && s[i] == ',') { ++i; continue; }
                if (i < s.size() && s[i] == ']') { ++i; break; }
                ok = fail("expected ',' or ']'");
                break;
            }
        } else if (c == '"') {
            std::string str;
            ok = string(str);
            out = Json(std::move(str));
        } else if (c == 't') {
            ok = literal("true");
            out = Json(true);
        } else if (c == 'f') {
            ok = literal("false");
            out = Json(false);
        } else if (c == 'n') {
            ok = literal("null");
            out = Json();
        } else {
            const char *start = s.c_str() + i;
            char *end = nullptr;
            double d = std::strtod(start, &end);
            if (end == start) return fail("unexpected character");
            i += static_cast<size_t>(end - start);
            out = Json(d);
        }
        --depth;
        return ok;
    }
};

}  // namespace

bool Json::parse(const std::string &text, Json &out, std::string &error) {
    Parser p{text, 0, std::string(), 0};
    if (!p.value(out)) {
        error = p.error;
        return false;
    }
    p.ws();
    if (p.i != text.size()) {
        error = "trailing characters at offset " + std::to_string(p.i);
        return false;
    }
    return true;
}

}  // namespace vssorch
