"""Preference objectives over paired rows: DPO (sigmoid) and ORPO.

A preference batch holds P pairs as 2P rows, chosen at row 2i and rejected at row 2i+1 (docs/shard-format.md,
layout "pairs"). Every objective starts from per-row log-probabilities of the completion: the sum of
log p(token t | tokens < t) over the targets the mask marks (the prompt is never a target).

DPO (Rafailov et al. 2023, TRL's `sigmoid` loss):
    loss = -log sigmoid(beta * ((pi_c - ref_c) - (pi_r - ref_r)))     summed log-probs, a reference model
ORPO (Hong et al. 2024, TRL's ORPOTrainer):
    loss = NLL(chosen) + beta * -log sigmoid(log odds(p_c) - log odds(p_r))     no reference model
with log odds(p) = log p - log(1 - p) of the *mean* per-token log-prob (the paper's length normalisation; a summed
log-prob makes p ~ 0 and the odds term degenerate) and NLL the mean per-token NLL of the chosen completion.
"""

from typing import Dict, Tuple

import torch
import torch.nn.functional as F


def sequence_logps(model, hidden: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> Tuple[torch.Tensor,
                                                                                                   torch.Tensor]:
    """(summed log-probs [B] float32, trained target counts [B] float32) of each row.

    hidden [B, T, H]; tokens, mask [B, T]. Logits at t-1 predict token t where mask[t] = 1. Row by row, so only one
    row's [n, V] logits exist at a time."""
    B, T, _ = hidden.shape
    assert tokens.shape == mask.shape == (B, T), f"tokens/mask {tuple(tokens.shape)} do not match hidden {(B, T)}"
    sums, counts = [], []
    for b in range(B):
        picked = mask[b, 1:].nonzero().squeeze(1)  # [n] positions t-1 whose next token is a target
        if picked.numel() == 0:
            sums.append(hidden[b].sum() * 0.0)  # keeps the graph connected
            counts.append(0.0)
            continue
        logits = model.logits(hidden[b, :-1].index_select(0, picked).unsqueeze(0))[0].float()  # [n, V]
        targets = tokens[b, 1:].index_select(0, picked)  # [n]
        logp = F.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0]  # [n]
        sums.append(logp.sum())
        counts.append(float(picked.numel()))
    return torch.stack(sums).float(), torch.tensor(counts, dtype=torch.float32, device=hidden.device)


def split_pairs(values: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """[2P] rows (chosen, rejected, chosen, …) -> (chosen [P], rejected [P])."""
    assert values.shape[0] % 2 == 0, f"a preference batch has an even number of rows, got {values.shape[0]}"
    return values[0::2], values[1::2]


def dpo_loss(policy_c: torch.Tensor, policy_r: torch.Tensor, ref_c: torch.Tensor, ref_r: torch.Tensor,
             beta: float, reference_free: bool = False) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Per-pair DPO losses [P] and the per-pair rewards; inputs are summed completion log-probs [P].

    reference_free: the reference log-probs are taken as 0 (an implicit uniform reference)."""
    if reference_free:
        ref_c, ref_r = torch.zeros_like(ref_c), torch.zeros_like(ref_r)
    rewards_c = beta * (policy_c - ref_c)  # [P]
    rewards_r = beta * (policy_r - ref_r)
    losses = -F.logsigmoid(rewards_c - rewards_r)
    return losses, {"rewards_chosen": rewards_c.detach(), "rewards_rejected": rewards_r.detach()}


def orpo_loss(policy_c: torch.Tensor, policy_r: torch.Tensor, count_c: torch.Tensor, count_r: torch.Tensor,
              beta: float) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Per-pair ORPO losses [P]: mean-token NLL of the chosen + beta * the odds-ratio term; rewards are beta times
    the mean per-token log-probs (TRL's convention)."""
    mean_c = policy_c / count_c.clamp(min=1.0)  # [P] mean log p per token, < 0
    mean_r = policy_r / count_r.clamp(min=1.0)
    # log(1 - exp(x)) for x < 0, stable; clamped below 0 so a (near) certain completion stays finite.
    log_odds = (mean_c - mean_r) - (torch.log1p(-torch.exp(mean_c.clamp(max=-1e-6)))
                                    - torch.log1p(-torch.exp(mean_r.clamp(max=-1e-6))))
    ratio = F.logsigmoid(log_odds)
    losses = -mean_c - beta * ratio
    return losses, {"rewards_chosen": (beta * mean_c).detach(), "rewards_rejected": (beta * mean_r).detach()}


def pair_metrics(losses: torch.Tensor, rewards: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """Means over the pairs: loss, rewards/chosen, rewards/rejected, rewards/margin, rewards/accuracy."""
    c, r = rewards["rewards_chosen"], rewards["rewards_rejected"]
    return {"loss": float(losses.detach().mean()), "rewards/chosen": float(c.mean()),
            "rewards/rejected": float(r.mean()), "rewards/margin": float((c - r).mean()),
            "rewards/accuracy": float((c > r).float().mean())}


class PreferenceModule(torch.nn.Module):
    """model + per-row log-probs in one forward, so DistributedDataParallel sees every trainable parameter."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, mask, segments, positions):
        hidden = self.model(tokens, position_ids=positions, segment_ids=segments)  # [B, T, H]
        return sequence_logps(self.model, hidden, tokens, mask)
