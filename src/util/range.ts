/** 0, 1, …, n − 1: the loop indices the code generators unroll over. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
