// Beam search bookkeeping, as transformers 4.43's BeamSearchScorer and BeamHypotheses (generation/beam_search.py).
//
// Each batch item keeps `num_beams` running beams and an n-best list of finished hypotheses. Every step the
// caller proposes the best candidates (beam, token, cumulative log-prob) for each batch item, best first;
// process() sends eos candidates to the n-best list and keeps the first num_beams others as the next beams.
// finalize() adds the still-running beams at the end and returns the best hypotheses, padded.

/** A finished hypothesis: its score (sum_logprobs / generated_len ** length_penalty), tokens, beam path. */
export interface BeamHypothesis {
  score: number;
  /** the whole sequence, prompt included, WITHOUT the eos that finished it */
  tokens: number[];
  /** the (global) beam row each generated token came from, eos step included; null when not tracked */
  beam_indices: number[] | null;
}

/** The n-best list of finished hypotheses of one batch item. */
export class BeamHypotheses {
  beams: BeamHypothesis[] = [];
  /** the worst kept score (1e9 while the list is empty, as HF) */
  worst_score = 1e9;

  constructor(
    readonly num_beams: number,
    readonly length_penalty: number,
    readonly early_stopping: boolean | 'never',
    readonly max_length: number,
  ) {}

  get length(): number {
    return this.beams.length;
  }

