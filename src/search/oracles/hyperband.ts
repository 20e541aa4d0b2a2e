// Hyperband: brackets of successive halving over the number of epochs. A bracket starts many
// configurations with few epochs, keeps the best 1/factor of them at each round and trains
// those factor times longer; brackets trade breadth for depth, from the most aggressive one
// down to plain full-length training.
//
// A promoted trial carries `resumedFrom`, `initialEpoch` (the epochs already done) and `epochs`
// (the epoch to reach). The tuner continues the earlier model from its weights when it still
// has them, and otherwise trains the configuration from scratch up to `epochs`.
//
// With several trials running at once, a round's promotions wait until every trial of the
// round before has reported (populateSpace answers 'wait'); the first round of the next
// bracket does not wait for the last round of this one.
// see: Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization",
//      JMLR 2018; bracket sizes as in KerasTuner's Hyperband oracle.

import { Oracle, type OracleArgs, type OracleState, type Trial, type TrialRequest } from './oracle.js';

export interface HyperbandArgs extends OracleArgs {
  /** Epochs of the longest training (the last round of every bracket). */
  maxEpochs: number;
  /** Reduction factor between rounds (default 3). */
  factor?: number;
  /** Times the whole set of brackets is run (default 1). */
  hyperbandIterations?: number;
}

interface HyperbandState {
  iteration: number;
  bracket: number;
  round: number;
  /** Trial ids per round of the current bracket. */
  rounds: string[][];
}

/**
 * @example
 * ```ts
 * const oracle = new Hyperband({ maxEpochs: 9, factor: 3 }); // brackets of 9, 5 and 3 configurations
 * ```
 */
export class Hyperband extends Oracle {
  readonly algorithm = 'Hyperband';
  readonly maxEpochs: number;
  readonly factor: number;
  readonly hyperbandIterations: number;
  private state: HyperbandState;

  constructor(args: HyperbandArgs) {
    super(args);
    this.maxEpochs = args.maxEpochs;
    this.factor = args.factor ?? 3;
    this.hyperbandIterations = args.hyperbandIterations ?? 1;
    if (this.medianStopping) throw new Error('kerasm.Hyperband: medianStopping is for oracles that train every trial to the end; Hyperband already stops trials at the end of its rounds');
    if (!Number.isInteger(this.maxEpochs) || this.maxEpochs < 1) throw new Error(`kerasm.Hyperband: expected maxEpochs to be a positive integer, got ${this.maxEpochs}`);
    if (!(this.factor >= 2)) throw new Error(`kerasm.Hyperband: expected factor >= 2, got ${this.factor}`);
    this.state = { iteration: 0, bracket: this.numBrackets - 1, round: 0, rounds: [[]] };
  }

  get numBrackets(): number {
    let epochs = this.maxEpochs;
    let brackets = 0;
    while (epochs >= 1) {
      epochs /= this.factor;
      brackets++;
    }
    return brackets;
  }

  /** Configurations in a round of a bracket. */
  roundSize(bracket: number, round: number): number {
    const lastBracketEnd = Math.ceil(1 + Math.log(this.maxEpochs) / Math.log(this.factor) - 1e-9);
    return Math.ceil((lastBracketEnd / (bracket + 1)) * this.factor ** (bracket - round) - 1e-9);
  }

  /** Epochs reached at the end of a round of a bracket. */
  roundEpochs(bracket: number, round: number): number {
    return Math.ceil(this.maxEpochs / this.factor ** (bracket - round) - 1e-9);
  }

  override get resumableTrialIds(): ReadonlySet<string> {
    return new Set(this.state.rounds.flat());
  }

  protected propose(trialId: string): TrialRequest | 'wait' | 'exhausted' {
    const s = this.state;
    for (;;) {
      if (s.iteration >= this.hyperbandIterations) return 'exhausted';
      const size = this.roundSize(s.bracket, s.round);
      const current = s.rounds[s.round];
      if (s.round === 0 && current.length < size) {
        const values = this.sampleUnseen(this.rngFor(trialId));
        if (values === null) return 'exhausted';
        current.push(trialId);
        return { values, epochs: this.roundEpochs(s.bracket, 0), initialEpoch: 0 };
      }
      if (s.round > 0) {
        // A round's best are known only when all of it has reported.
        if (s.rounds[s.round - 1].some((id) => this.running.has(id))) return 'wait';
        const promoted = new Set(current.map((id) => this.trials.get(id)?.resumedFrom ?? this.running.get(id)?.resumedFrom));
        const next = this.best(s.rounds[s.round - 1], size).find((t) => !promoted.has(t.trialId));
        if (next) {
          current.push(trialId);
          return {
            values: { ...next.hyperparameters },
            epochs: this.roundEpochs(s.bracket, s.round),
            initialEpoch: this.roundEpochs(s.bracket, s.round - 1),
            resumedFrom: next.trialId,
          };
        }
      }
      this.advance();
    }
  }

  /** The best `count` completed trials among `ids`. */
  private best(ids: string[], count: number): Trial[] {
    const done = ids.map((id) => this.trials.get(id)).filter((t): t is Trial => t !== undefined && t.status === 'completed' && Number.isFinite(t.score));
    return this.byScore(done).slice(0, count);
  }

  private advance(): void {
    const s = this.state;
    s.round++;
    if (s.round > s.bracket) {
      s.bracket--;
      s.round = 0;
      s.rounds = [];
      if (s.bracket < 0) {
        s.iteration++;
        s.bracket = this.numBrackets - 1;
      }
    }
    s.rounds[s.round] ??= [];
  }

  override getState(): OracleState {
    return { hyperband: structuredClone(this.state) };
  }

  override setState(state: OracleState): void {
    const h = state.hyperband as HyperbandState | undefined;
    if (h) this.state = structuredClone(h);
  }
}
