"""PyTorch anchor for `rtsr bench train`: times the same net (conv specs passed in as JSON by rtsr, wiring
mirrored from src/bench/train-nets.ts) with the same batch, loss and optimiser, and prints one JSON line."""
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

spec = json.loads(sys.argv[1])
torch.set_num_threads(spec["threads"])
torch.manual_seed(0)
convs = {c["name"]: torch.nn.Conv2d(c["cin"], c["cout"], c["k"], padding=c["k"] // 2) for c in spec["convs"]}
model = torch.nn.ModuleDict({k.replace(".", "_"): v for k, v in convs.items()}).to(memory_format=torch.channels_last)
# Hard 0/1 gates whose values train straight through (the search's gates), as in src/bench/train-nets.ts.
masks = {g["name"]: torch.tensor(g["mask"], dtype=torch.float32) for g in spec.get("gates", [])}
gates = {k: torch.nn.Parameter(m.clone()) for k, m in masks.items()}


def hard(name):
    g = gates[name]
    return (g + (masks[name] - g).detach()).view(1, -1, 1, 1)


def c(name, x, relu=False):
    y = model[name.replace(".", "_")](x)
    return F.relu(y) if relu else y


def forward(x):
    if spec["net"] == "conv5x32":
        head = c("head", x)
        h = head
        for i in range(4):
            h = c(f"body{i}", h, relu=True)
        return F.pixel_shuffle(c("tail", h + head), spec["scale"])
    if spec["net"] == "wdsr-b":
        h = c("head", x)
        for i in range(spec["blocks"]):
            h = h + c(f"b{i}.conv", c(f"b{i}.reduce", c(f"b{i}.expand", h, relu=True)))
        return F.pixel_shuffle(c("tail", h) + c("skip", x), spec["scale"])
    if spec["net"] == "supernet":
        h = c("head", x)
        for i in range(spec["blocks"]):
            t = c(f"b{i}.expand", h * hard("c"), relu=True) * hard(f"b{i}.m1")
            body = c(f"b{i}.conv", c(f"b{i}.reduce", t) * hard(f"b{i}.m2"))
            h = h * hard(f"b{i}.skip") + (body + h) * hard(f"b{i}.keep")
        return F.pixel_shuffle(c("tail", h * hard("c")) + c("skip", x), spec["scale"])
    raise SystemExit(f"unknown net {spec['net']}")


n, p, s = spec["batch"], spec["patch"], spec["scale"]
x = torch.rand(n, 3, p, p).contiguous(memory_format=torch.channels_last)
target = torch.rand(n, 3, p * s, p * s).contiguous(memory_format=torch.channels_last)
opt = torch.optim.Adam([*model.parameters(), *gates.values()], lr=1e-4)
times = []
for step in range(spec["warmup"] + spec["steps"]):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = F.l1_loss(forward(x), target)
    loss.backward()
    opt.step()
    if step >= spec["warmup"]:
        times.append((time.perf_counter() - t0) * 1e3)
print(json.dumps({"ms_per_step": statistics.median(times), "torch": torch.__version__, "threads": torch.get_num_threads()}))