  /** Adds a hypothesis if the list has room or it beats the worst kept one (which is then dropped). */
  add(tokens: number[], sum_logprobs: number, beam_indices: number[] | null, generated_len: number): void {
    const score = sum_logprobs / generated_len ** this.length_penalty;
    if (this.beams.length < this.num_beams || score > this.worst_score) {
      this.beams.push({ score, tokens, beam_indices });
      if (this.beams.length > this.num_beams) {
        // Python's sorted([(score, idx)]): by score, ties by position
        const order = this.beams.map((b, i) => [b.score, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        this.beams.splice(order[0]![1], 1);
        this.worst_score = order[1]![0];
      } else {
        this.worst_score = Math.min(score, this.worst_score);
      }
    }
  }

  /**
   * Whether no running beam can still beat the worst kept hypothesis. `cur_len` is the length the candidates
   * have (the sequence before this step's token, plus one), `best_sum_logprobs` the best candidate's sum.
   */
  is_done(best_sum_logprobs: number, cur_len: number, decoder_prompt_len: number): boolean {
    if (this.beams.length < this.num_beams) return false;
    if (this.early_stopping === true) return true;
    let denominator = cur_len - decoder_prompt_len;
    // "never": with a positive length penalty the best attainable score uses the longest possible length
    if (this.early_stopping === 'never' && this.length_penalty > 0) denominator = this.max_length - decoder_prompt_len;
    const highest_attainable_score = best_sum_logprobs / denominator ** this.length_penalty;
    return this.worst_score >= highest_attainable_score;
  }
}

/** One proposed continuation: which beam of the batch item (0..num_beams-1), which token, its cumulative score. */
export interface BeamCandidate {
  beam: number;
  token: number;
  score: number;
}

export interface BeamStep {
  /** [batch * num_beams]: the running sums of the next beams */
  next_beam_scores: Float32Array;
  /** [batch * num_beams]: the token each next beam appends */
  next_beam_tokens: number[];
  /** [batch * num_beams]: the (global) row each next beam continues */
  next_beam_indices: number[];
}

export interface BeamSearchOutput {
  sequences: number[][];
  sequences_scores: number[];
  /** per returned sequence, the global beam row of each generated token, padded with -1; null when not tracked */
  beam_indices: number[][] | null;
}

export class BeamSearchScorer {
  readonly beam_hyps: BeamHypotheses[];
  readonly done: boolean[];

  constructor(
    readonly batch_size: number,
    readonly num_beams: number,
    readonly length_penalty = 1.0,
    readonly do_early_stopping: boolean | 'never' = false,
    readonly num_beam_hyps_to_keep = 1,
    readonly max_length = 20,
  ) {
    if (!Number.isInteger(num_beams) || num_beams <= 1) {
      throw new RangeError(`\`num_beams\` has to be an integer strictly greater than 1, but is ${num_beams}. For \`num_beams\` == 1, one should make use of \`greedy_search\` instead.`);
    }
    this.beam_hyps = Array.from({ length: batch_size }, () => new BeamHypotheses(num_beams, length_penalty, do_early_stopping, max_length));
    this.done = new Array<boolean>(batch_size).fill(false);
  }

  get is_done(): boolean {
    return this.done.every(Boolean);
  }

  /**
   * One step. `input_ids` are the current rows [batch * num_beams][cur_len]; `candidates[b]` the best
   * continuations of batch item b, best first (at least num_beams non-eos ones among them).
   */
  process(
    input_ids: readonly number[][],
    candidates: readonly BeamCandidate[][],
    pad_token_id: number | null,
    eos_token_id: readonly number[],
    beam_indices: readonly number[][] | null,
    decoder_prompt_len: number,
  ): BeamStep {
    const nb = this.num_beams;
    const cur_len = input_ids[0]!.length + 1; // the length the candidates' scores were computed for
    const next_beam_scores = new Float32Array(this.batch_size * nb);
    const next_beam_tokens = new Array<number>(this.batch_size * nb).fill(0);
    const next_beam_indices = new Array<number>(this.batch_size * nb).fill(0);
    for (let b = 0; b < this.batch_size; b++) {
      const hyps = this.beam_hyps[b]!;
      if (this.done[b]) {
        // a finished batch item keeps stepping with pad tokens (score 0, row 0), as HF does
        if (pad_token_id === null) throw new Error('Generated beams >= num_beams -> eos_token_id and pad_token have to be defined');
        for (let j = 0; j < nb; j++) next_beam_tokens[b * nb + j] = pad_token_id;
        continue;
      }
      let beam_idx = 0;
      for (let rank = 0; rank < candidates[b]!.length; rank++) {
        const { beam, token, score } = candidates[b]![rank]!;
        const row = b * nb + beam;
        if (eos_token_id.includes(token)) {
          // an eos ranked below the top num_beams is not a hypothesis
          if (rank >= nb) continue;
          const path = beam_indices ? [...beam_indices[row]!, row] : null;
          hyps.add([...input_ids[row]!], score, path, cur_len - decoder_prompt_len);
        } else {
          next_beam_scores[b * nb + beam_idx] = score;
          next_beam_tokens[b * nb + beam_idx] = token;
          next_beam_indices[b * nb + beam_idx] = row;
          beam_idx++;
        }
        if (beam_idx === nb) break;
      }
      if (beam_idx < nb) {
        throw new Error(`At most ${nb} tokens in the candidates can be equal to \`eos_token_id: [${eos_token_id.join(', ')}]\`.`);
      }
      let best = -Infinity;
      for (const c of candidates[b]!) if (c.score > best) best = c.score;
      this.done[b] = this.done[b]! || hyps.is_done(best, cur_len, decoder_prompt_len);
    }
    return { next_beam_scores, next_beam_tokens, next_beam_indices };
  }

  /** Adds the running beams of unfinished batch items, then returns the best hypotheses, best first. */
  finalize(
    input_ids: readonly number[][],
    final_beam_scores: ArrayLike<number>,
    max_length: number,
    pad_token_id: number | null,
    eos_token_id: readonly number[],
    beam_indices: readonly number[][] | null,
    decoder_prompt_len: number,
  ): BeamSearchOutput {
    const nb = this.num_beams;
    for (let b = 0; b < this.batch_size; b++) {
      if (this.done[b]) continue;
      for (let j = 0; j < nb; j++) {
        const row = b * nb + j;
        const tokens = [...input_ids[row]!];
        this.beam_hyps[b]!.add(tokens, final_beam_scores[row]!, beam_indices ? [...beam_indices[row]!] : null, tokens.length - decoder_prompt_len);
      }
    }
    const best: BeamHypothesis[] = [];
    for (const hyps of this.beam_hyps) {
      // Python: sorted(beams, key=score) then pop() from the end, so among equal scores the LAST added comes first
      const sorted = hyps.beams.map((h, i) => [h, i] as const).sort((a, b) => a[0].score - b[0].score || a[1] - b[1]);
      for (let j = 0; j < this.num_beam_hyps_to_keep; j++) best.push(sorted.pop()![0]);
    }
    const lengths = best.map((h) => h.tokens.length);
    const sent_max_len = Math.min(lengths.reduce((a, b) => Math.max(a, b), 0) + 1, max_length);
    const sequences: number[][] = [];
    const indices: number[][] | null = beam_indices ? [] : null;
    for (const h of best) {
      const row = new Array<number>(sent_max_len);
      for (let t = 0; t < sent_max_len; t++) row[t] = t < h.tokens.length ? h.tokens[t]! : pad_token_id ?? 0;
      // a hypothesis shorter than the output gets its eos back (only the first eos id)
      if (h.tokens.length < sent_max_len) {
        if (eos_token_id.length === 0) throw new Error('beam search finalize: a shorter hypothesis needs an eos_token_id');
        row[h.tokens.length] = eos_token_id[0]!;
      }
      sequences.push(row);
      if (indices) indices.push(Array.from({ length: sent_max_len }, (_, t) => h.beam_indices?.[t] ?? -1));
    }
    return { sequences, sequences_scores: best.map((h) => Math.fround(h.score)), beam_indices: indices };
  }
}
