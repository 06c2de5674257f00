// Machines `k2 simulate` models. Memory bandwidths are Apple's published figures for the chip;
// the SSD figure is a sustained large-read rate typical of those Macs' internal SSDs (a
// profile assumption: override with --ssd-gbps after measuring a machine).
export interface MachineProfile {
  name: string;
  description: string;
  memoryGB: number;
  memGBps: number;
  ssdGBps: number;
}

export const MAC_PROFILES: readonly MachineProfile[] = [
  { name: "mac64", description: "M4 Max, 64 GB", memoryGB: 64, memGBps: 546, ssdGBps: 6 },
  { name: "mac128", description: "M4 Max, 128 GB", memoryGB: 128, memGBps: 546, ssdGBps: 6 },
  { name: "mac192", description: "M2 Ultra, 192 GB", memoryGB: 192, memGBps: 800, ssdGBps: 6 },
  { name: "mac512", description: "M3 Ultra, 512 GB", memoryGB: 512, memGBps: 819, ssdGBps: 6 },
];

export function findProfile(name: string): MachineProfile | undefined {
  return MAC_PROFILES.find((p) => p.name === name);
}
