"""DPO and ORPO against a straightforward reference: per-sequence log-probs from logits with plain loops."""

import math

import torch

from tunekit_worker.preference_loss import dpo_loss, orpo_loss, pair_metrics, sequence_logps, split_pairs


class IdentityHead:
    """hidden are the logits themselves: the loss functions see literal logits."""

    @staticmethod
    def logits(hidden):
        return hidden


# 2 pairs = 4 rows of T = 4 positions over a vocabulary of 3.
LOGITS = torch.tensor([
    [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5], [0.3, 0.3, 0.9], [2.0, 0.0, -2.0]],
    [[0.5, 0.1, 0.0], [0.2, 0.8, -0.4], [1.5, -0.5, 0.1], [0.0, 0.0, 0.0]],
    [[-0.3, 0.6, 0.2], [0.9, 0.1, 0.4], [0.0, 1.2, -0.7], [0.4, 0.4, 0.4]],
    [[1.1, -0.2, 0.3], [0.0, 0.5, 0.5], [-1.0, 0.2, 0.8], [0.6, -0.6, 0.0]],
], dtype=torch.float32)
TOKENS = torch.tensor([[0, 2, 1, 0], [0, 2, 0, 1], [1, 1, 2, 0], [1, 1, 0, 2]])
MASK = torch.tensor([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 0], [0, 0, 1, 1]])


def reference_logps(logits, tokens, mask):
    """sum over t with mask[t] = 1 of log softmax(logits[t-1])[tokens[t]], written out."""
    out, counts = [], []
    for b in range(len(tokens)):
        total, n = 0.0, 0
        for t in range(1, len(tokens[b])):
            if mask[b][t]:
                row = [float(x) for x in logits[b][t - 1]]
                log_z = math.log(sum(math.exp(x) for x in row))
                total += row[int(tokens[b][t])] - log_z
                n += 1
        out.append(total)
        counts.append(n)
    return out, counts


def log_sigmoid(x):
    return -math.log1p(math.exp(-x))


def test_sequence_logps_match_the_loop():
    got, counts = sequence_logps(IdentityHead, LOGITS, TOKENS, MASK)
    want, want_counts = reference_logps(LOGITS, TOKENS, MASK)
    assert torch.allclose(got, torch.tensor(want), atol=1e-6)
    assert counts.tolist() == want_counts


def test_dpo_loss_matches_the_reference_formula():
    beta = 0.1
    policy, _ = sequence_logps(IdentityHead, LOGITS, TOKENS, MASK)
    ref = torch.tensor([-2.5, -1.0, -3.0, -0.5])
    pc, pr = split_pairs(policy)
    rc, rr = split_pairs(ref)
    losses, rewards = dpo_loss(pc, pr, rc, rr, beta)
    lp, _ = reference_logps(LOGITS, TOKENS, MASK)
    want = [-log_sigmoid(beta * ((lp[2 * i] - ref[2 * i].item()) - (lp[2 * i + 1] - ref[2 * i + 1].item())))
            for i in range(2)]
    assert torch.allclose(losses, torch.tensor(want), atol=1e-6)
    assert torch.allclose(rewards["rewards_chosen"], torch.tensor([beta * (lp[0] + 2.5), beta * (lp[2] + 3.0)]),
                          atol=1e-6)
    assert torch.allclose(rewards["rewards_rejected"], torch.tensor([beta * (lp[1] + 1.0), beta * (lp[3] + 0.5)]),
                          atol=1e-6)


def test_dpo_reference_free_ignores_the_reference():
    pc, pr = torch.tensor([-1.0]), torch.tensor([-2.0])
    losses, _ = dpo_loss(pc, pr, torch.tensor([-9.0]), torch.tensor([-0.1]), 0.5, reference_free=True)
    assert abs(float(losses[0]) - (-log_sigmoid(0.5 * 1.0))) < 1e-6


def test_orpo_loss_matches_the_reference_formula():
    beta = 0.25
    policy, counts = sequence_logps(IdentityHead, LOGITS, TOKENS, MASK)
    pc, pr = split_pairs(policy)
    cc, cr = split_pairs(counts)
    losses, rewards = orpo_loss(pc, pr, cc, cr, beta)
    lp, n = reference_logps(LOGITS, TOKENS, MASK)
    want = []
    for i in range(2):
        mc, mr = lp[2 * i] / n[2 * i], lp[2 * i + 1] / n[2 * i + 1]
        odds_c = math.log(math.exp(mc) / (1 - math.exp(mc)))
        odds_r = math.log(math.exp(mr) / (1 - math.exp(mr)))
        want.append(-mc - beta * log_sigmoid(odds_c - odds_r))
    assert torch.allclose(losses, torch.tensor(want), atol=1e-6)
    assert torch.allclose(rewards["rewards_chosen"], torch.tensor([beta * lp[0] / n[0], beta * lp[2] / n[2]]),
                          atol=1e-6)


def test_pair_metrics():
    losses = torch.tensor([0.5, 1.5])
    rewards = {"rewards_chosen": torch.tensor([1.0, -1.0]), "rewards_rejected": torch.tensor([0.0, 0.0])}
    assert pair_metrics(losses, rewards) == {"loss": 1.0, "rewards/chosen": 0.0, "rewards/rejected": 0.0,
                                             "rewards/margin": 0.0, "rewards/accuracy": 0.5}


def test_dpo_gradient_flows_to_the_logits():
    logits = LOGITS.clone().requires_grad_(True)
    policy, _ = sequence_logps(IdentityHead, logits, TOKENS, MASK)
    pc, pr = split_pairs(policy)
    losses, _ = dpo_loss(pc, pr, torch.zeros(2), torch.zeros(2), 0.1)
    losses.mean().backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) > 0
