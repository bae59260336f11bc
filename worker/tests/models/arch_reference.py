"""A straight-line float64 forward of one sequence for Gemma 2/3, Phi-3 and Qwen3-MoE, written from transformers'
modeling code token by token and head by head, reading the checkpoint as saved (experts one Linear each). The
decoder under test shares nothing with it but the parsed config."""

import math

import torch
import torch.nn.functional as F

from tunekit_worker.models.config import load_config
from tunekit_worker.safetensors_io import load_checkpoint


def _inv_freq(dim, base, scaling):
    inv = 1.0 / (base ** (torch.arange(0, dim, 2).double() / dim))
    if scaling and scaling.get("rope_type") == "linear":
        inv = inv / scaling["factor"]
    return inv


def reference_logits(model_dir, ids):
    cfg, sd = load_config(model_dir), {k: v.double() for k, v in load_checkpoint(model_dir).items()}
    D, Hq, Hkv, H = cfg.head_dim, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.hidden_size
    rd = cfg.rotary_dim or D
    T = len(ids)
    pos = torch.arange(T).double()[:, None]
    ang_global = pos * _inv_freq(rd, cfg.rope_theta, cfg.rope_scaling)[None]         # [T,rd/2]
    ang_local = pos * _inv_freq(rd, cfg.rope_local_theta, None)[None] if cfg.rope_local_theta else None

    def rope(v, ang):  # rotate-half pairs (i, i + rd/2) over the first rd channels, the rest passes through
        rot, keep = v[:, :rd], v[:, rd:]
        a, b = rot[:, :rd // 2], rot[:, rd // 2:]
        cos, sin = ang.cos(), ang.sin()
        return torch.cat([a * cos - b * sin, b * cos + a * sin, keep], -1)

    def norm(v, name):
        w = sd[name]
        v = v / torch.sqrt((v * v).mean(-1, keepdim=True) + cfg.rms_norm_eps)
        return v * (1.0 + w) if cfg.norm_plus_one else v * w

    def lin(name, v):
        return v @ sd[name + ".weight"].T + (sd[name + ".bias"] if name + ".bias" in sd else 0)

    def act(v):
        return F.gelu(v, approximate="tanh") if cfg.hidden_act == "gelu_pytorch_tanh" else F.silu(v)

    def dense_mlp(p, h):
        if cfg.fused_projections:
            gate, up = lin(p + "mlp.gate_up_proj", h).chunk(2, -1)
        else:
            gate, up = lin(p + "mlp.gate_proj", h), lin(p + "mlp.up_proj", h)
        return lin(p + "mlp.down_proj", act(gate) * up)

    def moe_mlp(p, h):
        out = torch.zeros_like(h)
        for t in range(T):  # one token at a time: softmax over all experts, top-k, optional renormalisation
            probs = torch.softmax(lin(p + "mlp.gate", h[t]), -1)
            w, idx = probs.topk(cfg.num_experts_per_tok)
            if cfg.norm_topk_prob:
                w = w / w.sum()
            for weight, e in zip(w.tolist(), idx.tolist()):
                q = f"{p}mlp.experts.{e}."
                out[t] += weight * lin(q + "down_proj", act(lin(q + "gate_proj", h[t])) * lin(q + "up_proj", h[t]))
        return out

    x = sd["model.embed_tokens.weight"][torch.tensor(ids)]
    if cfg.embed_scale is not None:
        x = x * math.sqrt(H)
    scale = cfg.query_scale if cfg.query_scale is not None else 1 / math.sqrt(D)
    for layer in range(cfg.num_hidden_layers):
        p = f"model.layers.{layer}."
        window = cfg.sliding_windows[layer]
        ang = ang_local if (window is not None and ang_local is not None) else ang_global
        h = norm(x, p + "input_layernorm.weight")
        if cfg.fused_projections:
            q, k, v = lin(p + "self_attn.qkv_proj", h).split([Hq * D, Hkv * D, Hkv * D], -1)
        else:
            q, k, v = (lin(p + f"self_attn.{n}_proj", h) for n in "qkv")
        out = torch.zeros(T, Hq * D, dtype=torch.float64)
        for head in range(Hq):
            kvh = head // (Hq // Hkv)
            qh, kh, vh = q[:, head * D:(head + 1) * D], k[:, kvh * D:(kvh + 1) * D], v[:, kvh * D:(kvh + 1) * D]
            if cfg.qk_norm:
                qh, kh = norm(qh, p + "self_attn.q_norm.weight"), norm(kh, p + "self_attn.k_norm.weight")
            s = rope(qh, ang) @ rope(kh, ang).T * scale
            if cfg.attn_logit_softcapping:
                s = torch.tanh(s / cfg.attn_logit_softcapping) * cfg.attn_logit_softcapping
            for i in range(T):
                for j in range(T):
                    if j > i or (window is not None and i - j >= window):
                        s[i, j] = float("-inf")
            out[:, head * D:(head + 1) * D] = torch.softmax(s, -1) @ vh
        attn = lin(p + "self_attn.o_proj", out)
        sparse = cfg.sparse_layers and cfg.sparse_layers[layer]
        if cfg.sandwich_norms:
            x = x + norm(attn, p + "post_attention_layernorm.weight")
            x = x + norm(dense_mlp(p, norm(x, p + "pre_feedforward_layernorm.weight")),
                         p + "post_feedforward_layernorm.weight")
        else:
            x = x + attn
            h = norm(x, p + "post_attention_layernorm.weight")
            x = x + (moe_mlp(p, h) if sparse else dense_mlp(p, h))
    x = norm(x, "model.norm.weight")
    logits = x @ sd.get("lm_head.weight", sd["model.embed_tokens.weight"]).T
    if cfg.final_logit_softcapping:
        logits = torch.tanh(logits / cfg.final_logit_softcapping) * cfg.final_logit_softcapping
    return logits
