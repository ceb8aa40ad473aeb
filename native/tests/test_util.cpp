// test_util.cpp — JSON, safetensors reader and comparison helpers (tests/bench only).
#include <cstdlib>
#include <fstream>

#include "test_util.h"

#include "panopt.h"

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

// PANOPT_T_* kind (and layer, -1 for model-level) of an HF parameter name; -1 if unknown.
int weight_kind(const std::string& n, int& layer) {
    layer = -1;
    std::string s = n;
    const std::string pre = "model.decoder.";
    if (s.compare(0, pre.size(), pre) == 0) s = s.substr(pre.size());
    if (s == "embed_tokens.weight") return PANOPT_T_EMBED_TOKENS;
    if (s == "embed_positions.weight") return PANOPT_T_EMBED_POSITIONS;
    if (s == "project_in.weight") return PANOPT_T_PROJECT_IN;
    if (s == "project_out.weight") return PANOPT_T_PROJECT_OUT;
    if (s == "final_layer_norm.weight") return PANOPT_T_FINAL_LN_WEIGHT;
    if (s == "final_layer_norm.bias") return PANOPT_T_FINAL_LN_BIAS;
    if (s == "score.weight" || s == "qa_outputs.weight") return PANOPT_T_HEAD_WEIGHT;
    if (s == "qa_outputs.bias") return PANOPT_T_HEAD_BIAS;
    if (s.compare(0, 7, "layers.") == 0) {
        size_t dot = s.find('.', 7);
        layer = std::stoi(s.substr(7, dot - 7));
        std::string r = s.substr(dot + 1);
        static const std::pair<const char*, int> tbl[] = {
            {"self_attn.q_proj.weight", PANOPT_T_Q_WEIGHT},     {"self_attn.q_proj.bias", PANOPT_T_Q_BIAS},
            {"self_attn.k_proj.weight", PANOPT_T_K_WEIGHT},     {"self_attn.k_proj.bias", PANOPT_T_K_BIAS},
            {"self_attn.v_proj.weight", PANOPT_T_V_WEIGHT},     {"self_attn.v_proj.bias", PANOPT_T_V_BIAS},
            {"self_attn.out_proj.weight", PANOPT_T_O_WEIGHT},   {"self_attn.out_proj.bias", PANOPT_T_O_BIAS},
            {"self_attn_layer_norm.weight", PANOPT_T_ATTN_LN_WEIGHT}, {"self_attn_layer_norm.bias", PANOPT_T_ATTN_LN_BIAS},
            {"fc1.weight", PANOPT_T_FC1_WEIGHT},                {"fc1.bias", PANOPT_T_FC1_BIAS},
            {"fc2.weight", PANOPT_T_FC2_WEIGHT},                {"fc2.bias", PANOPT_T_FC2_BIAS},
            {"final_layer_norm.weight", PANOPT_T_FFN_LN_WEIGHT}, {"final_layer_norm.bias", PANOPT_T_FFN_LN_BIAS}};
        for (auto& e : tbl)
            if (r == e.first) return e.second;
    }
    return -1;
}

} // namespace t

