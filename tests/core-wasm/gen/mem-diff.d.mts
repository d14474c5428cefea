/** See mem-diff.mjs. */
export function memDiff(before: string, after: string): (number | string)[];
