// Finds which shard holds each tensor: model.safetensors.index.json's weight_map, or a single
// model.safetensors when there is no index.
import { access } from "node:fs/promises";
import { basename, join } from "node:path";
import { CheckpointError } from "../../errors.js";
import { readJsonObject } from "./json_file.js";

export const INDEX_FILE = "model.safetensors.index.json";
export const SINGLE_FILE = "model.safetensors";

export interface ShardIndex {
  /** The index file, or the single shard when there is no index: what errors about the map name. */
  source: string;
  /** Absolute shard paths, in first-mention order. */
  files: string[];
  /** tensor name -> index into files; null when a single shard holds every tensor. */
  tensorFile: Map<string, number> | null;
}

export async function readShardIndex(dir: string): Promise<ShardIndex> {
  const indexPath = join(dir, INDEX_FILE);
  const index = await readJsonObject(indexPath, INDEX_FILE, true);
  if (!index) {
    const single = join(dir, SINGLE_FILE);
    try {
      await access(single);
    } catch {
      throw new CheckpointError(dir, `no ${INDEX_FILE} and no ${SINGLE_FILE}: the checkpoint has no weights`);
    }
    return { source: single, files: [single], tensorFile: null };
  }
  const map = index.weight_map;
  if (!map || typeof map !== "object" || Array.isArray(map)) throw new CheckpointError(indexPath, `field "weight_map" must be an object of tensor -> shard file`);
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const tensorFile = new Map<string, number>();
  const entries = map as Record<string, unknown>;
  for (const tensor in entries) {
    const file = entries[tensor];
    // 200k tensors name ~62 files: validate each distinct name once.
    let i = typeof file === "string" ? fileIndex.get(file) : undefined;
    if (i === undefined) {
      // Shards live in the checkpoint directory itself; a path elsewhere is a corrupt or hostile index.
      if (typeof file !== "string" || file.length === 0 || basename(file) !== file || file === "." || file === "..") {
        throw new CheckpointError(indexPath, `weight_map["${tensor}"] must be a shard file name in the checkpoint directory (got ${JSON.stringify(file)})`);
      }
      i = files.length;
      files.push(join(dir, file));
      fileIndex.set(file, i);
    }
    tensorFile.set(tensor, i);
  }
  if (files.length === 0) throw new CheckpointError(indexPath, `field "weight_map" is empty`);
  return { source: indexPath, files, tensorFile };
}
