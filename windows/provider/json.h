// A small JSON value for the service's request and reply bodies (docs/SERVICE.md): objects
// keep their key order, numbers are doubles (every number the schema uses fits in 53 bits).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vssorch {

class Json {
public:
    enum class Type { Null, Bool, Number, String, Array, Object };

    Json() = default;
    Json(bool b) : type_(Type::Bool), bool_(b) {}
    Json(int n) : type_(Type::Number), num_(n) {}
    Json(long n) : type_(Type::Number), num_(n) {}
    Json(long long n) : type_(Type::Number), num_(static_cast<double>(n)) {}
    Json(unsigned long n) : type_(Type::Number), num_(n) {}
    Json(double n) : type_(Type::Number), num_(n) {}
    Json(std::string s) : type_(Type::String), str_(std::move(s)) {}
    Json(const char *s) : type_(Type::String), str_(s) {}

    static Json array() { Json j; j.type_ = Type::Array; return j; }
    static Json object() { Json j; j.type_ = Type::Object; return j; }

    Type type() const { return type_; }
    bool isString() const { return type_ == Type::String; }
    bool isArray() const { return type_ == Type::Array; }
    bool isObject() const { return type_ == Type::Object; }
    bool isNumber() const { return type_ == Type::Number; }
    bool isBool() const { return type_ == Type::Bool; }

    bool asBool() const { return type_ == Type::Bool && bool_; }
    double asNumber() const { return type_ == Type::Number ? num_ : 0; }
    const std::string &asString() const { return str_; }
    const std::vector<Json> &items() const { return arr_; }
    const std::vector<std::pair<std::string, Json>> &members() const { return obj_; }

    // Object member by key; nullptr when absent or not an object.
    const Json *get(const std::string &key) const;
    // The string of a member, or `fallback` when it is absent or not a string.
    std::string str(const std::string &key, const std::string &fallback = "") const;

    Json &set(const std::string &key, Json value);
    Json &push(Json value);

    std::string dump() const;
    // Parses the whole text; false with a one-line reason in `error` when it is not JSON.
    static bool parse(const std::string &text, Json &out, std::string &error);

private:
    void dumpTo(std::string &out) const;

    Type type_ = Type::Null;
    bool bool_ = false;
    double num_ = 0;
    std::string str_;
    std::vector<Json> arr_;
    std::vector<std::pair<std::string, Json>> obj_;
};

}  // namespace vssorch
