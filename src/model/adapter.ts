/**
 * The Vulkan adapter the WebGPU provider runs on, for /status, the start log, the GPU check and the bench. The
 * Node binding of onnxruntime does not say which adapter Dawn picked, so this asks the Vulkan loader the same
 * question through `vulkaninfo --summary` (Debian's vulkan-tools) and picks as Dawn does for a high-performance
 * request: a discrete GPU first, then an integrated one, then a virtual one, then a CPU device (Mesa's lavapipe).
 * VK_DRIVER_FILES, which pins the driver for onnxruntime, pins it for vulkaninfo too.
 */
import { execFile } from "node:child_process";

interface VulkanAdapter {
  /** PCI vendor name when known (NVIDIA, AMD, Intel, Mesa), else the vendor id. */
  readonly vendor: string;
  readonly vendorId: string;
  /** Vulkan's device type: discrete, integrated, virtual, cpu or other. */
  readonly deviceType: string;
  /** The device name, e.g. "NVIDIA H100 80GB HBM3" or "llvmpipe (LLVM 15.0.6, 256 bits)". */
  readonly description: string;
  /** Driver name and version text, e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)". */
  readonly driver: string;
  readonly apiVersion: string;
  /** A Vulkan device that runs on the CPU (lavapipe): it proves the path, it does not accelerate. */
  readonly software: boolean;
}

export type AdapterProbe =
  | { readonly found: true; readonly adapter: VulkanAdapter; readonly others: number }
  | { readonly found: false; readonly reason: string };

const VENDORS: Record<string, string> = { "0x10de": "NVIDIA", "0x1002": "AMD", "0x8086": "Intel", "0x10005": "Mesa", "0x13b5": "ARM", "0x5143": "Qualcomm" };
const PREFERENCE = ["discrete", "integrated", "virtual", "cpu"];

/** Runs `vulkaninfo --summary` (bounded) and picks the adapter Dawn would. */
export function probeVulkanAdapter(env: NodeJS.ProcessEnv = process.env, timeoutMs = 10_000): Promise<AdapterProbe> {
  return new Promise((resolve) => {
    execFile("vulkaninfo", ["--summary"], { env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === "ENOENT") {
        resolve({ found: false, reason: "vulkaninfo is not installed (Debian: apt-get install vulkan-tools), so the adapter cannot be named" });
        return;
      }
      resolve(pickAdapter(String(stdout ?? "")) ?? { found: false, reason: `no Vulkan device listed${err ? ` (vulkaninfo: ${err.message.split("\n")[0]})` : ""}` });
    });
  });
}

/** Parses the "Devices:" section of `vulkaninfo --summary`; undefined when it lists none. */
export function pickAdapter(summary: string): AdapterProbe | undefined {
  const devices = summary
    .split(/^GPU\d+:\s*$/m)
    .slice(1)
    .map((block) => Object.fromEntries([...block.matchAll(/^\s+(\w+)\s*=\s*(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()])));
  const adapters = devices.filter((d) => d.deviceName).map(toAdapter);
  if (adapters.length === 0) return undefined;
  const rank = (a: VulkanAdapter) => (PREFERENCE.indexOf(a.deviceType) + PREFERENCE.length + 1) % (PREFERENCE.length + 1);
  const [best] = [...adapters].sort((a, b) => rank(a) - rank(b));
  return { found: true, adapter: best!, others: adapters.length - 1 };
}

function toAdapter(d: Record<string, string>): VulkanAdapter {
  const vendorId = (d.vendorID ?? "").toLowerCase();
  const deviceType = (d.deviceType ?? "").replace(/^PHYSICAL_DEVICE_TYPE_/, "").replace(/_GPU$/, "").toLowerCase() || "other";
  return {
    vendor: VENDORS[vendorId] ?? (vendorId || "unknown"),
    vendorId,
    deviceType,
    description: d.deviceName ?? "",
    driver: [d.driverName, d.driverInfo].filter(Boolean).join(": "),
    apiVersion: d.apiVersion ?? "",
    software: deviceType === "cpu",
  };
}
