// Tiny helpers for the inspector's markup: escaping, hex, and table rows. The panel re-renders
// each section body from a snapshot ~4×/s, as strings (no framework, no dependency).

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function hex(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined) return "—";
  return `0x${v.toString(16).padStart(digits, "0")}`;
}

/** A table: header cells and rows of already-escaped cells (cells may carry attributes). */
export function table(head: string[], rows: string[], attrs = ""): string {
  return `<table ${attrs}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** A cell whose value is watched by step mode: `path` names it in the device snapshot. */
export function cell(path: string, content: string): string {
  return `<td data-path="${esc(path)}">${content}</td>`;
}
