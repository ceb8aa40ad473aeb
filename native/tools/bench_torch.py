#!/usr/bin/env python3
"""PyTorch eager baseline for native/tools/gpu_bench.cpp: the same OPT shape with random weights
(transformers' OPTForCausalLM from an OPTConfig, fp16 or bf16, on the GPU), the same measurements:
decode tok/s at the given batches after a prefill of --context tokens (single-token steps with the
KV cache, last-position logits, random next ids), and one prefill of --prefill tokens.
Prints one JSON object per measurement, like gpu_bench.

  python3 native/tools/bench_torch.py --shape opt-1.3b [--dtype f16|bf16] [--batches 1,16]
                                      [--context 128] [--steps 64] [--prefill 2048] [--repeats 3]
"""
import argparse
import json
import statistics
import sys
import time

import torch
from transformers import OPTConfig, OPTForCausalLM

SHAPES = {  # hidden, layers, heads, ffn (REFERENCE.md)
    "opt-125m": (768, 12, 12, 3072),
    "opt-1.3b": (2048, 24, 32, 8192),
    "opt-6.7b": (4096, 32, 32, 16384),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="opt-1.3b", choices=sorted(SHAPES))
    ap.add_argument("--dtype", default="f16", choices=["f16", "bf16"])
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--prefill", type=int, default=2048)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    hidden, layers, heads, ffn = SHAPES[a.shape]
    cfg = OPTConfig(vocab_size=50272, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                    ffn_dim=ffn, max_position_embeddings=2048, word_embed_proj_dim=hidden, do_layer_norm_before=True,
                    enable_bias=True, activation_function="relu")
    dtype = torch.float16 if a.dtype == "f16" else torch.bfloat16
    t0 = time.time()
    with torch.device("cuda"):
        model = OPTForCausalLM(cfg).to(dtype).eval()  # random init on the GPU, as gpu_bench's random weights
    torch.cuda.synchronize()
    print(f"bench_torch: {a.shape} {a.dtype}: model made in {time.time() - t0:.1f} s", file=sys.stderr)
    gen = torch.Generator(device="cuda").manual_seed(1)

    def ids(b, s):
        return torch.randint(0, cfg.vocab_size, (b, s), device="cuda", generator=gen)

    def report(what, batch, ctx, tok_per_s, ms):
        print(json.dumps({"engine": "torch-eager", "device": torch.cuda.get_device_name(), "shape": a.shape,
                          "dtype": a.dtype, "what": what, "batch": batch, "context": ctx,
                          "tok_per_s": round(tok_per_s, 2), "ms": round(ms, 3)}), flush=True)

    def last_logits(**kw):  # only the last position's logits, as gpu_bench asks for
        try:
            return model(**kw, logits_to_keep=1)
        except TypeError:  # a transformers without logits_to_keep
            return model(**kw)

    with torch.inference_mode():
        for b in [int(x) for x in a.batches.split(",")]:
            per = []
            for _ in range(a.repeats):
                out = last_logits(input_ids=ids(b, a.context), use_cache=True)
                past = out.past_key_values
                for _ in range(2):  # as gpu_bench: two untimed steps
                    out = model(input_ids=ids(b, 1), past_key_values=past, use_cache=True)
                    past = out.past_key_values
                torch.cuda.synchronize()
                timed = a.steps - 2
                t = time.perf_counter()
                for _ in range(timed):
                    out = model(input_ids=ids(b, 1), past_key_values=past, use_cache=True)
                    past = out.past_key_values
                torch.cuda.synchronize()
                per.append((time.perf_counter() - t) / timed)
            step = statistics.median(per)
            report("decode", b, a.context, b / step, step * 1e3)
        if a.prefill > 0:
            per = []
            for r in range(a.repeats + 1):  # the first is a warm-up
                x = ids(1, a.prefill)
                torch.cuda.synchronize()
                t = time.perf_counter()
                last_logits(input_ids=x, use_cache=True)
                torch.cuda.synchronize()
                if r > 0:
                    per.append(time.perf_counter() - t)
            t = statistics.median(per)
            report("prefill", 1, a.prefill, a.prefill / t, t * 1e3)


if __name__ == "__main__":
    main()
