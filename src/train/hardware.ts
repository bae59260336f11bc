import { spawn } from "node:child_process";

/** What the plan's estimates assume about the machine. */
export interface Hardware {
  kind: "cpu" | "cuda";
  name: string;
  /** Peak dense matmul throughput (TFLOP/s) in the training dtype. */
  peakTflops: number;
  /** How the peak was obtained. */
  source: "measured" | "table" | "assumed";
  memoryBytes: number | null;
  gpus: number;
}

/** Dense bf16 peak TFLOP/s (vendor figures, no sparsity), matched by substring of torch's device name. */
export const GPU_PEAK_TFLOPS: readonly [string, number][] = [
  ["H200", 989],
  ["H100", 989],
  ["GH200", 989],
  ["B200", 2250],
  ["A100", 312],
  ["L40S", 362],
  ["L40", 181],
  ["L4", 121],
  ["A10", 125],
  ["RTX 4090", 165],
  ["RTX 3090", 71],
  ["V100", 125],
  ["T4", 65],
];
const UNKNOWN_GPU_TFLOPS = 100;

const PROBE = `
import json, time, torch
cuda = torch.cuda.is_available()
out = {"cuda": cuda, "devices": [], "memory": [], "cpu_gflops": None}
if cuda:
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        out["devices"].append(p.name); out["memory"].append(p.total_memory)
else:
    n = 384
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    reps, t = 0, time.perf_counter()
    while time.perf_counter() - t < 0.25:
        a @ b; reps += 1
    out["cpu_gflops"] = 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9
print(json.dumps(out))
`;

/** Used when no interpreter with torch answers: a typical CPU, labelled as assumed. */
export const ASSUMED_CPU: Hardware = { kind: "cpu", name: "cpu (no Python with torch: not measured)", peakTflops: 0.05, source: "assumed", memoryBytes: null, gpus: 0 };

/**
 * Asks torch what the machine has; on CPU times a quick fp32 matmul (≈0.3 s) to get its GFLOP/s. Tries each
 * interpreter in order (the same ones the worker would use); null when none can import torch.
 */
export async function probeHardware(pythons: readonly string[], device: string): Promise<Hardware | null> {
  for (const python of pythons) {
    const r = await probeOnce(python);
    if (r) return hardwareFrom(r, device);
  }
  return null;
}

type ProbeResult = { cuda: boolean; devices: string[]; memory: number[]; cpu_gflops: number | null };

function probeOnce(python: string): Promise<ProbeResult | null> {
  return new Promise((resolve) => {
    const child = spawn(python, ["-c", PROBE], { stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.on("error", () => resolve(null));
    child.on("close", (code) => {
      try {
        resolve(code === 0 ? (JSON.parse(stdout.trim().split("\n").pop() ?? "") as ProbeResult) : null);
      } catch {
        resolve(null);
      }
    });
  });
}

export function hardwareFrom(r: { cuda: boolean; devices: string[]; memory: number[]; cpu_gflops: number | null }, device: string): Hardware {
  if (r.cuda && device !== "cpu" && r.devices.length > 0) {
    const index = device.startsWith("cuda:") ? Number(device.slice(5)) : 0;
    const name = r.devices[index] ?? r.devices[0];
    const hit = GPU_PEAK_TFLOPS.find(([key]) => name.includes(key));
    return {
      kind: "cuda",
      name,
      peakTflops: hit ? hit[1] : UNKNOWN_GPU_TFLOPS,
      source: hit ? "table" : "assumed",
      memoryBytes: r.memory[index] ?? null,
      gpus: r.devices.length,
    };
  }
  return { kind: "cpu", name: "cpu", peakTflops: (r.cpu_gflops ?? 50) / 1000, source: r.cpu_gflops ? "measured" : "assumed", memoryBytes: null, gpus: 0 };
}
