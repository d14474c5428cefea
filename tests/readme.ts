// The commands README.md tells a user to run, read from its text: every line of a shell code block
// and every inline `code` span that starts with a host command (npm, npx, node, or an executable
// file of the repository). A block of commands for the guest's shell (its first word is none of
// those) goes with the `npm run boot -- …` span just before it, as the README tells it.
import { accessSync, constants, statSync } from "node:fs";
import { join } from "node:path";

export interface DocCommand {
  /** The command as a user types it: continuation lines joined, comment removed, spaces folded. */
  text: string;
  /** The comment after it on its line, if any (what the README says it does). */
  comment: string;
  /** 1-based line of the README where it starts. */
  line: number;
  /** For a guest block: the lines typed at the guest's shell, in order. */
  guest?: string[];
}

const SHELL_BLOCK = /^(sh|bash|shell|console)$/;
const HOST_WORDS = new Set(["npm", "npx", "node"]);

/** The README's commands, each once (the first place it appears), in README order. */
export function readmeCommands(readme: string, root: string): DocCommand[] {
  const out: DocCommand[] = [];
  const seen = new Set<string>();
  const add = (c: DocCommand) => {
    if (seen.has(c.text + "\0" + (c.guest ?? []).join("\n"))) return;
    seen.add(c.text + "\0" + (c.guest ?? []).join("\n"));
    out.push(c);
  };
  const isHost = (text: string) => {
    const word = text.replace(/^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+/, "").split(" ")[0]!; // past VAR=value
    return HOST_WORDS.has(word) || (word.includes("/") && isExecutable(join(root, word)));
  };
  const lines = readme.split("\n");
  let prose: { text: string; line: number }[] = [];
  let lastBootSpan: string | undefined;
  const flushProse = () => {
    for (const span of inlineSpans(prose)) {
      if (!isHost(span.text)) continue;
      add({ text: span.text, comment: "", line: span.line });
      if (span.text.startsWith("npm run boot")) lastBootSpan = span.text;
    }
    prose = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!fence) {
      prose.push({ text: lines[i]!, line: i + 1 });
      continue;
    }
    flushProse();
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    if (SHELL_BLOCK.test(fence[2]!)) {
      const cmds = blockCommands(lines.slice(start, end), start + 1);
      if (cmds.length > 0 && !isHost(cmds[0]!.text)) {
        if (!lastBootSpan) throw new Error(`README line ${start}: guest commands with no \`npm run boot -- …\` before them`);
        add({ text: lastBootSpan, comment: "", line: start, guest: cmds.map((c) => c.text) });
      } else for (const c of cmds) add(c);
    }
    i = end;
  }
  flushProse();
  return out;
}

/** A code block's commands: `\` continuations joined, `# comments` split off. */
function blockCommands(lines: string[], firstLine: number): DocCommand[] {
  const out: DocCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = i + firstLine;
    let raw = lines[i]!;
    while (raw.trimEnd().endsWith("\\") && i + 1 < lines.length) raw = raw.trimEnd().slice(0, -1) + " " + lines[++i]!;
    const { code, comment } = splitComment(raw);
    const text = fold(code);
    if (text) out.push({ text, comment, line });
  }
  return out;
}

/** Split a shell line at its comment: a `#` at a word's start, outside quotes. */
export function splitComment(line: string): { code: string; comment: string } {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = "";
      else if (c === "\\" && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "\\") i++;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return { code: line.slice(0, i), comment: line.slice(i + 1).trim() };
  }
  return { code: line, comment: "" };
}

/** Inline code spans of a run of prose lines (a span may cross a line break: it reads as a space). */
function inlineSpans(prose: { text: string; line: number }[]): { text: string; line: number }[] {
  const text = prose.map((p) => p.text).join("\n");
  const out: { text: string; line: number }[] = [];
  // CommonMark: a span opens and closes with backtick runs of the same length.
  for (const m of text.matchAll(/(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g)) {
    const before = text.slice(0, m.index).split("\n").length - 1;
    out.push({ text: fold(m[2]!), line: prose[before]!.line });
  }
  return out;
}

function fold(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
