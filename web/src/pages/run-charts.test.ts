import { describe, expect, it } from "vitest";
import { groupMetricCharts } from "./run-charts";

describe("groupMetricCharts", () => {
  it("charts a preference run's margin and accuracy, train and val together", () => {
    const names = ["train/loss", "train/rewards/chosen", "train/rewards/rejected", "train/rewards/margin", "train/rewards/accuracy", "train/lr", "val/loss", "val/rewards/margin", "val/rewards/accuracy", "train/grad_norm"];
    expect(groupMetricCharts(names)).toEqual([
      { id: "loss", title: "Loss (train / validation)", ns: ["train/loss", "val/loss"] },
      { id: "lr", title: "Learning rate", ns: ["train/lr"] },
      { id: "reward-margin", title: "Reward margin (train / validation)", ns: ["train/rewards/margin", "val/rewards/margin"] },
      { id: "reward-accuracy", title: "Reward accuracy (train / validation)", ns: ["train/rewards/accuracy", "val/rewards/accuracy"] },
      { id: "rewards", title: "Rewards (chosen / rejected)", ns: ["train/rewards/chosen", "train/rewards/rejected"] },
      { id: "train-grad_norm", title: "train/grad_norm", ns: ["train/grad_norm"] },
    ]);
  });

  it("an empty run still shows the loss chart", () => {
    expect(groupMetricCharts([])).toEqual([{ id: "loss", title: "Loss (train / validation)", ns: [] }]);
  });
});
