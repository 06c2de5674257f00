// Vitest global setup: the whole run, and every k2 it spawns, uses a fresh K2_HOME, so a
// developer's own settings (model, permission mode, theme) cannot change test results and tests
// never write sessions or history into the real ~/.config/k2 and ~/.local/share/k2. Tests that
// need their own home still set K2_HOME themselves.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function isolateHome(): () => void {
  const home = mkdtempSync(join(tmpdir(), "k2-test-home-"));
  process.env.K2_HOME = home;
  return () => rmSync(home, { recursive: true, force: true });
}
