// Streamers: generate() hands every new token to a streamer as soon as it is chosen (HF's BaseStreamer protocol:
// put() first receives the prompt, then each step's tokens; end() once at the end).

/** HF's BaseStreamer: `put(ids)` gets the prompt ids first, then one id per row per step; `end()` closes. */
export interface BaseStreamer {
  put(ids: readonly number[]): void;
  end(): void;
}

/** What TextStreamer needs from a tokenizer: a streaming decoder (GPT2Tokenizer.createStreamDecoder). */
export interface StreamDecoderFactory {
  createStreamDecoder(options?: { skip_special_tokens?: boolean }): { push(id: number): string; flush(): string };
}

export interface TextStreamerOptions {
  /** do not print the prompt (default false, as HF) */
  skip_prompt?: boolean;
  /** drop <|endoftext|> and other special tokens from the text (default false) */
  skip_special_tokens?: boolean;
}

/**
 * Prints text as soon as its UTF-8 bytes are complete (a character split over two tokens waits for the
 * second). `write` receives the pieces (e.g. `(s) => process.stdout.write(s)`); `text` accumulates them.
 * Like HF's TextStreamer it handles a single sequence (batch size 1, no beam search).
 */
export class TextStreamer implements BaseStreamer {
  private readonly decoder: { push(id: number): string; flush(): string };
  private nextIsPrompt = true;
  /** everything written so far */
  text = '';

  constructor(
    tokenizer: StreamDecoderFactory,
    private readonly write: (text: string) => void,
    private readonly options: TextStreamerOptions = {},
  ) {
    this.decoder = tokenizer.createStreamDecoder({ skip_special_tokens: options.skip_special_tokens ?? false });
  }

  put(ids: readonly number[]): void {
    if (this.nextIsPrompt) {
      this.nextIsPrompt = false;
      if (this.options.skip_prompt) return;
    } else if (ids.length > 1) {
      throw new Error('TextStreamer only supports batch size 1');
    }
    let piece = '';
    for (const id of ids) piece += this.decoder.push(id);
    this.emit(piece);
  }

  end(): void {
    this.emit(this.decoder.flush());
    this.nextIsPrompt = true;
  }

  private emit(piece: string): void {
    if (piece.length === 0) return;
    this.text += piece;
    this.write(piece);
  }
}

/** A streamer that calls `onToken(ids, step)` for each generation step (the prompt is skipped). */
export class CallbackStreamer implements BaseStreamer {
  private step = -1;
  constructor(
    private readonly onToken: (ids: readonly number[], step: number) => void,
    private readonly onEnd: () => void = () => {},
  ) {}
  put(ids: readonly number[]): void {
    if (this.step >= 0) this.onToken(ids, this.step);
    this.step++;
  }
  end(): void {
    this.onEnd();
  }
}
