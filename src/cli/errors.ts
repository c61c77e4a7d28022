/** A bad command-line argument: the CLI prints `gpt2-lens: <message>` on one line and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
