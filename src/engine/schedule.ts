// Learning-rate schedules as pure functions of the step, so a resumed run needs no schedule state.
export type Schedule = (step: number) => number;

/** base × gamma^(number of milestones ≤ step): the SR convention (e.g. halve at 50 % and 90 % of training). */
export function multiStep(base: number, milestones: readonly number[], gamma: number): Schedule {
  return (step) => base * gamma ** milestones.filter((m) => step >= m).length;
}

/** Cosine annealing from base to min over total steps, then held at min. */
export function cosine(base: number, total: number, min = 0): Schedule {
  return (step) => min + ((base - min) * (1 + Math.cos((Math.PI * Math.min(step, total)) / total))) / 2;
}
