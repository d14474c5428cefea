// The bytes of a memory window that changed, as the vector format's `mo`: runs
// [offset, "hex", offset, "hex", ...] of two equal-length hex strings. Shared by the recorder
// (generate.mjs) and the native differential test (cpu-native.ts).
export function memDiff(before, after) {
  const out = [];
  for (let i = 0; i < after.length / 2;) {
    if (after.substr(2 * i, 2) === before.substr(2 * i, 2)) { i++; continue; }
    let j = i;
    while (j < after.length / 2 && after.substr(2 * j, 2) !== before.substr(2 * j, 2)) j++;
    out.push(i, after.slice(2 * i, 2 * j));
    i = j;
  }
  return out;
}
