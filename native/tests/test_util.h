// test_util.h — tiny test harness, JSON parser and safetensors reader (tests only: trusted input).
#ifndef PANOPT_TEST_UTIL_H
#define PANOPT_TEST_UTIL_H

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace t {

extern int g_failures;
extern int g_checks;

#define T_CHECK(cond, ...)                                                                                             \
    do {                                                                                                               \
        ::t::g_checks++;                                                                                               \
        if (!(cond)) {                                                                                                 \
            ::t::g_failures++;                                                                                         \
            std::printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                               \
            std::printf(__VA_ARGS__);                                                                                  \
            std::printf("\n");                                                                                         \
        }                                                                                                              \
    } while (0)

// ---- JSON (enough for config.json and safetensors headers) ----
struct Json {
    enum Kind { NUL, BOOL, NUM, STR, ARR, OBJ } kind = NUL;
    bool b = false;
    double num = 0;
    std::string str;
    std::vector<Json> arr;
    std::vector<std::pair<std::string, Json>> obj;
    const Json* get(const std::string& k) const {
        for (auto& kv : obj)
            if (kv.first == k) return &kv.second;
        return nullptr;
    }
    double n(const std::string& k, double def = 0) const {
        const Json* j = get(k);
        return j ? (j->kind == BOOL ? (j->b ? 1 : 0) : j->num) : def;
    }
};
Json parse_json(const std::string& s);

// ---- safetensors ----
struct TensorData {
    std::string dtype;
    std::vector<int64_t> shape;
    const char* data = nullptr;
    size_t nbytes = 0;
    int64_t numel() const {
        int64_t n = 1;
        for (auto d : shape) n *= d;
        return n;
    }
    std::vector<float> f32() const;   // F32 only
    std::vector<int32_t> i32() const; // I64 -> int32
};
struct SafeTensors {
    std::vector<char> bytes;
    std::map<std::string, TensorData> tensors;
    bool load(const std::string& path);
    const TensorData* get(const std::string& name) const {
        auto it = tensors.find(name);
        return it == tensors.end() ? nullptr : &it->second;
    }
};

bool read_file(const std::string& path, std::vector<char>& out);
std::string fixtures_dir(); // "" if absent

// max |got - exp| check with atol + rtol*|exp|; returns true if all ok and prints a summary on failure.
bool close(const float* got, const float* exp, int64_t n, double atol, double rtol, const std::string& what);

// PANOPT_T_* kind (and layer, -1 for model-level) of an HF parameter name; -1 if unknown.
int weight_kind(const std::string& name, int& layer);

} // namespace t

#endif
