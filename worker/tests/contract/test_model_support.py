"""contract/model-support.json is the one list of architectures and LoRA targets: it must match what the worker
implements, and the generated params schema must carry the same targets."""

import torch.nn as nn

from model_helper import ARCH, tiny_config
from tunekit_worker.contract import method_schemas, model_support
from tunekit_worker.lora import LORA_TARGETS
from tunekit_worker.models.config import SUPPORTED_ARCHITECTURES, parse_config
from tunekit_worker.models.llama import CausalLM


def test_every_listed_architecture_builds_and_every_projection_is_a_lora_target():
    assert sorted(model_support()["architectures"]) == sorted(ARCH.values())  # model_helper covers each one
    seen = set()
    for short, arch in ARCH.items():
        model = CausalLM(parse_config(tiny_config(short)))
        # The MoE router (mlp.gate) is a Linear but no LoRA target (PEFT users do not adapt it either).
        layer_linears = {name.rsplit(".", 1)[-1] for name, m in model.model.layers.named_modules()
                         if isinstance(m, nn.Linear) and not name.endswith("mlp.gate")}
        assert (arch, sorted(layer_linears - set(LORA_TARGETS))) == (arch, [])
        seen |= layer_linears
    assert sorted(seen) == sorted(LORA_TARGETS)  # every listed target exists in some architecture


def test_the_worker_and_the_generated_schema_read_the_same_lists():
    support = model_support()
    assert SUPPORTED_ARCHITECTURES == tuple(support["architectures"])
    assert LORA_TARGETS == tuple(support["lora_target_modules"])
    targets = method_schemas()["train"]["properties"]["lora"]["properties"]["target_modules"]
    # A stale schema (model-support.json edited without `npx tsx scripts/generate-contract.ts`) fails here.
    assert targets["anyOf"][0]["items"]["enum"] == support["lora_target_modules"]
