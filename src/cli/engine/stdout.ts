// Writes to stdout respecting back-pressure, so multi-megabyte JSON reaches a slow pipe intact.
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
