"""sharded_state on unsharded models (CPU, torch 1.13): the single-process checkpoint format, unchanged.

The sharded (FSDP) paths need 2 GPUs and torch >= 2.6: worker/scripts/fsdp_check.py, results in
docs/worker-training-gpu.md."""

import torch

from tunekit_worker.sharded_state import (copy_into, full_model_state, full_optimizer_state, full_trainable_state,
                                          load_optimizer_state)


def _model_and_optimizer():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    model[1].weight.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(torch.ones(4, 3)).sum().backward()
    opt.step()
    return model, opt


def test_full_states_of_an_unsharded_model_are_its_state_dicts():
    model, opt = _model_and_optimizer()
    assert sorted(full_trainable_state(model, keep=True)) == ["0.bias", "0.weight", "1.bias"]
    assert full_trainable_state(model, keep=False) == {}
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in full_model_state(model, keep=True).items())
    full = full_optimizer_state(opt, keep=True)
    expected = opt.state_dict()
    assert full["param_groups"] == expected["param_groups"]
    assert {i: sorted(s) for i, s in full["state"].items()} == {0: ["exp_avg", "exp_avg_sq", "step"],
                                                                 1: ["exp_avg", "exp_avg_sq", "step"],
                                                                 2: ["exp_avg", "exp_avg_sq", "step"]}
    assert all(torch.equal(torch.as_tensor(v), torch.as_tensor(expected["state"][i][k]))
               for i, s in full["state"].items() for k, v in s.items())
    assert full_optimizer_state(opt, keep=False) == {}


def test_optimizer_state_round_trips_and_weights_copy_in():
    model, opt = _model_and_optimizer()
    saved = full_optimizer_state(opt, keep=True)
    other, opt2 = _model_and_optimizer()
    load_optimizer_state(opt2, saved)
    assert torch.equal(opt2.state_dict()["state"][0]["exp_avg"], saved["state"][0]["exp_avg"])
    copy_into(other[0].weight, torch.full((2, 3), 0.5))
    assert torch.equal(other[0].weight.detach(), torch.full((2, 3), 0.5))
