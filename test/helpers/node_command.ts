// How a test runs a built script (the k2 CLI) in a child process: this Node, or, under
// `npm run check:arm64` (an arm64 Node under qemu-user, which cannot start another arm64 binary by
// itself), the same command behind the emulator named by K2_TEST_NODE_WRAPPER.
export function nodeCommand(script: string, args: string[]): [string, string[]] {
  const wrapper = process.env.K2_TEST_NODE_WRAPPER;
  return wrapper ? [wrapper, [process.execPath, script, ...args]] : [process.execPath, [script, ...args]];
}
