// test_util.cpp — JSON, safetensors reader and comparison helpers (tests/bench only).
#include <cstdlib>
#include <fstream>

#include "test_util.h"

namespace t {

namespace {
struct P {
    const std::string& s;
    size_t i = 0;
    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    }
    Json val() {
        ws();
        Json j;
        if (i >= s.size()) return j;
        char c = s[i];
        if (c == '{') {
            j.kind = Json::OBJ;
            i++;
            ws();
            if (s[i] == '}') { i++; return j; }
            for (;;) {
                ws();
                std::string k = val().str;
                ws();
                i++; // ':'
                Json v = val();
                j.obj.emplace_back(k, v);
                ws();
                if (s[i] == ',') { i++; continue; }
                i++; // '}'
                break;
            }
        } else if (c == '[') {
            j.kind = Json::ARR;
            i++;
            ws();
            if (s[i] == ']') { i++; return j; }
            for (;;) {
                j.arr.push_back(val());
                ws();
                if (s[i] == ',') { i++; continue; }
                i++;
                break;
            }
        } else if (c == '"') {
            j.kind = Json::STR;
            i++;
            while (i < s.size() && s[i] != '"') {
                if (s[i] == '\\') { i++; }
                j.str += s[i++];
            }
            i++;
        } else if (c == 't' || c == 'f') {
            j.kind = Json::BOOL;
            j.b = c == 't';
            i += j.b ? 4 : 5;
        } else if (c == 'n') {
            i += 4;
        } else {
            j.kind = Json::NUM;
            size_t st = i;
            while (i < s.size() && (isdigit((unsigned char)s[i]) || s[i] == '-' || s[i] == '+' || s[i] == '.' ||
                                    s[i] == 'e' || s[i] == 'E'))
                i++;
            j.num = std::strtod(s.substr(st, i - st).c_str(), nullptr);
        }
        return j;
    }
};
} // namespace

Json parse_json(const std::string& s) {
    P p{s};
    return p.val();
}

bool read_file(const std::string& path, std::vector<char>& out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    f.seekg(0, std::ios::end);
    out.resize((size_t)f.tellg());
    f.seekg(0);
    f.read(out.data(), (std::streamsize)out.size());
    return (bool)f;
}

bool SafeTensors::load(const std::string& path) {
    if (!read_file(path, bytes) || bytes.size() < 8) return false;
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    Json h = parse_json(std::string(bytes.data() + 8, (size_t)n));
    const char* base = bytes.data() + 8 + n;
    for (auto& kv : h.obj) {
        if (kv.first == "__metadata__") continue;
        TensorData td;
        td.dtype = kv.second.get("dtype")->str;
        for (auto& d : kv.second.get("shape")->arr) td.shape.push_back((int64_t)d.num);
        auto& off = kv.second.get("data_offsets")->arr;
        td.data = base + (size_t)off[0].num;
        td.nbytes = (size_t)(off[1].num - off[0].num);
        tensors[kv.first] = td;
    }
    return true;
}

std::vector<float> TensorData::f32() const {
    std::vector<float> v((size_t)numel());
    if (dtype == "F32") std::memcpy(v.data(), data, v.size() * 4);
    return v;
}
std::vector<int32_t> TensorData::i32() const {
    std::vector<int32_t> v((size_t)numel());
    for (size_t i = 0; i < v.size(); i++) {
        int64_t x;
        std::memcpy(&x, data + 8 * i, 8);
        v[i] = (int32_t)x;
    }
    return v;
}

std::string fixtures_dir() {
    const char* e = std::getenv("PANOPT_FIXTURES");
    std::string d = e && *e ? e : PANOPT_FIXTURES_DEFAULT;
    std::ifstream f(d + "/README.md");
    return f ? d : std::string();
}

bool close(const float* got, const float* exp, int64_t n, double atol, double rtol, const std::string& what) {
    double worst = 0;
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n; i++) {
        double d = std::fabs((double)got[i] - (double)exp[i]);
        double lim = atol + rtol * std::fabs((double)exp[i]);
        if (!(d <= lim)) {
            if (first < 0) first = i;
            bad++;
        }
        if (d > worst || std::isnan(d)) worst = std::isnan(d) ? INFINITY : d;
    }
    g_checks++;
    if (bad) {
        g_failures++;
        std::printf("FAIL %s: %lld of %lld values out of tolerance, max abs err %.3g, first at %lld (got %.8g exp %.8g)\n",
                    what.c_str(), (long long)bad, (long long)n, worst, (long long)first, got[first], exp[first]);
        return false;
    }
    return true;
}

} // namespace t

